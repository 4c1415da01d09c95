package frr

import (
	"slices"

	"github.com/ironlb/ironlb/config"
)

// routeMaps makes the inbound deny-all map, the origin map of each class
// and the outbound map of each peer. An outbound map has one entry per
// class the peer receives, whose sequence number is the class's tag, and
// a last entry that denies every other route, so the map exists (and
// denies all) even when the node announces nothing.
func (b *builder) routeMaps() []RouteMap {
	out := make([]RouteMap, 0, 1+len(b.classList)+len(b.peerList))
	out = append(out, RouteMap{Name: routeMapIn, Entries: []RouteMapEntry{{Action: "deny", Seq: 1}}})
	for _, c := range b.classList {
		out = append(out, RouteMap{Name: c.routeMap, Entries: []RouteMapEntry{{Action: "permit", Seq: 1, SetTag: c.tag}}})
	}
	for _, p := range b.peerList {
		rm := RouteMap{Name: p.outMap}
		for _, c := range b.classList {
			if e, ok := b.outEntry(p, c); ok {
				rm.Entries = append(rm.Entries, e)
			}
		}
		rm.Entries = append(rm.Entries, RouteMapEntry{Action: "deny", Seq: seqDenyRest})
		out = append(out, rm)
	}
	return out
}

// outEntry returns the entry of peer p's outbound map for class c, if
// an advertisement of the class announces to p: the communities of those
// advertisements and, toward an iBGP peer, their local preference. In
// the graceful-shutdown phase every entry adds GRACEFUL_SHUTDOWN and
// sets LOCAL_PREF 0 toward iBGP peers.
func (b *builder) outEntry(p *peer, c *class) (RouteMapEntry, bool) {
	e := RouteMapEntry{Action: "permit", Seq: c.tag, MatchTag: c.tag}
	var comms []config.Community
	var pref *adv // the first advertisement setting a local preference
	found := false
	for _, i := range c.advs {
		a := b.advs[i]
		if !slices.Contains(a.targets, p.index) {
			continue
		}
		found = true
		comms = append(comms, a.Communities...)
		if !p.ibgp || a.LocalPref == 0 {
			continue
		}
		switch {
		case pref == nil:
			pref = a
		case pref.LocalPref != a.LocalPref:
			b.fieldError(config.KindBGPAdvertisement, a.Name, "spec.localPref",
				"%d differs from localPref %d of BGPAdvertisement %q, which announces the same prefixes to iBGP BGPPeer %q on node %q",
				a.LocalPref, pref.LocalPref, pref.Name, p.Name, b.node.Name)
		}
	}
	if !found {
		return RouteMapEntry{}, false
	}
	if pref != nil {
		e.SetLocalPref, e.LocalPref = true, pref.LocalPref
	}
	if b.opts.Phase == PhaseGracefulShutdown {
		comms = append(comms, config.Community{Global: 65535, Local1: 0}) // GRACEFUL_SHUTDOWN, RFC 8326
		if p.ibgp {
			e.SetLocalPref, e.LocalPref = true, 0
		}
	}
	e.Communities, e.LargeCommunities = communityStrings(comms)
	return e, true
}
