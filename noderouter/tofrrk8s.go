package noderouter

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
)

// LabelManagedBy is set to ManagedByIronlb on the FRRConfigurations
// ironlb's speakers write for frr-k8s (SpecFromFRR): ironlb's own
// announcements written out, which ironlb's webhooks leave out of their
// merge (they are ironlb's own piece again, in the phase of the node).
const (
	LabelManagedBy  = "app.kubernetes.io/managed-by"
	ManagedByIronlb = "ironlb"
)

// WrittenByIronlb reports whether c carries ironlb's LabelManagedBy.
func WrittenByIronlb(c *frrk8s.FRRConfiguration) bool {
	return c.Labels[LabelManagedBy] == ManagedByIronlb
}

// SpecFromFRR returns the FRRConfiguration spec that has frr-k8s run the
// sessions and announcements of cfg, ironlb's own frr.Config for a node
// (what frr.Build computes): its routers, neighbors, announced prefixes
// with their communities and local preference, and BFD profiles. The
// node selector is left to the caller. cfg may be nil: an empty spec.
//
// What an FRRConfiguration cannot say is refused with config.FieldErrors
// naming the BGPPeer and field, joined: a local AS (localASN), a
// link-local neighbor address scoped to an interface, BFD without a
// profile, timers with a zero keepalive or hold time (frr-k8s writes
// timers only when both are set), and the node router's own additions
// (prefix-lists, raw snippets), which come from a merge, never from
// frr.Build. These are lost on the way, by design, and documented in
// docs/node-router.md: the hostname, log level and VRF list (frr-k8s
// writes its own), `disable-connected-check` (frr-k8s derives it with
// the same rule as frr.Build) and the router-wide graceful-restart line
// (each neighbor carries it instead).
func SpecFromFRR(cfg *frr.Config) (frrk8s.FRRConfigurationSpec, error) {
	spec := frrk8s.FRRConfigurationSpec{}
	if cfg == nil {
		return spec, nil
	}
	if err := expressible(cfg); err != nil {
		return spec, fmt.Errorf("converting frr.conf to an FRRConfiguration: %w", err)
	}
	m := FromFRR(cfg)
	for i := range m.Routers {
		spec.BGP.Routers = append(spec.BGP.Routers, apiRouter(&m.Routers[i]))
	}
	for _, b := range m.BFDProfiles {
		spec.BGP.BFDProfiles = append(spec.BGP.BFDProfiles, apiBFDProfile(b.BFDProfile))
	}
	return spec, nil
}

// expressible reports what of cfg an FRRConfiguration cannot hold.
func expressible(cfg *frr.Config) error {
	var errs []error
	bad := func(kind, name, field, format string, args ...any) {
		errs = append(errs, config.FieldError{Kind: kind, Name: name, Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	for _, r := range cfg.Routers {
		for _, n := range r.Neighbors {
			if n.LocalAS != 0 {
				bad("BGPPeer", n.Peer, "spec.localASN", "%d cannot be expressed in an FRRConfiguration (frr-k8s has no local AS)", n.LocalAS)
			}
			if n.Interface != "" && !n.Unnumbered {
				bad("BGPPeer", n.Peer, "spec.interface", "a link-local peer address scoped to interface %s cannot be expressed in an FRRConfiguration (address and interface are exclusive there); use an unnumbered session", n.Interface)
			}
			if n.BFD && n.BFDProfile == "" {
				bad("BGPPeer", n.Peer, "spec.bfdProfile", "BFD without a profile cannot be expressed in an FRRConfiguration")
			}
			if n.Timers != nil && (n.Timers.Keepalive == 0 || n.Timers.Hold == 0) {
				bad("BGPPeer", n.Peer, "spec.holdTime", "keepalive %ds and hold time %ds: frr-k8s writes timers only when both are non-zero, so the session would run FRR's defaults", n.Timers.Keepalive, n.Timers.Hold)
			}
		}
	}
	if len(cfg.PrefixLists) > 0 || len(cfg.Raw) > 0 {
		errs = append(errs, errors.New("the configuration holds prefix-lists or raw snippets of a node router merge, which only frr-k8s itself may add"))
	}
	return errors.Join(errs...)
}

func apiRouter(r *Router) frrk8s.Router {
	out := frrk8s.Router{ASN: r.ASN, ID: r.ID, VRF: r.VRF}
	for _, p := range r.Prefixes {
		out.Prefixes = append(out.Prefixes, p.String())
	}
	for i := range r.Neighbors {
		out.Neighbors = append(out.Neighbors, apiNeighbor(&r.Neighbors[i]))
	}
	return out
}

func apiNeighbor(n *Neighbor) frrk8s.Neighbor {
	out := frrk8s.Neighbor{
		ASN:                    n.ASN,
		DynamicASN:             frrk8s.DynamicASNMode(n.DynamicASN),
		SourceAddress:          n.SourceAddress,
		Interface:              n.Interface,
		Password:               n.Password.Reveal(),
		EBGPMultiHop:           n.EBGPMultiHop,
		BFDProfile:             n.BFDProfile,
		EnableGracefulRestart:  n.GracefulRestart,
		DualStackAddressFamily: n.DualStack,
	}
	if n.Address.IsValid() {
		out.Address = n.Address.String()
	}
	if n.Port != 0 {
		port := n.Port
		out.Port = &port
	}
	if n.Timers != nil {
		out.HoldTime = seconds(n.Timers.Hold)
		out.KeepaliveTime = seconds(n.Timers.Keepalive)
	}
	if n.ConnectTime != 0 {
		out.ConnectTime = seconds(n.ConnectTime)
	}
	out.ToAdvertise = apiAdvertise(n.Outgoing)
	// ironlb receives nothing; the mode is explicit, as the CRD's default
	// would make it, so that the object read back equals the one written.
	out.ToReceive.Allowed.Mode = frrk8s.AllowRestricted
	return out
}

func seconds(s uint32) *metav1.Duration {
	return &metav1.Duration{Duration: time.Duration(s) * time.Second}
}

// apiAdvertise lists the prefixes (mode filtered) and groups them by
// local preference and by community, both in ascending order.
func apiAdvertise(out []OutPrefix) frrk8s.Advertise {
	a := frrk8s.Advertise{Allowed: frrk8s.AllowedOutPrefixes{Mode: frrk8s.AllowRestricted}}
	byPref := map[uint32][]string{}
	byComm := map[config.Community][]string{}
	for _, o := range out {
		p := o.Prefix.String()
		a.Allowed.Prefixes = append(a.Allowed.Prefixes, p)
		if o.SetLocalPref {
			byPref[o.LocalPref] = append(byPref[o.LocalPref], p)
		}
		for _, c := range o.Communities {
			byComm[c] = append(byComm[c], p)
		}
	}
	for _, lp := range sortedKeys(byPref, cmp.Compare[uint32]) {
		a.PrefixesWithLocalPref = append(a.PrefixesWithLocalPref, frrk8s.LocalPrefPrefixes{LocalPref: lp, Prefixes: byPref[lp]})
	}
	for _, c := range sortedKeys(byComm, compareCommunity) {
		a.PrefixesWithCommunity = append(a.PrefixesWithCommunity, frrk8s.CommunityPrefixes{Community: c.String(), Prefixes: byComm[c]})
	}
	return a
}

func sortedKeys[K comparable, V any](m map[K]V, compare func(a, b K) int) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compare)
	return keys
}

// apiBFDProfile converts a profile; FRR's defaults (zero) stay unset.
func apiBFDProfile(b frr.BFDProfile) frrk8s.BFDProfile {
	val := func(v uint32) *uint32 {
		if v == 0 {
			return nil
		}
		return &v
	}
	flag := func(v bool) *bool {
		if !v {
			return nil
		}
		return &v
	}
	return frrk8s.BFDProfile{
		Name:             b.Name,
		ReceiveInterval:  val(b.ReceiveInterval),
		TransmitInterval: val(b.TransmitInterval),
		DetectMultiplier: val(b.DetectMultiplier),
		EchoInterval:     val(b.EchoInterval),
		EchoMode:         flag(b.EchoMode),
		PassiveMode:      flag(b.PassiveMode),
		MinimumTTL:       val(b.MinimumTTL),
	}
}
