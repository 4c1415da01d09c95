package config

import (
	"bytes"
	"fmt"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/api/v1beta2"
)

// DefaultBGPPort is the peer port when a BGPPeer gives none.
const DefaultBGPPort = 179

// maxBGPPort is the highest peerPort the BGPPeer CRD accepts.
const maxBGPPort = 16384

// maxBGPTimer is the longest BGP hold, keepalive or connect time.
const maxBGPTimer = 65535 * time.Second

// Peer is a validated BGPPeer.
type Peer struct {
	Name  string
	MyASN uint32
	// PeerASN is the AS number expected from the peer, or 0 when
	// DynamicASN is set.
	PeerASN uint32
	// DynamicASN is "internal" or "external" when the peer's AS number
	// is learnt, and "" when PeerASN is set.
	DynamicASN v1beta2.DynamicASNMode
	// Address is the peer's address. It is the zero Addr for an
	// unnumbered session (Interface set, peerAddress empty), and may be
	// an IPv6 link-local address only together with Interface.
	Address netip.Addr
	// Interface is the node's interface of an unnumbered session, whose
	// peer FRR finds by IPv6 neighbor discovery; "" for a session to
	// Address alone.
	Interface string
	// SourceAddress is the local address of the session; the zero Addr
	// leaves the choice to the kernel.
	SourceAddress netip.Addr
	// Port defaults to DefaultBGPPort.
	Port uint16
	// HoldTime and KeepaliveTime are both nil when the BGPPeer sets
	// neither, leaving FRR's defaults. When it sets one, the other is
	// derived as MetalLB does: keepalive = hold/3 (whole seconds), hold
	// = 3 * keepalive.
	HoldTime      *time.Duration
	KeepaliveTime *time.Duration
	// ConnectTime is nil for FRR's default.
	ConnectTime *time.Duration
	// RouterID is an IPv4 address, or the zero Addr for the speaker's
	// default.
	RouterID netip.Addr
	// NodeSelectors select the nodes that open the session; none means
	// every node.
	NodeSelectors []labels.Selector
	// Password comes from spec.password or from the Secret named by
	// spec.passwordSecret; it is not set when neither is.
	Password Password
	// BFDProfile is the resolved profile of the session's BFD, or nil
	// for no BFD.
	BFDProfile             *BFDProfile
	EnableGracefulRestart  bool
	EBGPMultiHop           bool
	VRF                    string
	DualStackAddressFamily bool
	DisableMP              bool
	// LocalASN is the AS number the peer sees instead of MyASN, or 0 for
	// MyASN. Only an eBGP peer has one.
	LocalASN uint32
}

// IsIBGP reports whether the session is internal: the peer's AS number
// is ours, or dynamicASN is internal.
func (p *Peer) IsIBGP() bool {
	return p.DynamicASN == v1beta2.InternalASNMode || (p.PeerASN != 0 && p.PeerASN == p.MyASN)
}

// SelectsNode reports whether a node with these labels opens the session.
func (p *Peer) SelectsNode(nodeLabels labels.Set) bool {
	return matchesAny(p.NodeSelectors, nodeLabels)
}

// peers builds the BGP peers, objs in name order. BFD profiles and
// Secrets must be known already.
func (b *builder) peers(objs []*v1beta2.BGPPeer) []Peer {
	checkNames(b, KindBGPPeer, objs)
	out := make([]Peer, 0, len(objs))
	for _, o := range objs {
		out = append(out, b.peer(o))
	}
	for i := range out {
		b.peerRef.add(out[i].Name, &out[i])
	}
	return out
}

// peer validates one BGPPeer.
func (b *builder) peer(o *v1beta2.BGPPeer) Peer {
	name, s := o.Name, &o.Spec
	p := Peer{
		Name:                   name,
		MyASN:                  s.MyASN,
		PeerASN:                s.ASN,
		DynamicASN:             s.DynamicASN,
		Port:                   s.Port,
		EnableGracefulRestart:  s.EnableGracefulRestart,
		EBGPMultiHop:           s.EBGPMultiHop,
		VRF:                    s.VRFName,
		DualStackAddressFamily: s.DualStackAddressFamily,
		DisableMP:              s.DisableMP,
		LocalASN:               s.LocalASN,
		Interface:              s.Interface,
	}
	bad := func(field, format string, args ...any) { b.add(KindBGPPeer, name, field, format, args...) }

	if s.MyASN == 0 {
		bad("spec.myASN", "must be set")
	}
	switch {
	case s.ASN == 0 && s.DynamicASN == "":
		bad("spec.peerASN", "one of peerASN and dynamicASN must be set")
	case s.ASN != 0 && s.DynamicASN != "":
		bad("spec.dynamicASN", "peerASN and dynamicASN are mutually exclusive")
	}
	if s.DynamicASN != "" && s.DynamicASN != v1beta2.InternalASNMode && s.DynamicASN != v1beta2.ExternalASNMode {
		bad("spec.dynamicASN", "%q is neither %q nor %q", s.DynamicASN, v1beta2.InternalASNMode, v1beta2.ExternalASNMode)
	}
	if s.EBGPMultiHop && p.IsIBGP() {
		bad("spec.ebgpMultiHop", "is for eBGP sessions, and this peer is iBGP")
	}
	switch {
	case s.LocalASN == 0:
	case s.LocalASN == s.MyASN:
		bad("spec.localASN", "%d is myASN already; leave localASN unset", s.LocalASN)
	case p.IsIBGP():
		bad("spec.localASN", "is for eBGP sessions, and this peer is iBGP (in myASN %d)", s.MyASN)
	}

	p.Address = b.addr(name, "spec.peerAddress", s.Address)
	b.peerEndpoint(name, s, p.Address)
	p.SourceAddress = b.addr(name, "spec.sourceAddress", s.SrcAddress)
	if p.Address.IsValid() && p.SourceAddress.IsValid() && p.Address.Is4() != p.SourceAddress.Is4() {
		bad("spec.sourceAddress", "%s and peerAddress %s are of different IP families", p.SourceAddress, p.Address)
	}
	if p.RouterID = b.addr(name, "spec.routerID", s.RouterID); p.RouterID.IsValid() && !p.RouterID.Is4() {
		bad("spec.routerID", "%s is not an IPv4 address", p.RouterID)
	}

	switch {
	case p.Port == 0:
		p.Port = DefaultBGPPort
	case p.Port > maxBGPPort:
		bad("spec.peerPort", "%d is above %d", p.Port, maxBGPPort)
	}
	b.timers(name, s, &p)
	p.NodeSelectors = b.selectors(KindBGPPeer, name, "spec.nodeSelectors", s.NodeSelectors)
	p.Password = b.password(name, s)
	if s.BFDProfile != "" {
		prof, ok := b.bfdRef.get(s.BFDProfile)
		switch {
		case !ok:
			bad("spec.bfdProfile", "no BFDProfile is named %q", s.BFDProfile)
		case prof != nil:
			cp := *prof
			p.BFDProfile = &cp
		}
	}
	if s.VRFName != "" {
		if why := ifaceNameProblem(s.VRFName); why != "" {
			bad("spec.vrf", "%s", why)
		}
	}
	return p
}

// peerEndpoint checks how the session finds its peer: by peerAddress,
// by interface (unnumbered), or by an IPv6 link-local peerAddress on an
// interface. MetalLB refuses peerAddress and interface together; a
// link-local address needs its interface, so ironlb accepts that pair.
func (b *builder) peerEndpoint(name string, s *v1beta2.BGPPeerSpec, addr netip.Addr) {
	bad := func(field, format string, args ...any) { b.add(KindBGPPeer, name, field, format, args...) }
	if s.Interface != "" {
		if why := ifaceNameProblem(s.Interface); why != "" {
			bad("spec.interface", "%s", why)
		}
	}
	switch {
	case s.Address == "" && s.Interface == "":
		bad("spec.peerAddress", "one of peerAddress and interface must be set")
	case !addr.IsValid(): // unparsable (reported) or unnumbered
	case s.Interface != "" && !isLinkLocal6(addr):
		bad("spec.peerAddress", "%s is not an IPv6 link-local address (fe80::/10); with interface %q set, leave peerAddress empty or give the peer's link-local address", addr, s.Interface)
	case s.Interface == "" && isLinkLocal6(addr):
		bad("spec.peerAddress", "%s is an IPv6 link-local address, which needs spec.interface to name the link", addr)
	}
}

// isLinkLocal6 reports whether a is an IPv6 link-local unicast address.
func isLinkLocal6(a netip.Addr) bool { return a.Is6() && !a.Is4In6() && a.IsLinkLocalUnicast() }

// addr parses an optional IP address; "" gives the zero Addr.
func (b *builder) addr(peer, field, s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	switch {
	case err != nil:
		b.add(KindBGPPeer, peer, field, "%q is not an IP address", s)
		return netip.Addr{}
	case a.Zone() != "":
		b.add(KindBGPPeer, peer, field, "%q has a zone, which is not supported", s)
		return netip.Addr{}
	}
	return a
}

// timers validates the hold, keepalive and connect times and derives a
// missing hold or keepalive time from the other.
func (b *builder) timers(peer string, s *v1beta2.BGPPeerSpec, p *Peer) {
	bad := func(field, format string, args ...any) { b.add(KindBGPPeer, peer, field, format, args...) }
	hold, okHold := b.duration(peer, "spec.holdTime", s.HoldTime, 0)
	if okHold && hold != nil && *hold != 0 && *hold < 3*time.Second {
		bad("spec.holdTime", "%s must be 0 or at least 3s", *hold)
		okHold = false
	}
	keep, okKeep := b.duration(peer, "spec.keepaliveTime", s.KeepaliveTime, 0)
	connect, okConnect := b.duration(peer, "spec.connectTime", s.ConnectTime, time.Second)
	if okConnect {
		p.ConnectTime = connect
	}
	if !okHold || !okKeep {
		return
	}
	switch {
	case hold == nil && keep == nil:
	case keep == nil:
		k := (*hold / 3).Truncate(time.Second)
		keep = &k
	case hold == nil:
		h := 3 * *keep
		if h > maxBGPTimer {
			bad("spec.keepaliveTime", "%s gives a hold time of %s, above %s; set holdTime too", *keep, h, maxBGPTimer)
			return
		}
		hold = &h
	case *keep > *hold:
		bad("spec.keepaliveTime", "%s is longer than holdTime %s", *keep, *hold)
		return
	}
	p.HoldTime, p.KeepaliveTime = hold, keep
}

// duration validates an optional BGP timer: a whole number of seconds
// from least to 65535s. It returns nil for none, and false when invalid.
func (b *builder) duration(peer, field string, d *metav1.Duration, least time.Duration) (*time.Duration, bool) {
	if d == nil {
		return nil, true
	}
	v := d.Duration
	switch {
	case v < least || v > maxBGPTimer:
		b.add(KindBGPPeer, peer, field, "%s is out of range [%s, %s]", v, least, maxBGPTimer)
	case v%time.Second != 0:
		b.add(KindBGPPeer, peer, field, "%s is not a whole number of seconds", v)
	default:
		return &v, true
	}
	return nil, false
}

// secretKey names a Secret.
type secretKey struct {
	namespace, name string
}

// indexSecrets maps Secrets by namespace and name. Of two Secrets with
// the same name, which the API server never lists, the one with the
// smaller JSON form wins, whatever the input order.
func indexSecrets(list []corev1.Secret) map[secretKey]*corev1.Secret {
	out := make(map[secretKey]*corev1.Secret, len(list))
	for i := range list {
		s := &list[i]
		k := secretKey{namespace: s.Namespace, name: s.Name}
		if prev, ok := out[k]; ok && bytes.Compare(jsonOf(prev), jsonOf(s)) <= 0 {
			continue
		}
		out[k] = s
	}
	return out
}

// passwordKey is the key of a passwordSecret that holds the password.
const passwordKey = "password"

// password resolves the session password of a peer. Its errors never
// include the password.
func (b *builder) password(peer string, s *v1beta2.BGPPeerSpec) Password {
	bad := func(field, format string, args ...any) { b.add(KindBGPPeer, peer, field, format, args...) }
	ref := s.PasswordSecret
	switch {
	case s.Password != "" && ref.Name != "":
		bad("spec.password", "password and passwordSecret are mutually exclusive")
		return Password{}
	case s.Password != "":
		if why := passwordProblem(s.Password); why != "" {
			bad("spec.password", "the password %s", why)
		}
		return NewPassword(s.Password)
	case ref.Name == "":
		if ref.Namespace != "" {
			bad("spec.passwordSecret.name", "must be set when passwordSecret.namespace is")
		}
		return Password{}
	}
	ns := ref.Namespace
	if ns == "" {
		ns = b.namespace
	}
	what := fmt.Sprintf("Secret %q", ref.Name)
	if ns != "" {
		what = fmt.Sprintf("Secret %q in namespace %q", ref.Name, ns)
	}
	sec := b.secrets[secretKey{namespace: ns, name: ref.Name}]
	if sec == nil {
		bad("spec.passwordSecret", "%s not found", what)
		return Password{}
	}
	if sec.Type != corev1.SecretTypeBasicAuth {
		bad("spec.passwordSecret", "%s is of type %q, want %q", what, sec.Type, corev1.SecretTypeBasicAuth)
		return Password{}
	}
	// stringData is what a YAML file may hold; the API server folds it
	// into data, letting it win.
	v, ok := sec.StringData[passwordKey]
	if !ok {
		var raw []byte
		raw, ok = sec.Data[passwordKey]
		v = string(raw)
	}
	if !ok {
		bad("spec.passwordSecret", "%s has no %q key", what, passwordKey)
		return Password{}
	}
	if why := passwordProblem(v); why != "" {
		bad("spec.passwordSecret", "the password in %s %s", what, why)
	}
	return NewPassword(v)
}
