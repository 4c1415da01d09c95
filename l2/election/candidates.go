package election

import (
	"net/netip"
	"slices"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/state"
)

// ifaces is the set of interfaces a node may announce an IP on.
type ifaces struct {
	// all is set when some advertisement allows every interface.
	all   bool
	names []string
}

func (f *ifaces) add(names []string) {
	if len(names) == 0 {
		f.all = true
		return
	}
	for _, n := range names {
		if !slices.Contains(f.names, n) {
			f.names = append(f.names, n)
		}
	}
}

// list returns the sorted names, or nil for every interface.
func (f ifaces) list() []string {
	if f.all || len(f.names) == 0 {
		return nil
	}
	out := slices.Clone(f.names)
	slices.Sort(out)
	return out
}

// candidate is what a candidate node may do for one Service.
type candidate struct {
	ifaces ifaces
	// pref is the node's preference for the Service: the sum of the
	// Preferences of the advertisements that select it, as MetalLB
	// counts them.
	pref int
}

// candidates maps the candidate nodes of one Service to what they may
// do for it.
type candidates map[string]candidate

// candidatesFor returns the nodes among usable that may announce a
// Service through one of ads and, when canAnnounce is set, have an
// interface for it.
func candidatesFor(s *state.Service, ads []*config.L2Advertisement, usable map[string]state.Node, canAnnounce func(string, []string) bool) candidates {
	out := candidates{}
	for name, n := range usable {
		if s.ETPLocal && !slices.Contains(s.ServingNodes, name) {
			continue
		}
		var c candidate
		selected := false
		for _, ad := range ads {
			if ad.SelectsNode(n.Labels) {
				selected = true
				c.ifaces.add(ad.Interfaces)
				c.pref += ad.Preference(n.Labels)
			}
		}
		if selected && (canAnnounce == nil || canAnnounce(name, c.ifaces.list())) {
			out[name] = c
		}
	}
	return out
}

// combine returns the candidates of a group with their preference for
// it: the nodes that are candidates for every Service of it, or, when
// there is none, those that are candidates for any. A node's
// preference is the highest it has for a Service of the group it is a
// candidate for.
func combine(per []candidates) map[string]int {
	all := make(map[string]int, len(per[0]))
	for name, c := range per[0] {
		all[name] = c.pref
	}
	for _, c := range per[1:] {
		for name, pref := range all {
			if cand, ok := c[name]; ok {
				all[name] = max(pref, cand.pref)
			} else {
				delete(all, name)
			}
		}
	}
	if len(all) > 0 {
		return all
	}
	for _, c := range per {
		for name, cand := range c {
			all[name] = max(all[name], cand.pref)
		}
	}
	return all
}

// interfacesOf merges the interfaces a node may use for the Services of
// a group it is a candidate for.
func interfacesOf(node string, per []candidates) []string {
	var f ifaces
	for _, c := range per {
		if g, ok := c[node]; ok {
			if g.ifaces.all {
				f.all = true
			}
			f.add(g.ifaces.names)
		}
	}
	return f.list()
}

// group is a set of IPs elected together and the Services on them.
type group struct {
	// key is the smallest IP; it is what candidates are ranked by.
	key      netip.Addr
	ips      []netip.Addr
	services []int
}

// grouper joins IPs that belong to one Service into groups
// (union-find).
type grouper struct {
	parent   map[netip.Addr]netip.Addr
	services map[netip.Addr][]int // by an IP of the Service
}

func newGrouper() *grouper {
	return &grouper{parent: map[netip.Addr]netip.Addr{}, services: map[netip.Addr][]int{}}
}

func (g *grouper) find(ip netip.Addr) netip.Addr {
	p, ok := g.parent[ip]
	if !ok {
		g.parent[ip] = ip
		return ip
	}
	if p == ip {
		return ip
	}
	root := g.find(p)
	g.parent[ip] = root
	return root
}

// link puts the IPs of Service svc into one group.
func (g *grouper) link(svc int, ips []netip.Addr) {
	first := g.find(ips[0])
	for _, ip := range ips[1:] {
		r := g.find(ip)
		if r == first {
			continue
		}
		// The smaller IP becomes the root, so the root is the key.
		if r.Less(first) {
			g.parent[first] = r
			first = r
		} else {
			g.parent[r] = first
		}
	}
	g.services[ips[0]] = append(g.services[ips[0]], svc)
}

// keyOf returns the key of the group an IP is in.
func (g *grouper) keyOf(ip netip.Addr) netip.Addr { return g.find(ip) }

// all returns the groups, sorted by key, with their IPs and Services
// sorted.
func (g *grouper) all() []group {
	byKey := map[netip.Addr]*group{}
	for ip := range g.parent {
		k := g.find(ip)
		gr := byKey[k]
		if gr == nil {
			gr = &group{key: k}
			byKey[k] = gr
		}
		gr.ips = append(gr.ips, ip)
	}
	for ip, svcs := range g.services {
		gr := byKey[g.find(ip)]
		gr.services = append(gr.services, svcs...)
	}
	out := make([]group, 0, len(byKey))
	for _, gr := range byKey {
		slices.SortFunc(gr.ips, netip.Addr.Compare)
		slices.Sort(gr.services)
		out = append(out, *gr)
	}
	slices.SortFunc(out, func(a, b group) int { return a.key.Compare(b.key) })
	return out
}
