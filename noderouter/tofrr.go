package noderouter

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
)

// Names and sequence numbers of what ToFRR adds to ironlb's frr.Config.
const (
	// inMapPrefix and outMapPrefix start the route-maps of a neighbor,
	// followed by its VRF (if any) and key.
	inMapPrefix  = "ilb-nr-in-"
	outMapPrefix = "ilb-nr-out-"
	// ownMapPrefix starts the route-map that ironlb's outbound map of a
	// neighbor calls to add what FRRConfigurations set on ironlb's own
	// prefixes, and its prefix-lists.
	ownMapPrefix = "ilb-nr-own-"
	// blockList starts the always-block prefix-lists (-4 and -6).
	blockList = "ilb-nr-block"
	// seqOutBase is the first sequence number of the entries added to an
	// outbound map, above ironlb's class entries (numbered by tag) and
	// below its last entry, which denies the rest. The entries take
	// numbers from the hash of their content in [seqOutBase, 65534].
	seqOutBase = 32768
	seqDenyAll = 65535
	// ownDenyIn is the inbound map of ironlb's own neighbors.
	ownDenyIn = "ironlb-in"
)

// ToFRR returns the frr.Config that renders m, the merge of own (ironlb's
// announcements for the node, which it leaves unchanged) and the node's
// FRRConfigurations: own's configuration plus the routers, neighbors and
// network statements the FRRConfigurations add, an inbound route-map per
// neighbor that receives routes (prefix-lists of its toReceive, after the
// always-block list), outbound entries for the prefixes the
// FRRConfigurations advertise, their BFD profiles and raw snippets.
//
// Imports of other VRFs become `import vrf NAME` in both address families
// of the router; an import that FRR cannot load in the order of the file
// is an error (see checkImports).
//
// Communities and a local preference that FRRConfigurations add to a
// prefix ironlb announces itself go into a route-map that ironlb's entry
// of the prefix's class calls (addOnOwn).
func ToFRR(own *frr.Config, m *Model) (*frr.Config, error) {
	return toFRR(own, m, nil)
}

// toFRR is ToFRR with ownOut, when not nil, the memo of what ironlb
// announces to its neighbors (see translator.ownOut).
func toFRR(own *frr.Config, m *Model, ownOut map[neighborKey][]OutPrefix) (*frr.Config, error) {
	if own == nil {
		return nil, errors.New("rendering the node router: no frr.Config of ironlb")
	}
	t := &translator{own: own, out: cloneConfig(own), ownOut: ownOut}
	t.tags, t.maps = routeMapIndex(own)
	t.alwaysBlock(m.AlwaysBlock)
	routers := withImportedVRFs(m.Routers)
	t.checkImports(routers)
	for i := range routers {
		t.router(&routers[i])
	}
	if len(t.errs) > 0 {
		return nil, fmt.Errorf("rendering the node router: %w", errors.Join(t.errs...))
	}
	t.out.BFDProfiles = t.out.BFDProfiles[:0]
	for _, b := range m.BFDProfiles {
		t.out.BFDProfiles = append(t.out.BFDProfiles, b.BFDProfile)
	}
	for _, r := range m.Raw {
		t.out.Raw = append(t.out.Raw, strings.TrimRight(r.Config, "\n"))
	}
	slices.SortFunc(t.out.PrefixLists, func(a, b frr.PrefixList) int { return strings.Compare(a.Name, b.Name) })
	slices.SortStableFunc(t.added, func(a, b frr.RouteMap) int { return strings.Compare(a.Name, b.Name) })
	t.out.RouteMaps = append(t.out.RouteMaps, t.added...)
	return t.out, nil
}

// translator builds the frr.Config of ToFRR.
type translator struct {
	own, out *frr.Config
	// tags and maps index own's route-maps (routeMapIndex).
	tags map[string]uint32
	maps map[string]*frr.RouteMap
	// block4 and block6 name the always-block prefix-lists, "" if none.
	block4, block6 string
	// added are the route-maps ToFRR adds.
	added []frr.RouteMap
	// ownOut, when not nil, keeps ownOutgoing's result per neighbor of
	// own across calls with the same own (a Cache's memo); nil computes
	// it on each call.
	ownOut map[neighborKey][]OutPrefix
	errs   []error
}

func (t *translator) fail(o Origin, field, format string, args ...any) {
	t.errs = append(t.errs, config.FieldError{Kind: o.Kind, Name: o.Name, Field: o.field(field), Reason: fmt.Sprintf(format, args...)})
}

// cloneConfig copies what ToFRR changes of own: the routers (their
// neighbors, families and networks) and the route-map list.
func cloneConfig(own *frr.Config) *frr.Config {
	c := *own
	c.VRFs = slices.Clone(own.VRFs)
	c.RouteMaps = slices.Clone(own.RouteMaps)
	c.BFDProfiles = slices.Clone(own.BFDProfiles)
	c.PrefixLists = slices.Clone(own.PrefixLists)
	c.Raw = slices.Clone(own.Raw)
	c.Routers = make([]frr.Router, len(own.Routers))
	for i, r := range own.Routers {
		r.Neighbors = slices.Clone(r.Neighbors)
		afs := make([]frr.AddressFamily, len(r.AddressFamilies))
		for j, af := range r.AddressFamilies {
			af.Networks = slices.Clone(af.Networks)
			af.Neighbors = slices.Clone(af.Neighbors)
			afs[j] = af
		}
		r.AddressFamilies = afs
		c.Routers[i] = r
	}
	return &c
}

// alwaysBlock makes the prefix-lists of the prefixes never accepted: each
// prefix and everything inside it.
func (t *translator) alwaysBlock(prefixes []netip.Prefix) {
	var sel4, sel6 []PrefixSelector
	for _, p := range prefixes {
		s := PrefixSelector{Prefix: p}
		if maxLen := uint32(p.Addr().BitLen()); uint32(p.Bits()) < maxLen {
			s.LE = maxLen
		}
		if p.Addr().Is6() {
			sel6 = append(sel6, s)
		} else {
			sel4 = append(sel4, s)
		}
	}
	v4, v6 := frr.PrefixList{Entries: permitEntries(sel4)}, frr.PrefixList{Entries: permitEntries(sel6)}
	if len(v4.Entries) > 0 {
		v4.Name, t.block4 = blockList+"-4", blockList+"-4"
		t.out.PrefixLists = append(t.out.PrefixLists, v4)
	}
	if len(v6.Entries) > 0 {
		v6.Name, v6.IPv6, t.block6 = blockList+"-6", true, blockList+"-6"
		t.out.PrefixLists = append(t.out.PrefixLists, v6)
	}
}

// router adds a merged router's prefixes and neighbors to the frr.Router
// of its VRF, which it makes if ironlb has none.
func (t *translator) router(r *Router) {
	i := slices.IndexFunc(t.out.Routers, func(x frr.Router) bool { return x.VRF == r.VRF })
	if i < 0 {
		t.out.Routers = append(t.out.Routers, frr.Router{ASN: r.ASN, VRF: r.VRF})
		slices.SortFunc(t.out.Routers, func(a, b frr.Router) int { return compareVRF(a.VRF, b.VRF) })
		i = slices.IndexFunc(t.out.Routers, func(x frr.Router) bool { return x.VRF == r.VRF })
		if r.VRF != "" && !slices.Contains(t.out.VRFs, r.VRF) {
			t.out.VRFs = append(t.out.VRFs, r.VRF)
			slices.Sort(t.out.VRFs)
		}
	}
	fr := &t.out.Routers[i]
	if fr.RouterID == "" {
		fr.RouterID = r.ID
	}
	// The router's prefixes and each family's networks are sorted: walk
	// them together and add the missing ones at the end.
	for j := range fr.AddressFamilies {
		af := &fr.AddressFamilies[j]
		v6 := af.Name == "ipv6 unicast"
		nws, k, added := af.Networks, 0, false
		for _, p := range r.Prefixes {
			if p.Addr().Is6() != v6 {
				continue
			}
			for k < len(nws) && comparePrefix(nws[k].Prefix, p) < 0 {
				k++
			}
			if k == len(nws) || nws[k].Prefix != p {
				af.Networks, added = append(af.Networks, frr.Network{Prefix: p}), true
			}
		}
		if added {
			slices.SortFunc(af.Networks, func(a, b frr.Network) int { return comparePrefix(a.Prefix, b.Prefix) })
		}
	}
	for _, v6 := range []bool{false, true} {
		// A family the router lacks gets its prefixes (the walk above
		// added those of the families it has).
		if hasFamily(fr, v6) {
			continue
		}
		var ps []frr.Network
		for _, p := range r.Prefixes {
			if p.Addr().Is6() == v6 {
				ps = append(ps, frr.Network{Prefix: p})
			}
		}
		if len(ps) > 0 {
			family(fr, v6).Networks = ps
		}
	}
	if len(r.Imports) > 0 {
		// As frr-k8s does: the imports hold for both IP families.
		for _, v6 := range []bool{false, true} {
			af := family(fr, v6)
			af.ImportVRFs = slices.Compact(slices.Sorted(slices.Values(slices.Concat(af.ImportVRFs, r.Imports))))
		}
	}
	for j := range r.Neighbors {
		t.neighbor(fr, &r.Neighbors[j])
	}
	slices.SortFunc(fr.Neighbors, func(a, b frr.Neighbor) int { return compareNeighbor(asNeighbor(&a), asNeighbor(&b)) })
	order := map[string]int{}
	for k, n := range fr.Neighbors {
		order[n.Address] = k
	}
	for j := range fr.AddressFamilies {
		slices.SortFunc(fr.AddressFamilies[j].Neighbors, func(a, b frr.AFNeighbor) int { return cmp.Compare(order[a.Address], order[b.Address]) })
	}
}

// asNeighbor returns the ordering key of an frr.Neighbor.
func asNeighbor(n *frr.Neighbor) Neighbor {
	if a, err := netip.ParseAddr(n.Address); err == nil && !n.Unnumbered {
		return Neighbor{Address: a}
	}
	return Neighbor{Interface: n.Address}
}

// hasFamily reports whether the router has the address family of that
// IP family.
func hasFamily(r *frr.Router, v6 bool) bool {
	name := "ipv4 unicast"
	if v6 {
		name = "ipv6 unicast"
	}
	return slices.ContainsFunc(r.AddressFamilies, func(af frr.AddressFamily) bool { return af.Name == name })
}

// family returns the router's address family of that IP family, which it
// adds (IPv4 first) if missing.
func family(r *frr.Router, v6 bool) *frr.AddressFamily {
	name := "ipv4 unicast"
	if v6 {
		name = "ipv6 unicast"
	}
	for i := range r.AddressFamilies {
		if r.AddressFamilies[i].Name == name {
			return &r.AddressFamilies[i]
		}
	}
	r.AddressFamilies = append(r.AddressFamilies, frr.AddressFamily{Name: name})
	slices.SortFunc(r.AddressFamilies, func(a, b frr.AddressFamily) int { return strings.Compare(a.Name, b.Name) })
	return family(r, v6)
}

// neighbor renders a merged neighbor: on ironlb's session of the same
// key it adds filters only; otherwise it adds the session.
func (t *translator) neighbor(fr *frr.Router, n *Neighbor) {
	key := neighborKey{fr.VRF, n.Key()}
	name := key.key
	if fr.VRF != "" {
		name = fr.VRF + "-" + key.key
	}
	ownRouter, ownNeighbor := ownSession(t.own, fr.VRF, key.key)
	isOwn := ownNeighbor != nil
	var own []OutPrefix
	if isOwn && len(n.Origins) > 1 && len(n.Outgoing) > 0 {
		own = t.ownOutgoing(key, ownRouter, ownNeighbor)
	}
	outgoing := n.Outgoing
	if isOwn && len(n.Origins) == 1 {
		outgoing = nil // no FRRConfiguration adds to it
	}
	// extra are the prefixes ironlb does not announce itself; onOwn are
	// ironlb's own prefixes with what FRRConfigurations add to them.
	var extra, onOwn []OutPrefix
	// Both lists are sorted by prefix: walk them together.
	j := 0
	for _, o := range outgoing {
		for j < len(own) && comparePrefix(own[j].Prefix, o.Prefix) < 0 {
			j++
		}
		if j == len(own) || own[j].Prefix != o.Prefix {
			extra = append(extra, o)
			continue
		}
		d, ok := addedAttrs(own[j], o)
		switch {
		case !ok:
			// The merge refuses two local preferences; this is a guard.
			t.fail(n.Origins[len(n.Origins)-1], "toAdvertise", "local preference %d on %s, which ironlb announces to neighbor %s with local preference %d", o.LocalPref, o.Prefix, n.Key(), own[j].LocalPref)
		case d.SetLocalPref || len(d.Communities) > 0:
			onOwn = append(onOwn, d)
		}
	}
	inMap := t.inMap(name, n.Incoming)
	if isOwn {
		if n.GracefulRestart && !ownGracefulRestart(fr, n.Key()) {
			t.fail(n.Origins[len(n.Origins)-1], "enableGracefulRestart", "graceful restart on neighbor %s, a session of ironlb's own, is not supported yet: set it on the BGPPeer", n.Key())
		}
		var outMaps []string
		for j := range fr.AddressFamilies {
			for k := range fr.AddressFamilies[j].Neighbors {
				afn := &fr.AddressFamilies[j].Neighbors[k]
				if afn.Address != n.Key() {
					continue
				}
				if inMap != "" {
					afn.RouteMapIn = inMap
				}
				if !slices.Contains(outMaps, afn.RouteMapOut) {
					outMaps = append(outMaps, afn.RouteMapOut)
				}
			}
		}
		for _, om := range outMaps {
			t.outErr(n, t.addOut(om, outMapPrefix+name, extra))
		}
		t.outErr(n, t.addOnOwn(ownRouter, outMaps, name, onOwn))
		return
	}
	fn := frr.Neighbor{
		Peer:         n.Origins[0].Name,
		Address:      n.Key(),
		RemoteAS:     cmp.Or(n.DynamicASN, strconv.FormatUint(uint64(n.ASN), 10)),
		BFD:          n.BFD,
		BFDProfile:   n.BFDProfile,
		Password:     n.Password,
		Port:         n.Port,
		EBGPMultiHop: n.EBGPMultiHop,
		UpdateSource: n.SourceAddress,
		Timers:       n.Timers,
		ConnectTime:  n.ConnectTime,
	}
	if n.PasswordSecret != "" {
		t.fail(n.Origins[0], "passwordSecret", "passwordSecret is not supported yet")
	}
	if !n.Address.IsValid() {
		fn.Interface, fn.Unnumbered = n.Interface, true
	}
	if n.GracefulRestart {
		fn.GracefulRestart = true
		fr.PreserveForwardingState = true
	}
	fr.Neighbors = append(fr.Neighbors, fn)
	outMap := outMapPrefix + name
	t.added = append(t.added, frr.RouteMap{Name: outMap, Entries: []frr.RouteMapEntry{{Action: "deny", Seq: seqDenyAll}}})
	t.outErr(n, t.addOut(outMap, outMapPrefix+name, extra))
	v6 := n.Address.Is6()
	for _, fam := range []bool{false, true} {
		if fam == v6 || n.DualStack || !n.Address.IsValid() {
			af := family(fr, fam)
			af.Neighbors = append(af.Neighbors, frr.AFNeighbor{Address: n.Key(), RouteMapIn: cmp.Or(inMap, ownDenyIn), RouteMapOut: outMap})
		}
	}
}

// ownOutgoing returns ownOutgoing of ironlb's neighbor of that key, from
// the memo when there is one. Callers only read the list.
func (t *translator) ownOutgoing(key neighborKey, r *frr.Router, n *frr.Neighbor) []OutPrefix {
	if t.ownOut == nil {
		return ownOutgoing(r, n, t.tags, t.maps)
	}
	out, ok := t.ownOut[key]
	if !ok {
		out = ownOutgoing(r, n, t.tags, t.maps)
		t.ownOut[key] = out
	}
	return out
}

// inMap makes the inbound route-map of a neighbor that receives routes
// and returns its name, or "" when the neighbor receives nothing (and
// keeps ironlb's deny-all map).
func (t *translator) inMap(name string, in Incoming) string {
	if !in.All && len(in.Prefixes) == 0 {
		return ""
	}
	rm := frr.RouteMap{Name: inMapPrefix + name}
	if t.block4 != "" {
		rm.Entries = append(rm.Entries, frr.RouteMapEntry{Action: "deny", Seq: 1, MatchPrefixList: t.block4})
	}
	if t.block6 != "" {
		rm.Entries = append(rm.Entries, frr.RouteMapEntry{Action: "deny", Seq: 2, MatchPrefixList: t.block6, MatchIPv6: true})
	}
	if in.All {
		rm.Entries = append(rm.Entries, frr.RouteMapEntry{Action: "permit", Seq: 10})
		t.added = append(t.added, rm)
		return rm.Name
	}
	var sel4, sel6 []PrefixSelector
	for _, s := range in.Prefixes {
		if s.GE == 0 && s.LE == uint32(s.Prefix.Bits()) {
			s.LE = 0 // the same match, as FRR shows it
		}
		if s.Prefix.Addr().Is6() {
			sel6 = append(sel6, s)
		} else {
			sel4 = append(sel4, s)
		}
	}
	v4, v6 := frr.PrefixList{Entries: permitEntries(sel4)}, frr.PrefixList{Entries: permitEntries(sel6)}
	if len(v4.Entries) > 0 {
		v4.Name = rm.Name + "-4"
		t.out.PrefixLists = append(t.out.PrefixLists, v4)
		rm.Entries = append(rm.Entries, frr.RouteMapEntry{Action: "permit", Seq: 10, MatchPrefixList: v4.Name})
	}
	if len(v6.Entries) > 0 {
		v6.Name, v6.IPv6 = rm.Name+"-6", true
		t.out.PrefixLists = append(t.out.PrefixLists, v6)
		rm.Entries = append(rm.Entries, frr.RouteMapEntry{Action: "permit", Seq: 11, MatchPrefixList: v6.Name, MatchIPv6: true})
	}
	t.added = append(t.added, rm)
	return rm.Name
}

// routeMap returns the route-map of that name, ironlb's (copied before
// it is changed) or one ToFRR added.
func (t *translator) routeMap(name string) *frr.RouteMap {
	for i := range t.added {
		if t.added[i].Name == name {
			return &t.added[i]
		}
	}
	for i := range t.out.RouteMaps {
		if t.out.RouteMaps[i].Name == name {
			rm := &t.out.RouteMaps[i]
			rm.Entries = slices.Clone(rm.Entries)
			return rm
		}
	}
	return nil
}

// ownGracefulRestart reports whether ironlb's own session to addr has
// graceful restart, for itself or for the whole router.
func ownGracefulRestart(fr *frr.Router, addr string) bool {
	if fr.GracefulRestart {
		return true
	}
	for _, n := range fr.Neighbors {
		if n.Address == addr {
			return n.GracefulRestart
		}
	}
	return false
}
