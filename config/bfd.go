package config

import (
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
