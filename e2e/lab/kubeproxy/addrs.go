package kubeproxy

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// serviceAddrs returns the sorted, distinct ingress IPs of a
// LoadBalancer Service, the addresses kube-proxy binds for it; none for
// other Services.
func serviceAddrs(s *corev1.Service) []netip.Addr {
	if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return nil
	}
	var out []netip.Addr
	for _, in := range s.Status.LoadBalancer.Ingress {
		if a, err := netip.ParseAddr(in.IP); err == nil {
			out = append(out, a.Unmap())
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// addrIndex counts, per address, the Services that hold it, and keeps
// the addresses the table may lack or hold wrongly until take returns
// them. A Service's change costs only its own addresses: with 10,000
// Services in the benchmarks, recomputing the whole set on every change
// made this stand-in one of the busiest processes of the lab.
type addrIndex struct {
	bySvc   map[string][]netip.Addr
	refs    map[netip.Addr]int
	pending map[netip.Addr]bool
}

func newAddrIndex() *addrIndex {
	return &addrIndex{bySvc: map[string][]netip.Addr{}, refs: map[netip.Addr]int{}, pending: map[netip.Addr]bool{}}
}

// set records the sorted addresses of the Service key; none when it is
// gone. Only addresses that gain their first holder or lose their last
// become pending.
func (x *addrIndex) set(key string, addrs []netip.Addr) {
	old := x.bySvc[key]
	for _, a := range old {
		if _, keep := slices.BinarySearchFunc(addrs, a, netip.Addr.Compare); keep {
			continue
		}
		if x.refs[a]--; x.refs[a] == 0 {
			delete(x.refs, a)
			x.pending[a] = true
		}
	}
	for _, a := range addrs {
		if _, had := slices.BinarySearchFunc(old, a, netip.Addr.Compare); had {
			continue
		}
		if x.refs[a]++; x.refs[a] == 1 {
			x.pending[a] = true
		}
	}
	if len(addrs) == 0 {
		delete(x.bySvc, key)
	} else {
		x.bySvc[key] = addrs
	}
}

// mark makes take look at addrs again: the table's addresses at start,
// and those whose change failed.
func (x *addrIndex) mark(addrs ...netip.Addr) {
	for _, a := range addrs {
		x.pending[a] = true
	}
}

// take returns, sorted, the pending addresses that some Service holds
// (to add) and those none holds (to remove), and forgets them.
func (x *addrIndex) take() (add, del []netip.Addr) {
	for a := range x.pending {
		if x.refs[a] > 0 {
			add = append(add, a)
		} else {
			del = append(del, a)
		}
	}
	clear(x.pending)
	slices.SortFunc(add, netip.Addr.Compare)
	slices.SortFunc(del, netip.Addr.Compare)
	return add, del
}
