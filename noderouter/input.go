package noderouter

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
)

// The defaults frr-k8s documents for unset fields.
const (
	defaultPort      = 179
	defaultHold      = 180
	defaultKeepalive = 60
)

// FromFRRConfiguration returns the piece of configuration an
// FRRConfiguration describes, checked on its own: each object must be
// self-contained, as in frr-k8s, so a neighbor may only advertise its
// router's prefixes and name BFD profiles of the same object. Problems
// are config.FieldErrors, joined; the piece is then nil.
func FromFRRConfiguration(c *frrk8s.FRRConfiguration) (*Model, error) {
	p := &parser{name: c.Namespace + "/" + c.Name, namespace: c.Namespace}
	m := p.configuration(c)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	normalize(m)
	return m, nil
}

// parser converts one FRRConfiguration and collects its problems.
type parser struct {
	name, namespace string
	errs            []error
}

func (p *parser) fail(field, format string, args ...any) {
	p.errs = append(p.errs, config.FieldError{Kind: KindFRRConfiguration, Name: p.name, Field: field, Reason: fmt.Sprintf(format, args...)})
}

// token reports s when it cannot be one word of an frr.conf line: the
// CRD's patterns refuse such values, and the render never trusts them.
func (p *parser) token(field, s string) {
	if s != "" && strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '!' || r == '#' }) {
		shown := strconv.Quote(s)
		if strings.HasSuffix(field, ".password") {
			shown = "the value" // never echo a password
		}
		p.fail(field, "%s must not contain whitespace, control characters, '!' or '#'", shown)
	}
}

func (p *parser) origin(path string) Origin {
	return Origin{Kind: KindFRRConfiguration, Name: p.name, Path: path}
}

func (p *parser) configuration(c *frrk8s.FRRConfiguration) *Model {
	m := &Model{}
	if _, err := metav1.LabelSelectorAsSelector(&c.Spec.NodeSelector); err != nil {
		p.fail("spec.nodeSelector", "%v", err)
	}
	profiles := map[string]bool{}
	for i, b := range c.Spec.BGP.BFDProfiles {
		path := fmt.Sprintf("spec.bgp.bfdProfiles[%d]", i)
		if profiles[b.Name] {
			p.fail(path+".name", "BFD profile %q is defined twice", b.Name)
			continue
		}
		profiles[b.Name] = true
		p.token(path+".name", b.Name)
		m.BFDProfiles = append(m.BFDProfiles, BFDProfile{BFDProfile: bfdProfile(b), Origins: []Origin{p.origin(path)}})
	}
	vrfs := map[string]int{}
	for i := range c.Spec.BGP.Routers {
		path := fmt.Sprintf("spec.bgp.routers[%d]", i)
		r := &c.Spec.BGP.Routers[i]
		if j, ok := vrfs[r.VRF]; ok {
			p.fail(path+".vrf", "VRF %q already has the router spec.bgp.routers[%d]", r.VRF, j)
			continue
		}
		vrfs[r.VRF] = i
		m.Routers = append(m.Routers, p.router(r, path, profiles))
	}
	if c.Spec.Raw.Config != "" {
		m.Raw = append(m.Raw, Raw{Priority: c.Spec.Raw.Priority, Config: c.Spec.Raw.Config, Origin: p.origin("spec.raw")})
	}
	return m
}

// bfdProfile converts a profile; unset values stay zero, FRR's default.
func bfdProfile(b frrk8s.BFDProfile) frr.BFDProfile {
	val := func(v *uint32) uint32 {
		if v == nil {
			return 0
		}
		return *v
	}
	return frr.BFDProfile{
		Name:             b.Name,
		DetectMultiplier: val(b.DetectMultiplier),
		TransmitInterval: val(b.TransmitInterval),
		ReceiveInterval:  val(b.ReceiveInterval),
		PassiveMode:      b.PassiveMode != nil && *b.PassiveMode,
		EchoMode:         b.EchoMode != nil && *b.EchoMode,
		EchoInterval:     val(b.EchoInterval),
		MinimumTTL:       val(b.MinimumTTL),
	}
}

func (p *parser) router(r *frrk8s.Router, path string, profiles map[string]bool) Router {
	out := Router{ASN: r.ASN, VRF: r.VRF, Origins: []Origin{p.origin(path)}}
	p.token(path+".vrf", r.VRF)
	if r.ASN == 0 {
		p.fail(path+".asn", "must be set")
	}
	if r.ID != "" {
		if a, err := netip.ParseAddr(r.ID); err != nil || !a.Is4() {
			p.fail(path+".id", "%q is not an IPv4 address", r.ID)
		}
		out.ID = r.ID
	}
	own := map[netip.Prefix]bool{}
	for i, s := range r.Prefixes {
		pfx, ok := p.prefix(s, fmt.Sprintf("%s.prefixes[%d]", path, i))
		if ok {
			own[pfx] = true
			out.Prefixes = append(out.Prefixes, pfx)
		}
	}
	for i, im := range r.Imports {
		p.token(fmt.Sprintf("%s.imports[%d].vrf", path, i), im.VRF)
		out.Imports = append(out.Imports, im.VRF)
	}
	seen := map[string]int{}
	for i := range r.Neighbors {
		npath := fmt.Sprintf("%s.neighbors[%d]", path, i)
		n, ok := p.neighbor(&r.Neighbors[i], npath, out.Prefixes, own, profiles)
		if !ok {
			continue
		}
		if j, dup := seen[n.Key()]; dup {
			p.fail(npath, "neighbor %s is also %s.neighbors[%d]", n.Key(), path, j)
			continue
		}
		seen[n.Key()] = i
		out.Neighbors = append(out.Neighbors, n)
	}
	return out
}

// prefix parses a CIDR prefix; one with host bits set stands for its
// network, as in frr-k8s.
func (p *parser) prefix(s, field string) (netip.Prefix, bool) {
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		p.fail(field, "%q is not a CIDR prefix", s)
		return netip.Prefix{}, false
	}
	return pfx.Masked(), true
}

func (p *parser) neighbor(n *frrk8s.Neighbor, path string, prefixes []netip.Prefix, own map[netip.Prefix]bool, profiles map[string]bool) (Neighbor, bool) {
	out := Neighbor{Origins: []Origin{p.origin(path)}}
	ok := true
	switch {
	case n.Address != "" && n.Interface != "":
		p.fail(path, "address and interface are mutually exclusive")
		ok = false
	case n.Address != "":
		a, err := netip.ParseAddr(n.Address)
		if err != nil || a.Zone() != "" {
			p.fail(path+".address", "%q is not an IP address", n.Address)
			ok = false
		}
		out.Address = a.Unmap()
	case n.Interface != "":
		p.token(path+".interface", n.Interface)
		out.Interface = n.Interface
	default:
		p.fail(path, "one of address and interface must be set")
		ok = false
	}
	switch {
	case n.ASN != 0 && n.DynamicASN != "":
		p.fail(path+".asn", "asn and dynamicASN are mutually exclusive")
	case n.ASN == 0 && n.DynamicASN == "":
		p.fail(path+".asn", "one of asn and dynamicASN must be set")
	}
	out.ASN, out.DynamicASN = n.ASN, string(n.DynamicASN)
	if n.Port != nil && *n.Port != defaultPort {
		out.Port = *n.Port
	}
	p.token(path+".sourceaddress", n.SourceAddress)
	p.token(path+".password", n.Password)
	out.SourceAddress = n.SourceAddress
	if n.Password != "" && n.PasswordSecret.Name != "" {
		p.fail(path+".password", "password and passwordSecret are mutually exclusive")
	}
	out.Password = config.NewPassword(n.Password)
	if n.PasswordSecret.Name != "" {
		ns := cmpOr(n.PasswordSecret.Namespace, p.namespace)
		out.PasswordSecret = ns + "/" + n.PasswordSecret.Name
	}
	out.Timers = p.timers(n, path)
	if n.ConnectTime != nil {
		out.ConnectTime = p.seconds(n.ConnectTime, path+".connectTime")
	}
	out.EBGPMultiHop = n.EBGPMultiHop
	if n.BFDProfile != "" {
		p.token(path+".bfdProfile", n.BFDProfile)
		if !profiles[n.BFDProfile] {
			p.fail(path+".bfdProfile", "BFD profile %q is not in spec.bgp.bfdProfiles", n.BFDProfile)
		}
		out.BFD, out.BFDProfile = true, n.BFDProfile
	}
	out.GracefulRestart = n.EnableGracefulRestart
	out.DualStack = n.DualStackAddressFamily
	out.Outgoing = p.outgoing(&n.ToAdvertise, path+".toAdvertise", prefixes, own)
	out.Incoming = p.incoming(&n.ToReceive.Allowed, path+".toReceive.allowed")
	return out, ok
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// timers returns the neighbor's timers: nil when neither is set or both
// are FRR's defaults; an unset one is derived from the other as BGP
// does (keepalive a third of the hold time).
func (p *parser) timers(n *frrk8s.Neighbor, path string) *frr.Timers {
	if n.HoldTime == nil && n.KeepaliveTime == nil {
		return nil
	}
	t := frr.Timers{Hold: defaultHold, Keepalive: defaultKeepalive}
	if n.HoldTime != nil {
		t.Hold = p.seconds(n.HoldTime, path+".holdTime")
		t.Keepalive = t.Hold / 3
	}
	if n.KeepaliveTime != nil {
		t.Keepalive = p.seconds(n.KeepaliveTime, path+".keepaliveTime")
		if n.HoldTime == nil {
			t.Hold = 3 * t.Keepalive
		}
	}
	if t.Keepalive > t.Hold {
		p.fail(path+".keepaliveTime", "%ds is longer than holdTime %ds", t.Keepalive, t.Hold)
	}
	if t == (frr.Timers{Hold: defaultHold, Keepalive: defaultKeepalive}) {
		return nil
	}
	return &t
}

// seconds returns a duration in whole seconds up to 65535.
func (p *parser) seconds(d *metav1.Duration, field string) uint32 {
	s := d.Seconds()
	if s < 0 || s > 65535 || float64(int64(s)) != s {
		p.fail(field, "%s is not a whole number of seconds between 0 and 65535", d.Duration)
		return 0
	}
	return uint32(s)
}

// outgoing returns the prefixes advertised to a neighbor, with their
// local preference and communities; each must be one of the router's.
func (p *parser) outgoing(a *frrk8s.Advertise, path string, prefixes []netip.Prefix, own map[netip.Prefix]bool) []OutPrefix {
	byPrefix := map[netip.Prefix]*OutPrefix{}
	var order []netip.Prefix
	add := func(pfx netip.Prefix) {
		if byPrefix[pfx] == nil {
			byPrefix[pfx] = &OutPrefix{Prefix: pfx}
			order = append(order, pfx)
		}
	}
	switch a.Allowed.Mode {
	case frrk8s.AllowAll:
		for _, pfx := range prefixes {
			add(pfx)
		}
	case frrk8s.AllowRestricted, "":
		for i, s := range a.Allowed.Prefixes {
			field := fmt.Sprintf("%s.allowed.prefixes[%d]", path, i)
			pfx, ok := p.prefix(s, field)
			if !ok {
				continue
			}
			if !own[pfx] {
				p.fail(field, "%s is not one of the router's prefixes", pfx)
				continue
			}
			add(pfx)
		}
	default:
		p.fail(path+".allowed.mode", "%q is neither all nor filtered", a.Allowed.Mode)
	}
	for i, lp := range a.PrefixesWithLocalPref {
		for j, s := range lp.Prefixes {
			field := fmt.Sprintf("%s.withLocalPref[%d].prefixes[%d]", path, i, j)
			o := p.advertised(s, field, byPrefix)
			if o == nil {
				continue
			}
			if o.SetLocalPref && o.LocalPref != lp.LocalPref {
				p.fail(field, "%s already has localPref %d", o.Prefix, o.LocalPref)
				continue
			}
			o.SetLocalPref, o.LocalPref = true, lp.LocalPref
		}
	}
	for i, cp := range a.PrefixesWithCommunity {
		c, err := parseCommunity(cp.Community)
		if err != nil {
			p.fail(fmt.Sprintf("%s.withCommunity[%d].community", path, i), "%v", err)
			continue
		}
		for j, s := range cp.Prefixes {
			if o := p.advertised(s, fmt.Sprintf("%s.withCommunity[%d].prefixes[%d]", path, i, j), byPrefix); o != nil {
				o.Communities = append(o.Communities, c)
			}
		}
	}
	out := make([]OutPrefix, 0, len(order))
	for _, pfx := range order {
		out = append(out, *byPrefix[pfx])
	}
	return out
}

// advertised returns the entry of a prefix that the neighbor is
// advertised, or nil after reporting that it is not.
func (p *parser) advertised(s, field string, byPrefix map[netip.Prefix]*OutPrefix) *OutPrefix {
	pfx, ok := p.prefix(s, field)
	if !ok {
		return nil
	}
	o := byPrefix[pfx]
	if o == nil {
		p.fail(field, "%s is not advertised to the neighbor (toAdvertise.allowed)", pfx)
	}
	return o
}

// incoming returns the filter of received prefixes.
func (p *parser) incoming(a *frrk8s.AllowedInPrefixes, path string) Incoming {
	switch a.Mode {
	case frrk8s.AllowAll:
		return Incoming{All: true}
	case frrk8s.AllowRestricted, "":
	default:
		p.fail(path+".mode", "%q is neither all nor filtered", a.Mode)
		return Incoming{}
	}
	var in Incoming
	for i, sel := range a.Prefixes {
		field := fmt.Sprintf("%s.prefixes[%d]", path, i)
		pfx, ok := p.prefix(sel.Prefix, field+".prefix")
		if !ok {
			continue
		}
		maxLen := uint32(pfx.Addr().BitLen())
		bits := uint32(pfx.Bits())
		switch {
		case sel.GE != 0 && (sel.GE <= bits || sel.GE > maxLen):
			p.fail(field+".ge", "%d must be greater than the prefix length %d and at most %d", sel.GE, bits, maxLen)
		case sel.LE != 0 && (sel.LE < bits || sel.LE > maxLen):
			p.fail(field+".le", "%d must be at least the prefix length %d and at most %d", sel.LE, bits, maxLen)
		case sel.GE != 0 && sel.LE != 0 && sel.GE > sel.LE:
			p.fail(field+".ge", "%d is greater than le %d", sel.GE, sel.LE)
		default:
			in.Prefixes = append(in.Prefixes, PrefixSelector{Prefix: pfx, GE: sel.GE, LE: sel.LE})
		}
	}
	return in
}

// wellKnown are FRR's names of the well-known standard communities.
var wellKnown = map[string]config.Community{
	"internet":                   {},
	"graceful-shutdown":          {Global: 65535, Local1: 0},
	"accept-own":                 {Global: 65535, Local1: 1},
	"route-filter-translated-v4": {Global: 65535, Local1: 2},
	"route-filter-v4":            {Global: 65535, Local1: 3},
	"route-filter-translated-v6": {Global: 65535, Local1: 4},
	"route-filter-v6":            {Global: 65535, Local1: 5},
	"llgr-stale":                 {Global: 65535, Local1: 6},
	"no-llgr":                    {Global: 65535, Local1: 7},
	"accept-own-nexthop":         {Global: 65535, Local1: 8},
	"blackhole":                  {Global: 65535, Local1: 666},
	"no-export":                  {Global: 65535, Local1: 65281},
	"no-advertise":               {Global: 65535, Local1: 65282},
	"local-as":                   {Global: 65535, Local1: 65283},
	"no-peer":                    {Global: 65535, Local1: 65284},
}

// parseCommunity parses a community as config.ParseCommunity does, and
// also FRR's names of the well-known ones (no-export, ...), as FRR writes
// them in route-maps.
func parseCommunity(s string) (config.Community, error) {
	if c, ok := wellKnown[strings.ToLower(s)]; ok {
		return c, nil
	}
	return config.ParseCommunity(s)
}

// normalize sorts and compacts every list of a piece or a merged model:
// those of normalizeMerged, and the neighbors with their filters.
func normalize(m *Model) {
	normalizeMerged(m)
	for i := range m.Routers {
		r := &m.Routers[i]
		slices.SortFunc(r.Neighbors, compareNeighbor)
		for j := range r.Neighbors {
			n := &r.Neighbors[j]
			slices.SortFunc(n.Outgoing, func(a, b OutPrefix) int { return comparePrefix(a.Prefix, b.Prefix) })
			for k := range n.Outgoing {
				n.Outgoing[k].Communities = sortCommunities(n.Outgoing[k].Communities)
			}
			slices.SortFunc(n.Incoming.Prefixes, compareSelector)
			n.Incoming.Prefixes = slices.Compact(n.Incoming.Prefixes)
			if n.Incoming.All {
				n.Incoming.Prefixes = nil
			}
		}
	}
}
