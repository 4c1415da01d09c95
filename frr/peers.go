package frr

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"github.com/ironlb/ironlb/config"
)

// family indexes per-family data: ipv4 or ipv6.
type family int

const (
	ipv4 family = iota
	ipv6
)

// familyOf returns the family of an address.
func familyOf(a netip.Addr) family {
	if a.Is4() || a.Is4In6() {
		return ipv4
	}
	return ipv6
}

// afNames are the address-family block names, by family.
func (f family) afName() string {
	if f == ipv4 {
		return "ipv4 unicast"
	}
	return "ipv6 unicast"
}

// peer is a BGPPeer that selects the node.
type peer struct {
	*config.Peer
	// index is the peer's position in builder.peerList (name order).
	index int
	// router is the index of the peer's VRF in builder.routerVRFs.
	router int
	// active tells the families the session carries: the family of the
	// peer's address, or both with DualStackAddressFamily or an
	// interface (IPv4 routes then get IPv6 link-local next hops, RFC 8950).
	active [2]bool
	ibgp   bool
	// outMap is the name of the peer's outbound route-map.
	outMap string
}

// peers selects the node's peers and checks that those of one VRF can
// share a router: one AS number, one router ID, distinct addresses.
func (b *builder) peers() {
	for i := range b.model.Peers {
		p := &b.model.Peers[i]
		if !p.SelectsNode(b.node.Labels) {
			continue
		}
		b.peerList = append(b.peerList, &peer{Peer: p, outMap: routeMapOutPrefix + p.Name, ibgp: p.IsIBGP()})
	}
	slices.SortFunc(b.peerList, func(x, y *peer) int { return cmp.Compare(x.Name, y.Name) })
	for i, p := range b.peerList {
		p.index = i
		if p.Address.IsValid() {
			p.active[familyOf(p.Address)] = true
		}
		if p.DualStackAddressFamily || p.Interface != "" {
			p.active = [2]bool{true, true}
		}
		b.checkPeer(p.Peer)
		if !slices.Contains(b.routerVRFs, p.VRF) {
			b.routerVRFs = append(b.routerVRFs, p.VRF)
		}
	}
	slices.Sort(b.routerVRFs)
	// first holds, per router, the first peer (by name) that set each
	// shared value; later peers must agree with it.
	type first struct {
		asn, routerID *peer
		key           map[string]*peer
	}
	firsts := make([]first, len(b.routerVRFs))
	for _, p := range b.peerList {
		p.router, _ = slices.BinarySearch(b.routerVRFs, p.VRF)
		f := &firsts[p.router]
		switch {
		case p.MyASN == 0: // reported by checkPeer
		case f.asn == nil:
			f.asn = p
		case f.asn.MyASN != p.MyASN:
			b.fieldError(config.KindBGPPeer, p.Name, "spec.myASN", "%d differs from myASN %d of BGPPeer %q: peers of one VRF on node %q share one BGP router",
				p.MyASN, f.asn.MyASN, f.asn.Name, b.node.Name)
		}
		if p.RouterID.IsValid() {
			switch {
			case f.routerID == nil:
				f.routerID = p
			case f.routerID.RouterID != p.RouterID:
				b.fieldError(config.KindBGPPeer, p.Name, "spec.routerID", "%s differs from routerID %s of BGPPeer %q: peers of one VRF on node %q share one BGP router",
					p.RouterID, f.routerID.RouterID, f.routerID.Name, b.node.Name)
			}
		}
		if f.key == nil {
			f.key = map[string]*peer{}
		}
		switch other, ok := f.key[neighborKey(p.Peer)]; {
		case !ok:
			f.key[neighborKey(p.Peer)] = p
		case !p.Address.IsValid():
			b.fieldError(config.KindBGPPeer, p.Name, "spec.interface", "%s is also the interface of BGPPeer %q, in the same VRF on node %q",
				p.Interface, other.Name, b.node.Name)
		default:
			b.fieldError(config.KindBGPPeer, p.Name, "spec.peerAddress", "%s is also the address of BGPPeer %q, in the same VRF on node %q",
				p.Address, other.Name, b.node.Name)
		}
	}
}

// neighborKey is how frr.conf names the peer's neighbor: its address,
// or for an unnumbered session its interface.
func neighborKey(p *config.Peer) string {
	if !p.Address.IsValid() {
		return p.Interface
	}
	return p.Address.String()
}

// comparePeers orders a router's neighbors: by address, unnumbered ones
// first, then by interface.
func comparePeers(x, y *peer) int {
	return cmp.Or(x.Address.Compare(y.Address), cmp.Compare(x.Interface, y.Interface))
}

// checkPeer rejects what config.Build normally rejects but frr.conf
// cannot survive: a value that would break the line it is written on.
func (b *builder) checkPeer(p *config.Peer) {
	bad := func(field, format string, args ...any) {
		b.fieldError(config.KindBGPPeer, p.Name, field, format, args...)
	}
	if why := nameProblem(p.Name); why != "" {
		bad("metadata.name", "%s", why)
	}
	switch {
	case p.Interface != "" && tokenProblem(p.Interface) != "":
		bad("spec.interface", "%q %s", p.Interface, tokenProblem(p.Interface))
	case !p.Address.IsValid() && p.Interface == "":
		bad("spec.peerAddress", "one of peerAddress and interface must be set")
	case p.Address.IsValid() && p.Address.Zone() != "":
		bad("spec.peerAddress", "%q is not an IP address without a zone", p.Address)
	case p.Address.IsValid() && p.Interface != "" && !(p.Address.Is6() && p.Address.IsLinkLocalUnicast()):
		bad("spec.peerAddress", "%s is not an IPv6 link-local address, which is the only kind allowed with an interface", p.Address)
	}
	if p.MyASN == 0 {
		bad("spec.myASN", "must be set")
	}
	if (p.PeerASN == 0) == (p.DynamicASN == "") {
		bad("spec.peerASN", "exactly one of peerASN and dynamicASN must be set")
	}
	if p.DynamicASN != "" && p.DynamicASN != "internal" && p.DynamicASN != "external" {
		bad("spec.dynamicASN", "%q is neither \"internal\" nor \"external\"", p.DynamicASN)
	}
	if p.SourceAddress.IsValid() && p.Address.IsValid() && familyOf(p.SourceAddress) != familyOf(p.Address) {
		bad("spec.sourceAddress", "%s and peerAddress %s are of different IP families", p.SourceAddress, p.Address)
	}
	if p.RouterID.IsValid() && !p.RouterID.Is4() {
		bad("spec.routerID", "%s is not an IPv4 address", p.RouterID)
	}
	if p.LocalASN != 0 && (p.LocalASN == p.MyASN || p.IsIBGP()) {
		// FRR refuses the local-as line for both.
		bad("spec.localASN", "%d is for eBGP sessions with an AS number other than myASN %d", p.LocalASN, p.MyASN)
	}
	if why := passwordProblem(p.Password.Reveal()); p.Password.IsSet() && why != "" {
		bad("spec.password", "the password %s", why)
	}
	if p.VRF != "" {
		if why := tokenProblem(p.VRF); why != "" {
			bad("spec.vrf", "%q %s", p.VRF, why)
		}
	}
	if p.BFDProfile != nil {
		if why := bfdNameProblem(p.BFDProfile.Name); why != "" {
			bad("spec.bfdProfile", "%s", why)
		}
	}
	if (p.HoldTime == nil) != (p.KeepaliveTime == nil) {
		bad("spec.holdTime", "holdTime and keepaliveTime must be both set or both unset")
	}
	for _, t := range []struct {
		field string
		d     *time.Duration
	}{{"spec.holdTime", p.HoldTime}, {"spec.keepaliveTime", p.KeepaliveTime}, {"spec.connectTime", p.ConnectTime}} {
		if t.d != nil && (*t.d < 0 || *t.d > 65535*time.Second || *t.d%time.Second != 0) {
			bad(t.field, "%s is not a whole number of seconds in [0s, 65535s]", *t.d)
		}
	}
}

// routers makes one router per VRF, announcing the prefixes pfx holds
// (nil for none).
func (b *builder) routers(pfx *prefixes) []Router {
	out := make([]Router, len(b.routerVRFs))
	for r, vrf := range b.routerVRFs {
		out[r].VRF = vrf
	}
	byRouter := make([][]*peer, len(out))
	for _, p := range b.peerList {
		byRouter[p.router] = append(byRouter[p.router], p)
	}
	for r := range out {
		peers := byRouter[r]
		slices.SortFunc(peers, comparePeers)
		rt := &out[r]
		rt.ASN = peers[0].MyASN
		if b.opts.RouterID.IsValid() {
			rt.RouterID = b.opts.RouterID.String()
		}
		allGR := true
		for _, p := range peers {
			if p.RouterID.IsValid() {
				rt.RouterID = p.RouterID.String()
			}
			allGR = allGR && p.EnableGracefulRestart
			rt.PreserveForwardingState = rt.PreserveForwardingState || p.EnableGracefulRestart
		}
		rt.GracefulRestart = allGR
		for _, p := range peers {
			rt.Neighbors = append(rt.Neighbors, neighbor(p, allGR))
		}
		for _, f := range []family{ipv4, ipv6} {
			af := AddressFamily{Name: f.afName()}
			for _, p := range peers {
				if p.active[f] {
					af.Neighbors = append(af.Neighbors, AFNeighbor{Address: neighborKey(p.Peer), RouteMapIn: routeMapIn, RouteMapOut: p.outMap})
				}
			}
			if len(af.Neighbors) == 0 {
				continue
			}
			if pfx != nil {
				af.Networks = pfx.networks(f, r)
			}
			rt.AddressFamilies = append(rt.AddressFamilies, af)
		}
	}
	return out
}

// neighbor renders one peer; allGR tells that its router enables
// graceful restart for every neighbor already.
func neighbor(p *peer, allGR bool) Neighbor {
	n := Neighbor{
		Peer:            p.Name,
		Address:         neighborKey(p.Peer),
		Interface:       p.Interface,
		Unnumbered:      p.Interface != "" && !p.Address.IsValid(),
		RemoteAS:        strconv.FormatUint(uint64(p.PeerASN), 10),
		Password:        p.Password,
		EBGPMultiHop:    p.EBGPMultiHop,
		GracefulRestart: p.EnableGracefulRestart && !allGR,
	}
	if p.DynamicASN != "" {
		n.RemoteAS = string(p.DynamicASN)
	}
	n.LocalAS = p.LocalASN
	// An interface session is on its link: there is nothing to check.
	n.DisableConnectedCheck = p.Interface == "" && familyOf(p.Address) == ipv6 && !p.ibgp && !p.EBGPMultiHop
	if p.BFDProfile != nil {
		n.BFD, n.BFDProfile = true, p.BFDProfile.Name
	}
	if p.Port != 0 && p.Port != config.DefaultBGPPort {
		n.Port = p.Port
	}
	if p.SourceAddress.IsValid() {
		n.UpdateSource = p.SourceAddress.String()
	}
	if p.HoldTime != nil && p.KeepaliveTime != nil {
		n.Timers = &Timers{Keepalive: seconds(*p.KeepaliveTime), Hold: seconds(*p.HoldTime)}
	}
	if p.ConnectTime != nil {
		n.ConnectTime = seconds(*p.ConnectTime)
	}
	return n
}

// seconds converts a checked BGP timer to whole seconds.
func seconds(d time.Duration) uint32 { return uint32(d / time.Second) }

// bfdProfiles returns the profiles of the node's peers, by name, with
// FRR's defaults left out.
func (b *builder) bfdProfiles() []BFDProfile {
	seen := map[string]*config.BFDProfile{}
	var out []BFDProfile
	for _, p := range b.peerList {
		prof := p.BFDProfile
		if prof == nil {
			continue
		}
		if other, ok := seen[prof.Name]; ok {
			if *other != *prof {
				b.fieldError(config.KindBGPPeer, p.Name, "spec.bfdProfile", "BFDProfile %q differs from the one another peer of node %q uses", prof.Name, b.node.Name)
			}
			continue
		}
		seen[prof.Name] = prof
		out = append(out, bfdProfile(prof))
	}
	slices.SortFunc(out, func(x, y BFDProfile) int { return cmp.Compare(x.Name, y.Name) })
	return out
}

// bfdProfile renders a profile, leaving out FRR's defaults (which are
// config's defaults too).
func bfdProfile(p *config.BFDProfile) BFDProfile {
	unlessDefault := func(v, def uint32) uint32 {
		if v == def {
			return 0
		}
		return v
	}
	return BFDProfile{
		Name:             p.Name,
		DetectMultiplier: unlessDefault(p.DetectMultiplier, config.DefaultBFDDetectMultiplier),
		TransmitInterval: unlessDefault(p.TransmitInterval, config.DefaultBFDTransmitInterval),
		ReceiveInterval:  unlessDefault(p.ReceiveInterval, config.DefaultBFDReceiveInterval),
		PassiveMode:      p.PassiveMode,
		EchoMode:         p.EchoMode,
		EchoInterval:     unlessDefault(p.EchoInterval, config.DefaultBFDEchoInterval),
		MinimumTTL:       unlessDefault(p.MinimumTTL, config.DefaultBFDMinimumTTL),
	}
}

// String names a family in errors and tests.
func (f family) String() string { return fmt.Sprintf("IPv%d", 4+2*int(f)) }
