package noderouter

import (
	"fmt"
	"net/netip"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
)

// Model is the merged router configuration of one node. Every slice is
// sorted, so equal inputs give equal models.
type Model struct {
	// Routers are the BGP instances, the default VRF ("") first, then by
	// VRF name.
	Routers []Router
	// BFDProfiles are the BFD profiles of all pieces, by name.
	BFDProfiles []BFDProfile
	// Raw are the raw configuration snippets, by priority, then by
	// source.
	Raw []Raw
	// AlwaysBlock are the prefixes never accepted from any neighbor
	// (Options.AlwaysBlock), sorted.
	AlwaysBlock []netip.Prefix
}

// Origin names the object a piece of configuration comes from and where
// in it: `FRRConfiguration "ns/name"` at spec.bgp.routers[0], or ironlb's
// `BGPPeer "name"`.
type Origin struct {
	Kind string
	Name string
	// Path is the field path of the element in an FRRConfiguration, such
	// as "spec.bgp.routers[0].neighbors[1]". For ironlb's own objects it
	// is "router" for a router's settings and "" otherwise.
	Path string
}

// String returns `Kind "name"`.
func (o Origin) String() string { return fmt.Sprintf("%s %q", o.Kind, o.Name) }

// field returns the path of a field of the element, in the object's own
// terms.
func (o Origin) field(f string) string {
	if o.Kind != KindFRRConfiguration {
		if o.Path != "" {
			f = o.Path + "." + f
		}
		return ownField(o.Kind, f)
	}
	if o.Path == "" {
		return f
	}
	return o.Path + "." + f
}

// KindFRRConfiguration is the Origin kind of FRRConfiguration objects.
const KindFRRConfiguration = "FRRConfiguration"

// Router is one BGP instance of a VRF.
type Router struct {
	ASN uint32
	// VRF is "" for the default VRF.
	VRF string
	// ID is the router ID, or "" to let FRR choose.
	ID string
	// Prefixes are the prefixes the router originates, sorted.
	Prefixes []netip.Prefix
	// Imports are the VRFs the router imports from, sorted.
	Imports []string
	// Neighbors are sorted by address (IPv4 first), unnumbered ones (by
	// interface) before the others.
	Neighbors []Neighbor
	// Origins are the pieces that define the router, in merge order.
	Origins []Origin
}

// Neighbor is one BGP session of a router, with what every piece asks of
// it.
type Neighbor struct {
	// Address is the neighbor's address; invalid for an unnumbered
	// session, which Interface names.
	Address   netip.Addr
	Interface string
	// ASN is the neighbor's AS number, or 0 with DynamicASN "internal"
	// or "external".
	ASN        uint32
	DynamicASN string
	// Port is the neighbor's TCP port, 0 for 179.
	Port uint16
	// SourceAddress is the local address or interface of the session.
	SourceAddress string
	// Password is the TCP MD5 password; PasswordSecret, when set, names
	// the Secret that holds it instead ("namespace/name").
	Password       config.Password
	PasswordSecret string
	// Timers are the keepalive and hold times, nil for FRR's defaults
	// (60 s and 180 s).
	Timers *frr.Timers
	// ConnectTime is in seconds, 0 for FRR's default.
	ConnectTime uint32
	// EBGPMultiHop allows a session several hops away.
	EBGPMultiHop bool
	// BFD enables BFD on the session, with BFDProfile when not "".
	BFD        bool
	BFDProfile string
	// GracefulRestart is set when any piece enables it.
	GracefulRestart bool
	// DualStack activates the neighbor in both address families.
	DualStack bool
	// LocalAS, DisableConnectedCheck and Unnumbered come from ironlb's
	// own peers only (see frr.Neighbor).
	LocalAS               uint32
	DisableConnectedCheck bool
	// Outgoing are the prefixes advertised to the neighbor, by prefix.
	Outgoing []OutPrefix
	// Incoming is the filter of the prefixes accepted from it.
	Incoming Incoming
	// Origins are the pieces that define the neighbor, in merge order.
	Origins []Origin
}

// Key returns the neighbor's address, or its interface when unnumbered.
func (n *Neighbor) Key() string {
	if n.Address.IsValid() {
		return n.Address.String()
	}
	return n.Interface
}

// OutPrefix is a prefix advertised to a neighbor with its attributes.
type OutPrefix struct {
	Prefix netip.Prefix
	// SetLocalPref sets LOCAL_PREF to LocalPref (which may be 0).
	SetLocalPref bool
	LocalPref    uint32
	// Communities are added to the route; standard ones first, then
	// large ones, each in numeric order.
	Communities []config.Community
}

// Incoming says which prefixes a neighbor's routes may have.
type Incoming struct {
	// All accepts every prefix (but Model.AlwaysBlock).
	All bool
	// Prefixes are the accepted prefixes when All is false, sorted.
	Prefixes []PrefixSelector
}

// PrefixSelector matches Prefix itself or, with GE or LE (0 for unset),
// the prefixes inside it whose length is in [GE, LE].
type PrefixSelector struct {
	Prefix netip.Prefix
	GE, LE uint32
}

// BFDProfile is a named BFD profile, zero values for FRR's defaults.
type BFDProfile struct {
	frr.BFDProfile
	// Origins are the pieces that define the profile.
	Origins []Origin
}

// Raw is a snippet of raw FRR configuration.
type Raw struct {
	Priority int
	Config   string
	Origin   Origin
}
