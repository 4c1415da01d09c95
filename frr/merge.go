package frr

import (
	"cmp"
	"maps"
	"net/netip"
	"reflect"
	"slices"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/state"
)

// The merge walks of Builder: sorted lists of Services, Announced
// entries and network statements, diffed and patched in one pass.

// dropUnchanged removes the entries that del and add, both sorted by
// Service, hold alike: a changed Service still announced to the same
// peers, as when its endpoints move, changes nothing in Announced.
func dropUnchanged(del, add []ServicePeers) ([]ServicePeers, []ServicePeers) {
	var outDel, outAdd []ServicePeers
	i, j := 0, 0
	for i < len(del) || j < len(add) {
		var c int
		switch {
		case j == len(add):
			c = -1
		case i == len(del):
			c = 1
		default:
			c = cmp.Compare(del[i].Service, add[j].Service)
		}
		switch {
		case c < 0:
			outDel = append(outDel, del[i])
			i++
		case c > 0:
			outAdd = append(outAdd, add[j])
			j++
		default:
			if !slices.Equal(del[i].Peers, add[j].Peers) {
				outDel, outAdd = append(outDel, del[i]), append(outAdd, add[j])
			}
			i, j = i+1, j+1
		}
	}
	return outDel, outAdd
}

// diffServices merge-walks the previous Services, sorted by key, and the
// new ones: gone are the previous Services removed or changed, come the
// new Services added or changed, both in key order. It reports false when
// the new Services are not strictly sorted by key.
func diffServices(prev []*state.Service, next []state.Service) (gone, come []*state.Service, ok bool) {
	i, j := 0, 0
	// matched tells that next[j-1] has the key of a previous Service.
	// Two such neighbours are in order, as prev is; any other pair must
	// be compared.
	matched := false
	for i < len(prev) || j < len(next) {
		var c int
		switch {
		case j == len(next):
			c = -1
		case i == len(prev):
			c = 1
		default:
			c = compareServiceKeys(prev[i], &next[j])
		}
		switch {
		case c < 0:
			gone = append(gone, prev[i])
			i++
		case c > 0:
			if j > 0 && compareServiceKeys(&next[j-1], &next[j]) >= 0 {
				return nil, nil, false
			}
			come = append(come, &next[j])
			j++
			matched = false
		default:
			if j > 0 && !matched && compareServiceKeys(&next[j-1], &next[j]) >= 0 {
				return nil, nil, false
			}
			if !sameValue(prev[i], &next[j]) {
				gone, come = append(gone, prev[i]), append(come, &next[j])
			}
			i, j = i+1, j+1
			matched = true
		}
	}
	return gone, come, true
}

// compareServiceKeys orders Services as package state sorts them
// (state.CompareKeys), which assumes no namespace holds a '/'.
func compareServiceKeys(a, b *state.Service) int { return state.CompareKeys(*a, *b) }

// sameService reports whether two Services are equal, slices compared
// by value. TestSameFieldsCovered fails when state.Service gains a field.
func sameService(a, b *state.Service) bool {
	return a.Namespace == b.Namespace && a.Name == b.Name && sameValue(a, b)
}

// sameValue is sameService for two Services of the same key.
func sameValue(a, b *state.Service) bool {
	return a.Pool == b.Pool && a.ETPLocal == b.ETPLocal && a.SharingKey == b.SharingKey &&
		slices.Equal(a.IPs, b.IPs) && slices.Equal(a.ServingNodes, b.ServingNodes) && sameLabels(a.Labels, b.Labels)
}

// sameLabels reports whether two label sets are equal. An unchanged
// Service from a state.Store keeps its map, and the Builder's copy
// shares it, so the merge walk over every Service mostly compares two
// pointers instead of every label.
func sameLabels(a, b labels.Set) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 || reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer() {
		return true
	}
	return maps.Equal(a, b)
}

// sameNode reports whether two nodes are equal, labels compared by
// value. TestSameFieldsCovered fails when state.Node gains a field.
func sameNode(a, b state.Node) bool {
	return a.Name == b.Name && a.Excluded == b.Excluded && a.NetworkUnavailable == b.NetworkUnavailable &&
		a.Unschedulable == b.Unschedulable && a.Ready == b.Ready && maps.Equal(a.Labels, b.Labels)
}

// cloneService returns a copy of s that shares no slice with it.
func cloneService(s *state.Service) state.Service {
	out := *s
	out.IPs = slices.Clone(s.IPs)
	out.ServingNodes = slices.Clone(s.ServingNodes)
	return out
}

// cloneServices returns copies of the Services that share no slice with
// them, their slices cut from two allocations.
func cloneServices(svcs []state.Service) []state.Service {
	nIPs, nNodes := 0, 0
	for i := range svcs {
		nIPs += len(svcs[i].IPs)
		nNodes += len(svcs[i].ServingNodes)
	}
	ips := make([]netip.Addr, 0, nIPs)
	nodes := make([]string, 0, nNodes)
	out := make([]state.Service, len(svcs))
	for i, s := range svcs {
		if s.IPs != nil {
			k := len(ips)
			ips = append(ips, s.IPs...)
			s.IPs = ips[k:len(ips):len(ips)]
		}
		if s.ServingNodes != nil {
			k := len(nodes)
			nodes = append(nodes, s.ServingNodes...)
			s.ServingNodes = nodes[k:len(nodes):len(nodes)]
		}
		out[i] = s
	}
	return out
}

// patchSorted appends to dst[:0] the elements of s, which is sorted by
// compare, without those equal to an element of del and with those of add,
// in order. del and add must be strictly sorted by compare, each element of
// del must be in s and no element of add may remain in s; otherwise it
// returns false. It finds each edit by binary search and copies the runs
// between edits whole, so a few edits cost little more than a copy.
func patchSorted[T any](dst, s, del, add []T, compare func(T, T) int) ([]T, bool) {
	n := len(s) + len(add) - len(del)
	if n < 0 {
		return nil, false
	}
	out := slices.Grow(dst[:0], n)
	i, d, a := 0, 0, 0
	for d < len(del) || a < len(add) {
		var x T
		isDel := d < len(del) && (a == len(add) || compare(del[d], add[a]) <= 0)
		if isDel {
			if d > 0 && compare(del[d-1], del[d]) >= 0 {
				return nil, false
			}
			x, d = del[d], d+1
		} else {
			if a > 0 && compare(add[a-1], add[a]) >= 0 {
				return nil, false
			}
			x, a = add[a], a+1
		}
		k, found := slices.BinarySearchFunc(s[i:], x, compare)
		out = append(out, s[i:i+k]...)
		i += k
		switch {
		case isDel && !found, !isDel && found:
			return nil, false
		case isDel:
			i++
		default:
			out = append(out, x)
		}
	}
	return append(out, s[i:]...), true
}
