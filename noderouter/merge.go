package noderouter

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
)

// Options are the node-side settings of a merge.
type Options struct {
	// AlwaysBlock are prefixes never accepted from a neighbor, whatever
	// the filters say: the Service, ClusterIP and pod ranges (frr-k8s's
	// --always-block).
	AlwaysBlock []netip.Prefix
	// Passwords are the passwords of the passwordSecrets the node can
	// read, by "namespace/name" (see SecretUses). A neighbor whose
	// Secret is here has that password: it agrees with a piece that
	// gives the same password directly, as in frr-k8s. A neighbor whose
	// Secret is not here keeps its passwordSecret, which agrees only
	// with the same Secret.
	Passwords map[string]config.Password
	// Draining is set while the node drains (frr.PhaseGracefulShutdown).
	// ironlb then sets LOCAL_PREF 0 on its Service prefixes toward iBGP
	// peers, and that stands: a local preference an FRRConfiguration
	// sets on one of them is left out instead of conflicting, so that no
	// FRRConfiguration holds up a drain (the node would stay on its last
	// valid, undrained configuration). Communities still unite.
	Draining bool
}

// Merge merges the pieces, in order: the first piece that defines a
// router, neighbor or BFD profile is the one a conflict names first. It
// returns every conflict, joined; the model is then nil. The pieces must
// be sorted as FromFRRConfiguration and FromFRR return them; Merge does
// not change them. The model shares lists with the pieces where the
// merge leaves them as they are (a neighbor's advertised prefixes that no
// other piece adds to, their communities): callers read it, or copy
// what they change.
func Merge(opts Options, pieces ...*Model) (*Model, error) {
	m := &merger{routers: map[string]*Router{}, profiles: map[string]*BFDProfile{}, pending: map[neighborKey][]taggedOut{}, draining: opts.Draining}
	for _, p := range pieces {
		if p != nil {
			m.piece(withPasswords(p, opts.Passwords))
		}
	}
	m.foldPending()
	if len(m.errs) > 0 {
		return nil, errors.Join(m.errs...)
	}
	out := &Model{AlwaysBlock: slices.Clone(opts.AlwaysBlock), Raw: m.raw}
	for _, r := range m.routers {
		out.Routers = append(out.Routers, *r)
	}
	for _, b := range m.profiles {
		out.BFDProfiles = append(out.BFDProfiles, *b)
	}
	normalizeMerged(out)
	return out, nil
}

// normalizeMerged sorts and compacts the lists of a merged model that the
// merge appends to or fills from maps: routers, their prefixes and
// imports, BFD profiles, raw snippets, the always-block list. The
// neighbors and their filters stay as the merge leaves them, sorted: it
// inserts neighbors in order, merge-walks sorted lists of prefixes,
// communities and selectors, and keeps the sorted lists of the pieces
// (normalize) as they are. With 10,000 Services, sorting ironlb's two
// neighbors' prefixes again was a pass over each on every merge.
func normalizeMerged(m *Model) {
	slices.SortFunc(m.Routers, func(a, b Router) int { return compareVRF(a.VRF, b.VRF) })
	for i := range m.Routers {
		r := &m.Routers[i]
		slices.SortFunc(r.Prefixes, comparePrefix)
		r.Prefixes = slices.Compact(r.Prefixes)
		slices.Sort(r.Imports)
		r.Imports = slices.Compact(r.Imports)
	}
	slices.SortFunc(m.BFDProfiles, func(a, b BFDProfile) int { return strings.Compare(a.Name, b.Name) })
	slices.SortStableFunc(m.Raw, compareRaw)
	slices.SortFunc(m.AlwaysBlock, comparePrefix)
	m.AlwaysBlock = slices.Compact(m.AlwaysBlock)
}

// merger accumulates the merged model.
type merger struct {
	routers  map[string]*Router
	profiles map[string]*BFDProfile
	raw      []Raw
	// pending are, per VRF and neighbor key, the advertised prefixes
	// that later pieces add to a neighbor, folded in once at the end so
	// that a hundred small additions to a neighbor of ten thousand
	// prefixes cost one pass, not a hundred.
	pending map[neighborKey][]taggedOut
	// draining is Options.Draining.
	draining bool
	errs     []error
}

// neighborKey names a neighbor of the merged model.
type neighborKey struct{ vrf, key string }

// taggedOut is an advertised prefix and the piece that asks for it.
type taggedOut struct {
	OutPrefix
	origin Origin
}

func (m *merger) conflict(a, b Origin, field, subject, format string, args ...any) {
	m.errs = append(m.errs, &ConflictError{A: a, B: b, Field: field, Subject: subject, Reason: fmt.Sprintf(format, args...)})
}

func (m *merger) piece(p *Model) {
	for i := range p.BFDProfiles {
		m.profile(&p.BFDProfiles[i])
	}
	for i := range p.Routers {
		m.router(&p.Routers[i])
	}
	m.raw = append(m.raw, p.Raw...)
}

func (m *merger) profile(b *BFDProfile) {
	cur, ok := m.profiles[b.Name]
	if !ok {
		c := *b
		c.Origins = slices.Clone(b.Origins)
		m.profiles[b.Name] = &c
		return
	}
	if withBFDDefaults(cur.BFDProfile) != withBFDDefaults(b.BFDProfile) {
		m.conflict(cur.Origins[0], b.Origins[0], "name", fmt.Sprintf("BFD profile %q", b.Name), "defined twice with different settings (%+v and %+v)", cur.BFDProfile, b.BFDProfile)
		return
	}
	cur.Origins = append(cur.Origins, b.Origins...)
}

// withBFDDefaults returns p with FRR's default for every value left
// unset, so that a profile written out in full and one that leaves the
// defaults out (as ironlb's own BFDProfiles do) compare equal.
func withBFDDefaults(p frr.BFDProfile) frr.BFDProfile {
	p.DetectMultiplier = cmp.Or(p.DetectMultiplier, config.DefaultBFDDetectMultiplier)
	p.TransmitInterval = cmp.Or(p.TransmitInterval, config.DefaultBFDTransmitInterval)
	p.ReceiveInterval = cmp.Or(p.ReceiveInterval, config.DefaultBFDReceiveInterval)
	p.EchoInterval = cmp.Or(p.EchoInterval, config.DefaultBFDEchoInterval)
	p.MinimumTTL = cmp.Or(p.MinimumTTL, config.DefaultBFDMinimumTTL)
	return p
}

func (m *merger) router(r *Router) {
	cur, ok := m.routers[r.VRF]
	if !ok {
		c := cloneRouter(r)
		m.routers[r.VRF] = &c
		return
	}
	subject := fmt.Sprintf("router of VRF %q", r.VRF)
	a, b := cur.Origins[0], r.Origins[0]
	if cur.ASN != r.ASN {
		m.conflict(a, b, "asn", subject, "AS %d and AS %d differ", cur.ASN, r.ASN)
		return
	}
	switch {
	case r.ID == "":
	case cur.ID == "":
		cur.ID = r.ID
	case cur.ID != r.ID:
		m.conflict(a, b, "id", subject, "router IDs %s and %s differ", cur.ID, r.ID)
	}
	cur.Origins = append(cur.Origins, r.Origins...)
	cur.Prefixes = append(cur.Prefixes, r.Prefixes...) // sorted and compacted by normalize
	cur.Imports = append(cur.Imports, r.Imports...)
	for i := range r.Neighbors {
		n := &r.Neighbors[i]
		j, found := slices.BinarySearchFunc(cur.Neighbors, *n, compareNeighbor)
		if !found {
			cur.Neighbors = slices.Insert(cur.Neighbors, j, cloneNeighbor(n))
			continue
		}
		m.neighbor(&cur.Neighbors[j], n, r.VRF)
	}
}

// cloneRouter copies a router of a piece, so that merging never writes to
// the pieces.
func cloneRouter(r *Router) Router {
	c := *r
	c.Prefixes = slices.Clone(r.Prefixes)
	c.Imports = slices.Clone(r.Imports)
	c.Origins = slices.Clone(r.Origins)
	c.Neighbors = make([]Neighbor, len(r.Neighbors))
	for i := range r.Neighbors {
		c.Neighbors[i] = cloneNeighbor(&r.Neighbors[i])
	}
	slices.SortFunc(c.Neighbors, compareNeighbor)
	return c
}

// cloneNeighbor copies a neighbor of a piece. Its advertised prefixes
// stay shared: the merge never writes to them, and foldPending replaces
// the list of a neighbor that later pieces add to.
func cloneNeighbor(n *Neighbor) Neighbor {
	c := *n
	c.Origins = slices.Clone(n.Origins)
	c.Outgoing = slices.Clip(n.Outgoing)
	c.Incoming.Prefixes = slices.Clone(n.Incoming.Prefixes)
	return c
}

// neighbor merges n into cur, the same session: the settings must agree,
// the filters combine.
func (m *merger) neighbor(cur, n *Neighbor, vrf string) {
	subject := fmt.Sprintf("neighbor %s in VRF %q", n.Key(), vrf)
	a, b := cur.Origins[0], n.Origins[0]
	before := len(m.errs)
	if cur.ASN != n.ASN || cur.DynamicASN != n.DynamicASN {
		m.conflict(a, b, "asn", subject, "remote AS %s and %s differ", asnString(cur), asnString(n))
	}
	if cur.Port != n.Port {
		m.conflict(a, b, "port", subject, "ports %d and %d differ", portOf(cur), portOf(n))
	}
	if cur.SourceAddress != n.SourceAddress {
		m.conflict(a, b, "sourceaddress", subject, "source addresses %q and %q differ", cur.SourceAddress, n.SourceAddress)
	}
	if cur.Password.Reveal() != n.Password.Reveal() || cur.PasswordSecret != n.PasswordSecret {
		m.conflict(a, b, "password", subject, "the passwords differ")
	}
	if hc, hn := timersOf(cur), timersOf(n); hc.Hold != hn.Hold {
		m.conflict(a, b, "holdTime", subject, "hold times %ds and %ds differ", hc.Hold, hn.Hold)
	} else if hc.Keepalive != hn.Keepalive {
		m.conflict(a, b, "keepaliveTime", subject, "keepalive times %ds and %ds differ", hc.Keepalive, hn.Keepalive)
	}
	if cur.ConnectTime != n.ConnectTime {
		m.conflict(a, b, "connectTime", subject, "connect times %ds and %ds differ", cur.ConnectTime, n.ConnectTime)
	}
	if cur.EBGPMultiHop != n.EBGPMultiHop {
		m.conflict(a, b, "ebgpMultiHop", subject, "one sets ebgpMultiHop, the other does not")
	}
	if cur.BFD != n.BFD || cur.BFDProfile != n.BFDProfile {
		m.conflict(a, b, "bfdProfile", subject, "BFD profiles %s and %s differ", bfdString(cur), bfdString(n))
	}
	if cur.DualStack != n.DualStack {
		m.conflict(a, b, "dualStackAddressFamily", subject, "one sets dualStackAddressFamily, the other does not")
	}
	if len(m.errs) > before {
		return
	}
	cur.GracefulRestart = cur.GracefulRestart || n.GracefulRestart
	cur.Origins = append(cur.Origins, n.Origins...)
	k := neighborKey{vrf, n.Key()}
	for _, o := range n.Outgoing {
		m.pending[k] = append(m.pending[k], taggedOut{OutPrefix: o, origin: b})
	}
	cur.Incoming = mergeIncoming(cur.Incoming, n.Incoming)
}

func asnString(n *Neighbor) string {
	if n.DynamicASN != "" {
		return n.DynamicASN
	}
	return strconv.FormatUint(uint64(n.ASN), 10)
}

func portOf(n *Neighbor) uint16 {
	if n.Port == 0 {
		return defaultPort
	}
	return n.Port
}

func bfdString(n *Neighbor) string {
	switch {
	case !n.BFD:
		return "(none)"
	case n.BFDProfile == "":
		return "(default)"
	}
	return strconv.Quote(n.BFDProfile)
}

// timersOf returns the neighbor's timers with FRR's defaults filled in.
func timersOf(n *Neighbor) struct{ Hold, Keepalive uint32 } {
	if n.Timers == nil {
		return struct{ Hold, Keepalive uint32 }{defaultHold, defaultKeepalive}
	}
	return struct{ Hold, Keepalive uint32 }{n.Timers.Hold, n.Timers.Keepalive}
}

// foldPending merges the prefixes later pieces add to each neighbor
// into its list: one entry per prefix, communities united, local
// preferences equal or set by one side only.
func (m *merger) foldPending() {
	keys := slices.SortedFunc(maps.Keys(m.pending), func(a, b neighborKey) int {
		return cmp.Or(strings.Compare(a.vrf, b.vrf), strings.Compare(a.key, b.key))
	})
	for _, k := range keys {
		adds := m.pending[k]
		r := m.routers[k.vrf]
		i := slices.IndexFunc(r.Neighbors, func(n Neighbor) bool { return n.Key() == k.key })
		n := &r.Neighbors[i]
		slices.SortStableFunc(adds, func(a, b taggedOut) int { return comparePrefix(a.Prefix, b.Prefix) })
		n.Outgoing = m.outgoing(n, adds, fmt.Sprintf("neighbor %s in VRF %q", k.key, k.vrf))
	}
}

// outgoing merge-walks the neighbor's sorted prefixes and the sorted
// additions.
func (m *merger) outgoing(n *Neighbor, adds []taggedOut, subject string) []OutPrefix {
	cur := n.Outgoing
	// While draining, ironlb's own prefixes (those of a neighbor its
	// piece, the first, defines) keep its local preference.
	keepOwn := m.draining && n.Origins[0].Kind != KindFRRConfiguration
	out := make([]OutPrefix, 0, len(cur)+len(adds))
	i, j := 0, 0
	for i < len(cur) || j < len(adds) {
		var x OutPrefix
		var lpOrigin Origin // who set x's local preference
		own := false
		if j == len(adds) || (i < len(cur) && comparePrefix(cur[i].Prefix, adds[j].Prefix) <= 0) {
			x, lpOrigin, own = cur[i], n.Origins[0], keepOwn
			i++
		} else {
			x, lpOrigin = adds[j].OutPrefix, adds[j].origin
			j++
		}
		for ; j < len(adds) && adds[j].Prefix == x.Prefix; j++ {
			y := adds[j]
			switch {
			case !y.SetLocalPref, own && x.SetLocalPref:
			case !x.SetLocalPref:
				x.SetLocalPref, x.LocalPref, lpOrigin = true, y.LocalPref, y.origin
			case x.LocalPref != y.LocalPref:
				m.conflict(lpOrigin, y.origin, "localPref", subject, "prefix %s gets local preferences %d and %d", x.Prefix, x.LocalPref, y.LocalPref)
			}
			if len(y.Communities) > 0 {
				x.Communities = mergeSorted(x.Communities, y.Communities, compareCommunity)
			}
		}
		out = append(out, x)
	}
	return out
}

// mergeIncoming returns the more permissive union of two filters.
func mergeIncoming(a, b Incoming) Incoming {
	if a.All || b.All {
		return Incoming{All: true}
	}
	return Incoming{Prefixes: mergeSorted(a.Prefixes, b.Prefixes, compareSelector)}
}

// mergeSorted returns the sorted union, without repeats, of two sorted
// lists; it never writes to them.
func mergeSorted[T any](a, b []T, compare func(T, T) int) []T {
	if len(b) == 0 {
		return a
	}
	if len(a) == 0 {
		return slices.Clone(b)
	}
	out := make([]T, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var c int
		switch {
		case j == len(b):
			c = -1
		case i == len(a):
			c = 1
		default:
			c = compare(a[i], b[j])
		}
		switch {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}
