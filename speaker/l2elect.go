package speaker

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/ironlb/ironlb/l2/announcer"
	"github.com/ironlb/ironlb/l2/election"
	"github.com/ironlb/ironlb/l2/members"
	"github.com/ironlb/ironlb/state"
)

// l2Inputs is what one node's Layer 2 election is computed from.
type l2Inputs struct {
	cluster *state.Cluster
	node    string
	// self is this node's own metadata: the same it publishes.
	self nodeMeta
	// view is the memberlist view; nil when memberlist is off.
	view *members.View
}

// electL2 runs the election as every node runs it, and returns the
// result and the live nodes. With memberlist, the live members are the
// candidates, as far as their metadata lets them (interfaces, drain);
// this node drops out when the others refused it. Without memberlist,
// the nodes whose Ready condition is true are.
func electL2(in l2Inputs) (election.Result, []string) {
	if in.view == nil {
		var live []string
		for _, n := range in.cluster.Nodes {
			if n.Ready {
				live = append(live, n.Name)
			}
		}
		var draining []string
		if in.self.Draining {
			draining = []string{in.node}
		}
		return election.Elect(withDraining(in.cluster, draining), live), live
	}
	metas := map[string]nodeMeta{}
	for name, raw := range in.view.Meta {
		if m, ok := decodeMeta(raw); ok {
			metas[name] = m
		}
	}
	metas[in.node] = in.self
	live := slices.Clone(in.view.Live)
	if in.view.Refused != "" {
		live = slices.DeleteFunc(live, func(n string) bool { return n == in.node })
	}
	var draining []string
	for _, n := range live {
		if metas[n].Draining {
			draining = append(draining, n)
		}
	}
	res := election.ElectWith(withDraining(in.cluster, draining), live, election.Options{
		CanAnnounce: func(node string, allowed []string) bool {
			m, ok := metas[node]
			return ok && m.canAnnounce(allowed)
		},
	})
	return res, live
}

// withDraining returns the cluster with the named nodes cordoned, as
// for a drain: they hand their IPs over.
func withDraining(c *state.Cluster, names []string) *state.Cluster {
	if len(names) == 0 {
		return c
	}
	out := *c
	out.Nodes = slices.Clone(c.Nodes)
	for i := range out.Nodes {
		if slices.Contains(names, out.Nodes[i].Name) {
			out.Nodes[i].Unschedulable = true
		}
	}
	return &out
}

// ownedServices returns the Services the node announces.
func ownedServices(res election.Result, node string) map[serviceRef]bool {
	out := map[serviceRef]bool{}
	for _, s := range res.Services {
		if s.Node == node {
			out[serviceRef{Namespace: s.Namespace, Name: s.Name}] = true
		}
	}
	return out
}

// l2StatusWant returns the ServiceL2Status the node should have: one per
// Service it owns and announces on some interface, with the interfaces
// of its IPs, sorted. c.Services is sorted by key, as state builds it.
func l2StatusWant(c *state.Cluster, owned map[serviceRef]bool, st []announcer.IPStatus) map[serviceRef][]string {
	on := map[netip.Addr][]string{}
	for _, s := range st {
		if !s.Handover {
			on[s.IP] = s.Interfaces
		}
	}
	want := map[serviceRef][]string{}
	// The owned Services are looked up in the sorted list: a node owns
	// few of them, and a walk over 10,000 BGP-only Services took a good
	// part of each reconcile.
	for ref := range owned {
		i, found := slices.BinarySearchFunc(c.Services, state.Service{Namespace: ref.Namespace, Name: ref.Name}, state.CompareKeys)
		if !found {
			continue
		}
		s := c.Services[i]
		var names []string
		for _, ip := range s.IPs {
			names = append(names, on[ip.Unmap()]...)
		}
		if len(names) == 0 {
			continue
		}
		slices.Sort(names)
		want[ref] = slices.Compact(names)
	}
	return want
}

// ownerChanges returns the Services the node gained and lost, sorted.
func ownerChanges(before, after map[serviceRef]bool) (gained, lost []serviceRef) {
	for ref := range after {
		if !before[ref] {
			gained = append(gained, ref)
		}
	}
	for ref := range before {
		if !after[ref] {
			lost = append(lost, ref)
		}
	}
	byName := func(a, b serviceRef) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	}
	slices.SortFunc(gained, byName)
	slices.SortFunc(lost, byName)
	return gained, lost
}
