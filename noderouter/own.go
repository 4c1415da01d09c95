package noderouter

import (
	"net/netip"
	"slices"
	"strconv"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
)

// FromFRR returns ironlb's own announcements, the frr.Config that
// frr.Build computed for the node, as a piece of the merge: its routers
// and neighbors with the prefixes each neighbor is announced (read from
// the network statements and the route-maps, with their communities and
// local preference) and no received prefixes, since ironlb accepts none.
// A neighbor's origin is its BGPPeer. cfg may be nil.
func FromFRR(cfg *frr.Config) *Model {
	m := &Model{}
	if cfg == nil {
		return m
	}
	for _, b := range cfg.BFDProfiles {
		m.BFDProfiles = append(m.BFDProfiles, BFDProfile{BFDProfile: b, Origins: []Origin{{Kind: "BFDProfile", Name: b.Name}}})
	}
	tags, maps := routeMapIndex(cfg)
	for _, r := range cfg.Routers {
		out := Router{ASN: r.ASN, VRF: r.VRF, ID: r.RouterID}
		for _, af := range r.AddressFamilies {
			for _, nw := range af.Networks {
				out.Prefixes = append(out.Prefixes, nw.Prefix)
			}
		}
		for _, n := range r.Neighbors {
			out.Neighbors = append(out.Neighbors, ownNeighbor(&r, &n, tags, maps))
		}
		if len(r.Neighbors) > 0 {
			out.Origins = []Origin{{Kind: "BGPPeer", Name: r.Neighbors[0].Peer, Path: "router"}}
		}
		m.Routers = append(m.Routers, out)
	}
	normalize(m)
	return m
}

// routeMapIndex returns the route-maps of cfg by name, and the tag the
// origin map of each class sets: the origin route-map of a network tags
// it; a peer's outbound map has one permit entry per tag it receives.
func routeMapIndex(cfg *frr.Config) (tags map[string]uint32, maps map[string]*frr.RouteMap) {
	tags, maps = map[string]uint32{}, map[string]*frr.RouteMap{}
	for i := range cfg.RouteMaps {
		rm := &cfg.RouteMaps[i]
		maps[rm.Name] = rm
		if len(rm.Entries) == 1 && rm.Entries[0].SetTag != 0 {
			tags[rm.Name] = rm.Entries[0].SetTag
		}
	}
	return tags, maps
}

// ownSession returns ironlb's router of the VRF and its neighbor of that
// key (an address in its canonical form, or an interface), or nils.
func ownSession(cfg *frr.Config, vrf, key string) (*frr.Router, *frr.Neighbor) {
	for i := range cfg.Routers {
		r := &cfg.Routers[i]
		if r.VRF != vrf {
			continue
		}
		for j := range r.Neighbors {
			n := &r.Neighbors[j]
			k := n.Address
			if a, err := netip.ParseAddr(n.Address); err == nil && !n.Unnumbered {
				k = a.String()
			} else if n.Unnumbered {
				k = n.Interface
			}
			if k == key {
				return r, n
			}
		}
	}
	return nil, nil
}

// ownOutgoing returns what ironlb announces to one of its neighbors, as
// FromFRR reads it, sorted by prefix.
func ownOutgoing(r *frr.Router, n *frr.Neighbor, tags map[string]uint32, maps map[string]*frr.RouteMap) []OutPrefix {
	out := ownNeighbor(r, n, tags, maps).Outgoing
	slices.SortStableFunc(out, func(a, b OutPrefix) int { return comparePrefix(a.Prefix, b.Prefix) })
	return out
}

// ownNeighbor converts one of ironlb's neighbors.
func ownNeighbor(r *frr.Router, n *frr.Neighbor, tags map[string]uint32, maps map[string]*frr.RouteMap) Neighbor {
	out := Neighbor{
		Password:              n.Password,
		Timers:                n.Timers,
		ConnectTime:           n.ConnectTime,
		EBGPMultiHop:          n.EBGPMultiHop,
		BFD:                   n.BFD,
		BFDProfile:            n.BFDProfile,
		GracefulRestart:       n.GracefulRestart || r.GracefulRestart,
		SourceAddress:         n.UpdateSource,
		LocalAS:               n.LocalAS,
		DisableConnectedCheck: n.DisableConnectedCheck,
		Port:                  n.Port,
		Origins:               []Origin{{Kind: "BGPPeer", Name: n.Peer}},
	}
	if out.Port == defaultPort {
		out.Port = 0
	}
	if out.Timers != nil && *out.Timers == (frr.Timers{Hold: defaultHold, Keepalive: defaultKeepalive}) {
		out.Timers = nil
	}
	if n.Unnumbered {
		out.Interface = n.Interface
	} else if a, err := netip.ParseAddr(n.Address); err == nil {
		out.Address = a
	} else {
		out.Interface = n.Address
	}
	if asn, err := strconv.ParseUint(n.RemoteAS, 10, 32); err == nil {
		out.ASN = uint32(asn)
	} else {
		out.DynamicASN = n.RemoteAS
	}
	for _, af := range r.AddressFamilies {
		for _, afn := range af.Neighbors {
			if afn.Address != n.Address {
				continue
			}
			if out.Address.IsValid() && !n.Unnumbered && (af.Name == "ipv6 unicast") != out.Address.Is6() {
				out.DualStack = true
			}
			out.Outgoing = append(out.Outgoing, announced(af.Networks, maps[afn.RouteMapOut], tags)...)
		}
	}
	return out
}

// announced returns the networks that an outbound route-map lets out,
// with the attributes its entry sets. The attributes of an entry are
// read once; the prefixes of one entry share its community list, which
// nothing writes to.
func announced(networks []frr.Network, out *frr.RouteMap, tags map[string]uint32) []OutPrefix {
	if out == nil {
		return nil
	}
	byTag := map[uint32]OutPrefix{}
	for i := range out.Entries {
		e := &out.Entries[i]
		if e.Action != "permit" || e.MatchTag == 0 {
			continue
		}
		o := OutPrefix{SetLocalPref: e.SetLocalPref, LocalPref: e.LocalPref}
		for _, s := range e.Communities {
			if c, err := parseCommunity(s); err == nil {
				o.Communities = append(o.Communities, c)
			}
		}
		for _, s := range e.LargeCommunities {
			if c, err := config.ParseCommunity("large:" + s); err == nil {
				o.Communities = append(o.Communities, c)
			}
		}
		o.Communities = sortCommunities(o.Communities)
		o.Communities = o.Communities[:len(o.Communities):len(o.Communities)]
		byTag[e.MatchTag] = o
	}
	// A network's origin map names its tag; look each map up once.
	var lastMap string
	var last OutPrefix
	var lastOK bool
	res := make([]OutPrefix, 0, len(networks))
	for i, nw := range networks {
		if i == 0 || nw.RouteMap != lastMap {
			lastMap = nw.RouteMap
			last, lastOK = byTag[tags[nw.RouteMap]]
		}
		if !lastOK {
			continue
		}
		o := last
		o.Prefix = nw.Prefix
		res = append(res, o)
	}
	return res
}
