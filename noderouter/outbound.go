package noderouter

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
)

// The entries ToFRR adds to outbound route-maps.

// addOut adds to the outbound route-map mapName one permit entry per IP
// family and set of attributes of the extra prefixes, each matching a
// prefix-list of those prefixes, before the map's last entry. An entry's
// sequence number is a hash of its family and attributes (see number),
// and its prefix-list is named after it, so a new set of attributes
// leaves the other entries as they are.
func (t *translator) addOut(mapName, listPrefix string, extra []OutPrefix) error {
	rm := t.routeMap(mapName)
	if rm == nil || len(extra) == 0 {
		return nil
	}
	type group struct {
		attrs    OutPrefix
		v6       bool
		prefixes []netip.Prefix
	}
	byKey := map[string]*group{}
	var slots []slot[*group]
	for _, o := range extra {
		k := attrsKey(o)
		if o.Prefix.Addr().Is6() {
			k = "6 " + k
		} else {
			k = "4 " + k
		}
		g := byKey[k]
		if g == nil {
			g = &group{attrs: o, v6: o.Prefix.Addr().Is6()}
			byKey[k] = g
			slots = append(slots, slot[*group]{key: k, val: g})
		}
		g.prefixes = append(g.prefixes, o.Prefix)
	}
	if len(slots) > seqDenyAll-seqOutBase {
		return fmt.Errorf("%d sets of IP family, communities and local preference, more than route-map %s can hold (%d)", len(slots), mapName, seqDenyAll-seqOutBase)
	}
	var entries []frr.RouteMapEntry
	for _, s := range number(slots, seqOutBase, seqDenyAll-1) {
		g := s.val
		pl := frr.PrefixList{Name: listPrefix + "-" + strconv.FormatUint(uint64(s.seq), 10), IPv6: g.v6}
		sel := make([]PrefixSelector, len(g.prefixes))
		for k, p := range g.prefixes {
			sel[k] = PrefixSelector{Prefix: p}
		}
		pl.Entries = permitEntries(sel)
		if !slices.ContainsFunc(t.out.PrefixLists, func(x frr.PrefixList) bool { return x.Name == pl.Name }) {
			t.out.PrefixLists = append(t.out.PrefixLists, pl)
		}
		e := frr.RouteMapEntry{Action: "permit", Seq: s.seq, MatchPrefixList: pl.Name, MatchIPv6: g.v6,
			SetLocalPref: g.attrs.SetLocalPref, LocalPref: g.attrs.LocalPref}
		e.Communities, e.LargeCommunities = communityNames(g.attrs.Communities)
		entries = append(entries, e)
	}
	last := len(rm.Entries)
	if last > 0 && rm.Entries[last-1].Seq == seqDenyAll {
		last--
	}
	for _, e := range rm.Entries[:last] {
		if e.Seq >= seqOutBase {
			return fmt.Errorf("route-map %s: entry %d collides with the node router's entries", mapName, e.Seq)
		}
	}
	rm.Entries = slices.Concat(rm.Entries[:last:last], entries, rm.Entries[last:])
	return nil
}

// addOnOwn adds what FRRConfigurations set on ironlb's own prefixes
// (onOwn) to ironlb's outbound maps of the neighbor: a route-map
// ilb-nr-own-[VRF-]KEY with an entry per IP family and set of attributes,
// as addOut makes them, and a last `permit 65535` that lets every other
// route through unchanged; ironlb's entry of each class that has such a
// prefix calls it after its own sets. ironlb's per-Service communities and
// local preference thus stay, and the FRRConfigurations' communities are
// added to them.
func (t *translator) addOnOwn(own *frr.Router, outMaps []string, name string, onOwn []OutPrefix) error {
	if len(onOwn) == 0 {
		return nil
	}
	called := ownMapPrefix + name
	t.added = append(t.added, frr.RouteMap{Name: called, Entries: []frr.RouteMapEntry{{Action: "permit", Seq: seqDenyAll}}})
	if err := t.addOut(called, called, onOwn); err != nil {
		return err
	}
	tags := map[uint32]bool{}
	for _, o := range onOwn {
		tags[t.tags[ownNetwork(own, o.Prefix).RouteMap]] = true
	}
	for _, om := range outMaps {
		rm := t.routeMap(om)
		if rm == nil {
			continue
		}
		for i := range rm.Entries {
			if e := &rm.Entries[i]; e.Action == "permit" && e.MatchTag != 0 && tags[e.MatchTag] {
				e.Call = called
			}
		}
	}
	return nil
}

// outErr reports an error of the outbound entries of neighbor n against
// the last piece that adds to it.
func (t *translator) outErr(n *Neighbor, err error) {
	if err != nil {
		t.fail(n.Origins[len(n.Origins)-1], "toAdvertise", "neighbor %s: %v", n.Key(), err)
	}
}

// ownNetwork returns ironlb's network statement of the prefix (the zero
// Network if there is none).
func ownNetwork(r *frr.Router, p netip.Prefix) frr.Network {
	for _, af := range r.AddressFamilies {
		if i, ok := slices.BinarySearchFunc(af.Networks, p, func(nw frr.Network, p netip.Prefix) int { return comparePrefix(nw.Prefix, p) }); ok {
			return af.Networks[i]
		}
	}
	return frr.Network{}
}

// addedAttrs returns what merged sets on its prefix beyond what ironlb
// sets itself (mine): the communities ironlb does not add, and the local
// preference if ironlb sets none. It reports false when both set
// different local preferences.
func addedAttrs(mine, merged OutPrefix) (OutPrefix, bool) {
	d := OutPrefix{Prefix: merged.Prefix}
	if merged.SetLocalPref {
		switch {
		case !mine.SetLocalPref:
			d.SetLocalPref, d.LocalPref = true, merged.LocalPref
		case mine.LocalPref != merged.LocalPref:
			return d, false
		}
	}
	for _, c := range merged.Communities {
		if !slices.Contains(mine.Communities, c) {
			d.Communities = append(d.Communities, c)
		}
	}
	return d, true
}

// attrsKey is the canonical form of the attributes an outbound entry
// sets.
func attrsKey(o OutPrefix) string {
	var b strings.Builder
	if o.SetLocalPref {
		b.WriteString("lp ")
		b.WriteString(strconv.FormatUint(uint64(o.LocalPref), 10))
	}
	for _, c := range o.Communities {
		b.WriteString(" c ")
		b.WriteString(c.Value())
	}
	return b.String()
}

// permitEntries returns the permit entries of a prefix-list of the
// selectors, each numbered by a hash of its content (see number), in
// sequence order.
func permitEntries(sel []PrefixSelector) []frr.PrefixListEntry {
	slots := make([]slot[PrefixSelector], len(sel))
	for i, s := range sel {
		slots[i] = slot[PrefixSelector]{key: selectorKey(s), val: s}
	}
	out := make([]frr.PrefixListEntry, len(slots))
	for i, s := range number(slots, seqListLo, seqListHi) {
		out[i] = frr.PrefixListEntry{Seq: s.seq, Action: "permit", Prefix: s.val.Prefix, GE: s.val.GE, LE: s.val.LE}
	}
	return out
}

// communityNames returns communities as FRR writes them in a route-map:
// standard ones (well-known ones by name), then large ones, each in
// numeric order.
func communityNames(cs []config.Community) (standard, large []string) {
	for _, c := range cs {
		switch {
		case c.Large:
			large = append(large, c.Value())
		default:
			standard = append(standard, wellKnownName(c))
		}
	}
	return standard, large
}

// wellKnownName returns FRR's name of a well-known community, or a:b.
func wellKnownName(c config.Community) string {
	for name, v := range wellKnown {
		if v == c {
			if name == "local-as" {
				return "local-AS"
			}
			return name
		}
	}
	return c.Value()
}
