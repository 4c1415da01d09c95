package frr

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/ironlb/ironlb/speaker/state"
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

// prefixes computes the routes of the Services the node announces: each
// IP of a Service, in every group of its pool, masked to the group's
// length. A Service with externalTrafficPolicy Cluster is announced
// while any node serves it, one with Local only while this node does.
// It then numbers the classes.
func (b *builder) prefixes(services []state.Service) *prefixes {
	px := &prefixes{class: make(map[netip.Prefix]*class, len(services)), announced: make([]ServicePeers, 0, len(services))}
	var peers []int
	for i := range services {
		s := &services[i]
		gs, ok := b.groups[s.Pool]
		if !ok || !b.serves(s) {
			continue
		}
		peers = peers[:0]
		for _, ip := range s.IPs {
			ip = ip.Unmap().WithZone("")
			if !ip.IsValid() {
				continue
			}
			f := familyOf(ip)
			for _, g := range gs[f] {
				p := netip.PrefixFrom(ip, g.bits).Masked()
				switch cur, ok := px.class[p]; {
				case !ok:
					px.class[p] = g.class
				case cur != g.class:
					px.class[p] = b.union(cur, g.class)
				}
				for _, r := range g.class.receivers {
					if b.peerList[r].active[f] {
						peers = append(peers, r)
					}
				}
			}
		}
		if len(peers) == 0 {
			continue
		}
		slices.Sort(peers)
		peers = slices.Compact(peers)
		names := make([]string, len(peers))
		for j, r := range peers {
			names[j] = b.peerList[r].Name
		}
		px.announced = append(px.announced, ServicePeers{Service: s.Key(), Peers: names})
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
