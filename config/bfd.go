package config

import (
	"slices"

	"github.com/ironlb/ironlb/api/v1beta1"
)

// The BFD values a profile gets for the fields it leaves out; they are
// FRR's defaults, made explicit.
const (
	DefaultBFDReceiveInterval  = 300 // milliseconds
	DefaultBFDTransmitInterval = 300 // milliseconds
	DefaultBFDDetectMultiplier = 3
	DefaultBFDEchoInterval     = 50 // milliseconds
	DefaultBFDMinimumTTL       = 254
)

// BFDProfile is a validated BFDProfile with every default filled in.
type BFDProfile struct {
	Name string
	// ReceiveInterval, TransmitInterval and EchoInterval are in
	// milliseconds.
	ReceiveInterval  uint32
	TransmitInterval uint32
	DetectMultiplier uint32
	EchoInterval     uint32
	EchoMode         bool
	PassiveMode      bool
	MinimumTTL       uint32
}

// bfdProfiles builds the BFD profiles, objs in name order.
func (b *builder) bfdProfiles(objs []*v1beta1.BFDProfile) []BFDProfile {
	checkNames(b, KindBFDProfile, objs)
	out := make([]BFDProfile, 0, len(objs))
	for _, o := range objs {
		out = append(out, b.bfdProfile(o))
	}
	for i := range out {
		b.bfdRef.add(out[i].Name, &out[i])
	}
	return out
}

// bfdProfile validates one BFDProfile against the bounds of its CRD.
func (b *builder) bfdProfile(o *v1beta1.BFDProfile) BFDProfile {
	value := func(field string, v *uint32, def, lo, hi uint32) uint32 {
		if v == nil {
			return def
		}
		if *v < lo || *v > hi {
			b.add(KindBFDProfile, o.Name, field, "%d is out of range [%d, %d]", *v, lo, hi)
		}
		return *v
	}
	flag := func(v *bool) bool { return v != nil && *v }
	s := &o.Spec
	return BFDProfile{
		Name:             o.Name,
		ReceiveInterval:  value("spec.receiveInterval", s.ReceiveInterval, DefaultBFDReceiveInterval, 10, 60000),
		TransmitInterval: value("spec.transmitInterval", s.TransmitInterval, DefaultBFDTransmitInterval, 10, 60000),
		DetectMultiplier: value("spec.detectMultiplier", s.DetectMultiplier, DefaultBFDDetectMultiplier, 2, 255),
		EchoInterval:     value("spec.echoInterval", s.EchoInterval, DefaultBFDEchoInterval, 10, 60000),
		EchoMode:         flag(s.EchoMode),
		PassiveMode:      flag(s.PassiveMode),
		MinimumTTL:       value("spec.minimumTtl", s.MinimumTTL, DefaultBFDMinimumTTL, 1, 254),
	}
}

// bfdEchoTowardsIPv6 rejects, as MetalLB does, a BGPPeer whose BFD
// profile enables echo mode when an advertisement announces a pool with
// IPv6 addresses to it (an advertisement without peers announces to
// every peer): FRR's BFD echo works for IPv4 only. Each such peer gets
// one error, naming the first pool and advertisement in name order.
func (b *builder) bfdEchoTowardsIPv6(m *Model) {
	v6 := map[string]bool{}
	for _, p := range m.Pools {
		for _, r := range p.Ranges {
			if r.First.Is6() && !r.First.Is4In6() {
				v6[p.Name] = true
				break
			}
		}
	}
	reported := map[string]bool{}
	for _, a := range m.BGPAdvertisements {
		pool := ""
		for _, name := range a.Pools {
			if v6[name] {
				pool = name
				break
			}
		}
		if pool == "" {
			continue
		}
		for i := range m.Peers {
			p := &m.Peers[i]
			if p.BFDProfile == nil || !p.BFDProfile.EchoMode || reported[p.Name] {
				continue
			}
			if len(a.Peers) > 0 && !slices.Contains(a.Peers, p.Name) {
				continue
			}
			reported[p.Name] = true
			b.add(KindBGPPeer, p.Name, "spec.bfdProfile", "BFDProfile %q enables echoMode, which BFD cannot run with IPv6 routes: BGPAdvertisement %q announces pool %q, which has IPv6 addresses, to this peer",
				p.BFDProfile.Name, a.Name, pool)
		}
	}
}
