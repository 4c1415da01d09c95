package frr

import (
	"net/netip"

	"github.com/ironlb/ironlb/config"
)

// Config is the render model of one node's frr.conf. Build computes it and
// a Renderer writes it out. Every decision is a field here; the templates
// only print fields and range over slices, which are all sorted. A zero or
// empty optional field means "leave FRR's default", and FRR's defaults are
// never written, so the rendered file reads like FRR's own show
// running-config and reloading it twice changes nothing.
type Config struct {
	// Hostname is the hostname line (BuildOptions.Hostname).
	Hostname string
	// LogLevel is the level of the `log stdout` line.
	LogLevel string
	// VRFs are the names of the non-default VRFs that have a router, in
	// order; each gets its own `ip nht resolve-via-default` lines.
	VRFs []string
	// Routers are the BGP instances, the default VRF ("") first, then by
	// VRF name.
	Routers []Router
	// RouteMaps are, in this order: the inbound deny-all map, one origin
	// map per class (by tag) and one outbound map per peer (by peer name).
	// The node router (package noderouter) appends its maps, by name.
	RouteMaps []RouteMap
	// BFDProfiles are the profiles the node's peers use, by name.
	BFDProfiles []BFDProfile
	// PrefixLists are the prefix-lists that route-maps match, by name.
	// Only the node router's additions (package noderouter) make them, so
	// a configuration without FRRConfigurations has none.
	PrefixLists []PrefixList
	// Raw are snippets of raw FRR configuration written, in order, at the
	// end of the file (FRRConfiguration spec.raw).
	Raw []string
	// Announced says, per Service announced on this node, to which peers:
	// what ServiceBGPStatus reports. Sorted by Service key; Services
	// announced to no peer are left out. It is not rendered.
	Announced []ServicePeers
}

// Router is one `router bgp` block: the peers of one VRF.
type Router struct {
	ASN uint32
	// VRF is "" for the default VRF.
	VRF string
	// RouterID is the bgp router-id, or "" to let FRR choose.
	RouterID string
	// GracefulRestart is `bgp graceful-restart`: set when every neighbor
	// of the router enables graceful restart, so that no per-neighbor
	// line is needed (see Neighbor.GracefulRestart).
	GracefulRestart bool
	// PreserveForwardingState is `bgp graceful-restart preserve-fw-state`,
	// set when any neighbor enables graceful restart: the routes come from
	// network statements, not from a forwarding table FRR would lose, so
	// helpers may keep them while FRR restarts.
	PreserveForwardingState bool
	// Neighbors are sorted by address, IPv4 first; unnumbered ones, by
	// interface, come before the others.
	Neighbors []Neighbor
	// AddressFamilies are "ipv4 unicast" then "ipv6 unicast", each only
	// when some neighbor is activated in it or, for the node router
	// (package noderouter), it imports a VRF.
	AddressFamilies []AddressFamily
}

// Neighbor is one BGP session of a router.
type Neighbor struct {
	// Peer is the BGPPeer's name, also written as the description.
	Peer string
	// Address names the neighbor in every `neighbor X ...` line: the
	// peer's address, or the interface of an unnumbered session.
	Address string
	// Interface is the link of the session, or "". With Unnumbered the
	// neighbor is `neighbor IFACE interface remote-as AS` and FRR finds
	// the peer's link-local address itself; otherwise Address is the
	// peer's IPv6 link-local address and `neighbor ADDR interface IFACE`
	// scopes it to the link.
	Interface  string
	Unnumbered bool
	// RemoteAS is an AS number, "internal" or "external".
	RemoteAS string
	// LocalAS is the AS number the peer sees instead of the router's,
	// `neighbor X local-as N no-prepend replace-as`; 0 for none.
	LocalAS uint32
	// BFD enables BFD on the session, with BFDProfile when it is not "".
	BFD        bool
	BFDProfile string
	// Password is the TCP MD5 password; only the template reveals it.
	Password config.Password
	// Port is the peer's TCP port, or 0 for FRR's default, 179.
	Port uint16
	// EBGPMultiHop allows the eBGP session over several hops (TTL 255).
	EBGPMultiHop bool
	// UpdateSource is the local address of the session, or "".
	UpdateSource string
	// DisableConnectedCheck is `neighbor X disable-connected-check`, as
	// MetalLB writes it for a single-hop eBGP session to an IPv6 address:
	// FRR then opens the session even when the peer's address is not on
	// a connected network of the node (a global address reached through a
	// link-local next hop, say).
	DisableConnectedCheck bool
	// Timers are the keepalive and hold times, or nil for FRR's defaults.
	Timers *Timers
	// ConnectTime is the connect retry time in seconds, or 0 for FRR's
	// default.
	ConnectTime uint32
	// GracefulRestart is `neighbor X graceful-restart`, set only when the
	// router's other neighbors do not all want it (Router.GracefulRestart
	// covers that case). FRR 8.4 rejects the line when it is repeated, so
	// frr-reload.py exits 1 after adding it although the configuration is
	// applied (FRRouting/frr#15880).
	GracefulRestart bool
}

// Timers are a neighbor's BGP timers in seconds.
type Timers struct {
	Keepalive, Hold uint32
}

// AddressFamily is one address-family block of a router.
type AddressFamily struct {
	// Name is "ipv4 unicast" or "ipv6 unicast".
	Name string
	// Networks are the prefixes announced in this family, in address
	// order (shorter prefix first for the same address).
	Networks []Network
	// Neighbors are the neighbors activated in the family, in the order
	// of Router.Neighbors.
	Neighbors []AFNeighbor
	// ImportVRFs are the VRFs whose routes the family imports, `import
	// vrf NAME`, sorted. Only the node router (package noderouter) sets
	// them (FRRConfiguration imports).
	ImportVRFs []string
}

// Network is a network statement: a prefix the router originates, with
// the origin route-map that tags it with its class ("" for none: a
// prefix of an FRRConfiguration).
type Network struct {
	Prefix   netip.Prefix
	RouteMap string
}

// AFNeighbor activates a neighbor in an address family, with its policies.
type AFNeighbor struct {
	Address     string
	RouteMapIn  string
	RouteMapOut string
}

// RouteMap is a route-map with its entries in sequence order.
type RouteMap struct {
	Name    string
	Entries []RouteMapEntry
}

// RouteMapEntry is one `route-map NAME ACTION SEQ` entry. Zero fields
// are left out.
type RouteMapEntry struct {
	// Action is "permit" or "deny".
	Action string
	Seq    uint32
	// MatchTag matches routes of that tag; 0 matches every route.
	MatchTag uint32
	// MatchPrefixList matches the routes the prefix-list permits, an
	// ipv6 prefix-list when MatchIPv6; "" matches every route.
	MatchPrefixList string
	MatchIPv6       bool
	// SetTag tags the route; 0 leaves it.
	SetTag uint32
	// Communities are standard communities added to the route, in FRR's
	// form and order: numeric order, well-known values by name.
	Communities []string
	// LargeCommunities are large communities added, in numeric order.
	LargeCommunities []string
	// SetLocalPref sets LOCAL_PREF to LocalPref (which may be 0).
	SetLocalPref bool
	LocalPref    uint32
	// Call applies that route-map after this entry's sets (`call NAME`);
	// the route is denied if it denies. Only the node router (package
	// noderouter) sets it.
	Call string
}

// PrefixList is an ip or ipv6 prefix-list with its entries in sequence
// order.
type PrefixList struct {
	Name    string
	IPv6    bool
	Entries []PrefixListEntry
}

// PrefixListEntry is `seq SEQ ACTION PREFIX [ge GE] [le LE]`; a zero GE
// or LE is left out.
type PrefixListEntry struct {
	Seq    uint32
	Action string
	Prefix netip.Prefix
	GE, LE uint32
}

// BFDProfile is a profile of the bfd block. A zero number means FRR's
// default, which is not written.
type BFDProfile struct {
	Name             string
	DetectMultiplier uint32
	TransmitInterval uint32
	ReceiveInterval  uint32
	PassiveMode      bool
	EchoMode         bool
	// EchoInterval sets both the echo transmit and receive intervals.
	EchoInterval uint32
	MinimumTTL   uint32
}

// ServicePeers is the list of peers one Service is announced to.
type ServicePeers struct {
	// Service is the Service's "namespace/name".
	Service string
	// Peers are BGPPeer names, sorted.
	Peers []string
}
