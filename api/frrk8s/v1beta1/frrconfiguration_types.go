package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FRRConfigurationSpec is one piece of the FRR configuration of the nodes
// it selects. The pieces of a node, and ironlb's own announcements, are
// merged: a piece can only add routers, neighbors, prefixes and filters,
// never take away what another piece added.
type FRRConfigurationSpec struct {
	// BGP is the BGP part of the configuration.
	// +optional
	BGP BGPConfig `json:"bgp,omitempty"`

	// Raw is FRR configuration text appended, as it is, after the
	// configuration generated from the rest of the API.
	// +optional
	Raw RawConfig `json:"raw,omitempty"`

	// NodeSelector selects the nodes the configuration applies to; empty
	// selects every node.
	// +optional
	NodeSelector metav1.LabelSelector `json:"nodeSelector,omitempty"`
}

// RawConfig is FRR configuration text appended to the generated one.
// frr-k8s marks the feature as experimental and unsupported; so does
// ironlb.
type RawConfig struct {
	// Priority orders the raw configurations of a node: a higher value is
	// appended later.
	// +optional
	Priority int `json:"priority,omitempty"`

	// Config is the FRR configuration text.
	// +optional
	Config string `json:"rawConfig,omitempty"`
}

// BGPConfig is the BGP part of an FRRConfiguration.
type BGPConfig struct {
	// Routers are the BGP instances, at most one per VRF.
	// +optional
	// +kubebuilder:validation:MaxItems=16
	Routers []Router `json:"routers"`

	// BFDProfiles are the BFD profiles neighbors may name.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	BFDProfiles []BFDProfile `json:"bfdProfiles,omitempty"`
}

// Router is one BGP instance (router bgp) of a VRF.
type Router struct {
	// ASN is the router's own AS number.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	ASN uint32 `json:"asn"`

	// ID is the BGP router ID, an IPv4 address.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:XValidation:rule="isIP(self) && ip(self).family() == 4",message="id must be an IPv4 address"
	ID string `json:"id,omitempty"`

	// VRF is the host VRF of the router's sessions; empty is the default
	// VRF.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[^\s/]+$`
	VRF string `json:"vrf,omitempty"`

	// Neighbors are the BGP sessions of the router.
	// +optional
	// +kubebuilder:validation:MaxItems=128
	Neighbors []Neighbor `json:"neighbors,omitempty"`

	// Prefixes are the prefixes the router originates (network
	// statements); a neighbor receives those its toAdvertise allows.
	// +optional
	// +kubebuilder:validation:MaxItems=4096
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:items:Pattern=`^(([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*/[0-9]{1,3})$`
	Prefixes []string `json:"prefixes,omitempty"`

	// Imports are the VRFs whose routes the router imports.
	// +optional
	// +kubebuilder:validation:MaxItems=64
	Imports []Import `json:"imports,omitempty"`
}

// Import is a VRF whose routes a router imports.
type Import struct {
	// VRF is the name of the VRF to import from.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[^\s/]+$`
	VRF string `json:"vrf,omitempty"`
}

// DynamicASNMode says which kind of AS number a neighbor must have when
// its number is not given.
// +kubebuilder:validation:Enum=internal;external
type DynamicASNMode string

// The dynamic ASN modes: the neighbor's AS is the router's own (iBGP), or
// any other (eBGP).
const (
	InternalASNMode DynamicASNMode = "internal"
	ExternalASNMode DynamicASNMode = "external"
)

// Neighbor is one BGP session of a router: to an address, or unnumbered
// over an interface.
//
// +kubebuilder:validation:XValidation:rule="has(self.address) != has(self.interface)",message="exactly one of address and interface must be set"
// +kubebuilder:validation:XValidation:rule="(has(self.asn) && self.asn != 0) != has(self.dynamicASN)",message="exactly one of asn and dynamicASN must be set"
// +kubebuilder:validation:XValidation:rule="!has(self.password) || !has(self.passwordSecret) || !has(self.passwordSecret.name)",message="password and passwordSecret are mutually exclusive"
// +kubebuilder:validation:XValidation:rule="!has(self.holdTime) || !has(self.keepaliveTime) || duration(self.keepaliveTime) <= duration(self.holdTime)",message="keepaliveTime must not be longer than holdTime"
type Neighbor struct {
	// ASN is the neighbor's AS number. Exactly one of asn and dynamicASN
	// is set.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	ASN uint32 `json:"asn,omitempty"`

	// DynamicASN accepts the neighbor's AS number as it comes, provided it
	// is the router's own (internal) or another one (external).
	// +optional
	DynamicASN DynamicASNMode `json:"dynamicASN,omitempty"`

	// SourceAddress is the local address of the session (update-source):
	// an IP address or an interface name.
	// +optional
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:Pattern=`^\S+$`
	SourceAddress string `json:"sourceaddress,omitempty"`

	// Address is the neighbor's IP address. Exactly one of address and
	// interface is set.
	// +optional
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="address must be an IPv4 or IPv6 address"
	Address string `json:"address,omitempty"`

	// Interface is the link of an unnumbered session; FRR finds the
	// neighbor's link-local address itself. Such a neighbor is active in
	// both address families.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:Pattern=`^[^\s/]+$`
	Interface string `json:"interface,omitempty"`

	// Port is the neighbor's TCP port; 179 when unset.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=16384
	Port *uint16 `json:"port,omitempty"`

	// Password is the TCP MD5 password of the session. It is mutually
	// exclusive with passwordSecret.
	// +optional
	// +kubebuilder:validation:MaxLength=80
	// +kubebuilder:validation:Pattern=`^\S+$`
	Password string `json:"password,omitempty"`

	// PasswordSecret names a Secret of type kubernetes.io/basic-auth
	// whose "password" key holds the password.
	// +optional
	PasswordSecret SecretReference `json:"passwordSecret,omitempty"`

	// HoldTime is the BGP hold time; 180s when unset.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) == duration('0s') || (duration(self) >= duration('3s') && duration(self) <= duration('65535s'))",message="holdTime must be 0 or between 3s and 65535s"
	// +kubebuilder:validation:XValidation:rule="duration(self).getMilliseconds() % 1000 == 0",message="holdTime must be a whole number of seconds"
	HoldTime *metav1.Duration `json:"holdTime,omitempty"`

	// KeepaliveTime is the BGP keepalive time; 60s when unset.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s') && duration(self) <= duration('65535s')",message="keepaliveTime must be between 0s and 65535s"
	// +kubebuilder:validation:XValidation:rule="duration(self).getMilliseconds() % 1000 == 0",message="keepaliveTime must be a whole number of seconds"
	KeepaliveTime *metav1.Duration `json:"keepaliveTime,omitempty"`

	// ConnectTime is how long BGP waits between connection attempts.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('65535s')",message="connectTime must be between 1s and 65535s"
	// +kubebuilder:validation:XValidation:rule="duration(self).getMilliseconds() % 1000 == 0",message="connectTime must be a whole number of seconds"
	ConnectTime *metav1.Duration `json:"connectTime,omitempty"`

	// EBGPMultiHop allows an eBGP session to a neighbor several hops away.
	// +optional
	EBGPMultiHop bool `json:"ebgpMultiHop,omitempty"`

	// BFDProfile names the BFD profile (of spec.bgp.bfdProfiles) of the
	// session's BFD; without it the session has no BFD.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^\S+$`
	BFDProfile string `json:"bfdProfile,omitempty"`

	// EnableGracefulRestart enables BGP graceful restart on the session;
	// an established session takes it after it reconnects.
	// +optional
	EnableGracefulRestart bool `json:"enableGracefulRestart,omitempty"`

	// ToAdvertise says which of the router's prefixes the neighbor
	// receives, and with which attributes.
	// +optional
	ToAdvertise Advertise `json:"toAdvertise,omitempty"`

	// ToReceive says which prefixes are accepted from the neighbor; none
	// when unset.
	// +optional
	ToReceive Receive `json:"toReceive,omitempty"`

	// DisableMP has no effect: frr-k8s deprecated it for
	// dualStackAddressFamily, and ironlb accepts it for compatibility.
	// +optional
	// +kubebuilder:default:=false
	DisableMP bool `json:"disableMP,omitempty"`

	// DualStackAddressFamily activates the neighbor in both address
	// families, so that IPv4 prefixes travel over an IPv6 session and the
	// other way round.
	// +optional
	// +kubebuilder:default:=false
	DualStackAddressFamily bool `json:"dualStackAddressFamily,omitempty"`
}

// AllowMode says whether a filter lets every prefix through or only
// those it lists.
// +kubebuilder:validation:Enum=all;filtered
type AllowMode string

// The allow modes.
const (
	AllowAll        AllowMode = "all"
	AllowRestricted AllowMode = "filtered"
)

// Advertise is what a neighbor receives from the router.
type Advertise struct {
	// Allowed are the prefixes the neighbor receives: with mode all, every
	// prefix of the router; with mode filtered, those listed, each of
	// which must be a prefix of the router.
	// +optional
	Allowed AllowedOutPrefixes `json:"allowed,omitempty"`

	// PrefixesWithLocalPref set a local preference on some of the allowed
	// prefixes.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	PrefixesWithLocalPref []LocalPrefPrefixes `json:"withLocalPref,omitempty"`

	// PrefixesWithCommunity add a community to some of the allowed
	// prefixes.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	PrefixesWithCommunity []CommunityPrefixes `json:"withCommunity,omitempty"`
}

// Receive is what the router accepts from a neighbor.
type Receive struct {
	// Allowed are the prefixes accepted: with mode all, every prefix;
	// with mode filtered, those the selectors match.
	// +optional
	Allowed AllowedInPrefixes `json:"allowed,omitempty"`
}

// PrefixSelector matches received prefixes: the prefix itself, or with le
// or ge, the longer prefixes inside it whose length is within [ge, le].
//
// +kubebuilder:validation:XValidation:rule="!has(self.ge) || !has(self.le) || self.ge <= self.le",message="ge must not be greater than le"
type PrefixSelector struct {
	// Prefix is the CIDR prefix to match.
	// +kubebuilder:validation:MaxLength=43
	// +kubebuilder:validation:Pattern=`^(([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*/[0-9]{1,3})$`
	Prefix string `json:"prefix,omitempty"`

	// LE accepts the prefixes inside Prefix no longer than this.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=128
	LE uint32 `json:"le,omitempty"`

	// GE accepts the prefixes inside Prefix no shorter than this.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=128
	GE uint32 `json:"ge,omitempty"`
}

// AllowedInPrefixes is the filter of the prefixes received from a
// neighbor.
type AllowedInPrefixes struct {
	// Prefixes are the selectors of mode filtered.
	// +optional
	// +kubebuilder:validation:MaxItems=512
	Prefixes []PrefixSelector `json:"prefixes,omitempty"`

	// Mode is all (accept every prefix) or filtered (only those the
	// selectors match).
	// +optional
	// +kubebuilder:default:=filtered
	Mode AllowMode `json:"mode,omitempty"`
}

// AllowedOutPrefixes is the filter of the prefixes advertised to a
// neighbor.
type AllowedOutPrefixes struct {
	// Prefixes are the prefixes of mode filtered.
	// +optional
	// +kubebuilder:validation:MaxItems=4096
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:items:Pattern=`^(([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*/[0-9]{1,3})$`
	Prefixes []string `json:"prefixes,omitempty"`

	// Mode is all (every prefix of the router) or filtered (only those
	// listed).
	// +optional
	// +kubebuilder:default:=filtered
	Mode AllowMode `json:"mode,omitempty"`
}

// LocalPrefPrefixes sets a local preference on some advertised prefixes.
type LocalPrefPrefixes struct {
	// Prefixes get the local preference; each must be advertised to the
	// neighbor.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=4096
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:items:Pattern=`^(([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*/[0-9]{1,3})$`
	Prefixes []string `json:"prefixes,omitempty"`

	// LocalPref is the LOCAL_PREF value.
	// +optional
	LocalPref uint32 `json:"localPref,omitempty"`
}

// CommunityPrefixes adds a community to some advertised prefixes.
type CommunityPrefixes struct {
	// Prefixes get the community; each must be advertised to the
	// neighbor.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=4096
	// +kubebuilder:validation:items:MaxLength=43
	// +kubebuilder:validation:items:Pattern=`^(([0-9]{1,3}\.){3}[0-9]{1,3}/[0-9]{1,2}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*/[0-9]{1,3})$`
	Prefixes []string `json:"prefixes,omitempty"`

	// Community is a standard community (65000:100, or a well-known name
	// such as no-export) or a large one (large:1:2:3).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^\S+$`
	Community string `json:"community,omitempty"`
}

// BFDProfile is a named set of BFD settings. A zero or absent value
// means FRR's default.
type BFDProfile struct {
	// Name is how neighbors refer to the profile.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^\S+$`
	Name string `json:"name"`

	// ReceiveInterval is the minimum interval, in milliseconds, at which
	// this system can receive control packets; FRR's default is 300.
	// +optional
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=60000
	ReceiveInterval *uint32 `json:"receiveInterval,omitempty"`

	// TransmitInterval is the minimum interval, in milliseconds, at which
	// this system sends control packets; FRR's default is 300.
	// +optional
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=60000
	TransmitInterval *uint32 `json:"transmitInterval,omitempty"`

	// DetectMultiplier is how many missed packets take the session down.
	// +optional
	// +kubebuilder:validation:Minimum=2
	// +kubebuilder:validation:Maximum=255
	DetectMultiplier *uint32 `json:"detectMultiplier,omitempty"`

	// EchoInterval is the minimum echo interval in milliseconds.
	// +optional
	// +kubebuilder:validation:Minimum=10
	// +kubebuilder:validation:Maximum=60000
	EchoInterval *uint32 `json:"echoInterval,omitempty"`

	// EchoMode enables echo packets (single-hop sessions only).
	// +optional
	EchoMode *bool `json:"echoMode,omitempty"`

	// PassiveMode waits for the peer's control packets before sending.
	// +optional
	PassiveMode *bool `json:"passiveMode,omitempty"`

	// MinimumTTL is the lowest TTL accepted on a multi-hop session.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=254
	MinimumTTL *uint32 `json:"minimumTtl,omitempty"`
}

// SecretReference names a Secret.
// +structType=atomic
type SecretReference struct {
	// Name of the Secret.
	// +optional
	Name string `json:"name,omitempty"`
	// Namespace of the Secret; the namespace of ironlb when empty.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// FRRConfigurationStatus is empty: frr-k8s reports per node, in
// FRRNodeState.
type FRRConfigurationStatus struct{}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status

// FRRConfiguration is a piece of the FRR configuration of the nodes it
// selects, merged with the other pieces and with ironlb's announcements.
type FRRConfiguration struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   FRRConfigurationSpec   `json:"spec,omitempty"`
	Status FRRConfigurationStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// FRRConfigurationList is a list of FRRConfiguration.
type FRRConfigurationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FRRConfiguration `json:"items"`
}
