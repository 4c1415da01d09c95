package frr

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/ironlb/ironlb/state"
)

// prefixes are the routes the node announces.
type prefixes struct {
	// class is the class of each prefix.
	class map[netip.Prefix]*class
	// sorted are the prefixes of each family in address order.
	sorted [2][]netip.Prefix
	// announced lists, per Service, the peers it is announced to.
	announced []ServicePeers
}

// prefixes computes the routes of the Services the node announces (see
// serviceRoutes), giving a prefix that several classes produce the union
// of those classes, and lists the peers of each Service. It then numbers
// the classes.
func (b *builder) prefixes(services []state.Service) *prefixes {
	px := &prefixes{class: make(map[netip.Prefix]*class, len(services)), announced: make([]ServicePeers, 0, len(services))}
	var routes []svcRoute
	var peers []int
	for i := range services {
		s := &services[i]
		routes, peers = b.serviceRoutes(s, routes[:0], peers[:0])
		for _, rt := range routes {
			switch cur, ok := px.class[rt.prefix]; {
			case !ok:
				px.class[rt.prefix] = rt.class
			case cur != rt.class:
				px.class[rt.prefix] = b.union(cur, rt.class)
			}
		}
		if sp, ok := b.servicePeers(s, peers); ok {
			px.announced = append(px.announced, sp)
		}
	}
	slices.SortFunc(px.announced, func(x, y ServicePeers) int { return cmp.Compare(x.Service, y.Service) })
	for p := range px.class {
		f := familyOf(p.Addr())
		px.sorted[f] = append(px.sorted[f], p)
	}
	for f := range px.sorted {
		slices.SortFunc(px.sorted[f], comparePrefixes)
	}
	b.numberClasses()
	return px
}

// svcRoute is a prefix one Service produces, with the class of the group
// that produces it (before any union).
type svcRoute struct {
	prefix netip.Prefix
	class  *class
}

// serviceRoutes appends to routes the routes of Service s, and to peers
// the indexes of the peers they go to, unsorted and repeated: each IP of
// the Service, in every group of its pool, masked to the group's length,
// and, when advertisements with serviceSelectors of its pool select it,
// its full-length route with their class instead of the group's (see
// selection). A Service with externalTrafficPolicy Cluster is announced
// while any node serves it, one with Local only while this node does; it
// appends nothing for a Service the node does not announce.
func (b *builder) serviceRoutes(s *state.Service, routes []svcRoute, peers []int) ([]svcRoute, []int) {
	gs, ok := b.groups[s.Pool]
	if !ok || !b.serves(s) {
		return routes, peers
	}
	var sl *selection
	var matched []int
	if b.selections != nil {
		if sl = b.selections[s.Pool]; sl != nil {
			for k, i := range sl.advs {
				if b.advs[i].SelectsService(s.Labels) {
					matched = append(matched, k)
				}
			}
		}
	}
	add := func(p netip.Prefix, c *class, f family) {
		routes = append(routes, svcRoute{prefix: p, class: c})
		for _, r := range c.receivers {
			if b.peerList[r].active[f] {
				peers = append(peers, r)
			}
		}
	}
	for _, ip := range s.IPs {
		ip = ip.Unmap().WithZone("")
		if !ip.IsValid() {
			continue
		}
		f := familyOf(ip)
		for _, g := range gs[f] {
			if len(matched) > 0 && g.bits == fullBits(f) {
				continue // the selected class below covers this group
			}
			add(netip.PrefixFrom(ip, g.bits).Masked(), g.class, f)
		}
		if len(matched) > 0 {
			add(netip.PrefixFrom(ip, fullBits(f)), b.selectedClass(sl, f, matched), f)
		}
	}
	return routes, peers
}

// servicePeers returns the Announced entry of Service s from the peer
// indexes serviceRoutes found, which it sorts in place, or false when
// there are none.
func (b *builder) servicePeers(s *state.Service, peers []int) (ServicePeers, bool) {
	if len(peers) == 0 {
		return ServicePeers{}, false
	}
	slices.Sort(peers)
	peers = slices.Compact(peers)
	names := make([]string, len(peers))
	for j, r := range peers {
		names[j] = b.peerList[r].Name
	}
	return ServicePeers{Service: s.Key(), Peers: names}, true
}

// serves reports whether the node announces the Service, by its traffic
// policy and endpoints.
func (b *builder) serves(s *state.Service) bool {
	if s.ETPLocal {
		return s.ServedOn(b.node.Name)
	}
	return s.HasServingEndpoint()
}

// comparePrefixes orders prefixes by address, then length: the order of
// FRR's route table, in which a prefix comes before those it covers.
func comparePrefixes(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

// networks returns the network statements of family f in router r: the
// prefixes whose class has a receiver there.
func (px *prefixes) networks(f family, r int) []Network {
	var out []Network
	for _, p := range px.sorted[f] {
		if c := px.class[p]; c.recv[f][r] {
			out = append(out, Network{Prefix: p, RouteMap: c.routeMap})
		}
	}
	return out
}
