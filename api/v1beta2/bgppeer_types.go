package v1beta2

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// DynamicASNMode lets the peer's AS number be learned instead of configured.
type DynamicASNMode string

// The dynamic ASN modes.
const (
	// InternalASNMode accepts only a peer in our own AS (iBGP).
	InternalASNMode DynamicASNMode = "internal"
	// ExternalASNMode accepts only a peer in another AS (eBGP).
	ExternalASNMode DynamicASNMode = "external"
)

// BGPPeerSpec describes a BGP session that speakers open.
// +kubebuilder:validation:XValidation:rule="has(self.peerASN) != has(self.dynamicASN)",message="exactly one of peerASN and dynamicASN must be set"
// +kubebuilder:validation:XValidation:rule="has(self.peerAddress) || has(self.interface)",message="one of peerAddress and interface must be set"
// +kubebuilder:validation:XValidation:rule="!has(self.peerAddress) || !has(self.interface) || (isIP(self.peerAddress) && ip(self.peerAddress).family() == 6 && ip(self.peerAddress).isLinkLocalUnicast())",message="with interface set, peerAddress must be empty or an IPv6 link-local address"
// +kubebuilder:validation:XValidation:rule="!has(self.holdTime) || !has(self.keepaliveTime) || duration(self.keepaliveTime) <= duration(self.holdTime)",message="keepaliveTime must not be longer than holdTime"
// +kubebuilder:validation:XValidation:rule="!has(self.password) || !has(self.passwordSecret) || !has(self.passwordSecret.name)",message="password and passwordSecret are mutually exclusive"
type BGPPeerSpec struct {
	// MyASN is the local AS number of the session.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	MyASN uint32 `json:"myASN"`

	// ASN is the AS number expected from the peer. Exactly one of peerASN
	// and dynamicASN is set.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	ASN uint32 `json:"peerASN,omitempty"`

	// DynamicASN accepts any peer AS that is internal (same as myASN) or
	// external (different from it).
	// +optional
	// +kubebuilder:validation:Enum=internal;external
	DynamicASN DynamicASNMode `json:"dynamicASN,omitempty"`

	// Address of the peer.
	// +optional
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="peerAddress must be an IPv4 or IPv6 address"
	Address string `json:"peerAddress,omitempty"`

	// Interface is the node's interface of an unnumbered session: the peer
	// is found on that link by IPv6 neighbor discovery, and IPv4 and IPv6
	// routes share the session (IPv6 link-local next hops). peerAddress is
	// then empty, or the peer's IPv6 link-local address on that link.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:XValidation:rule="self.matches('^[^\\\\s/]+$')",message="interface must not contain whitespace or '/'"
	Interface string `json:"interface,omitempty"`

	// SrcAddress is the local address of the session.
	// +optional
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="sourceAddress must be an IPv4 or IPv6 address"
	SrcAddress string `json:"sourceAddress,omitempty"`

	// Port of the peer.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=16384
	// +kubebuilder:default:=179
	Port uint16 `json:"peerPort,omitempty"`

	// HoldTime is the BGP hold time: 0 (no keepalives) or 3s to 65535s.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) == duration('0s') || (duration(self) >= duration('3s') && duration(self) <= duration('65535s'))",message="holdTime must be 0 or between 3s and 65535s"
	// +kubebuilder:validation:XValidation:rule="duration(self).getMilliseconds() % 1000 == 0",message="holdTime must be a whole number of seconds"
	HoldTime *metav1.Duration `json:"holdTime,omitempty"`

	// KeepaliveTime is the BGP keepalive interval, at most holdTime.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s') && duration(self) <= duration('65535s')",message="keepaliveTime must be between 0s and 65535s"
	// +kubebuilder:validation:XValidation:rule="duration(self).getMilliseconds() % 1000 == 0",message="keepaliveTime must be a whole number of seconds"
	KeepaliveTime *metav1.Duration `json:"keepaliveTime,omitempty"`

	// ConnectTime is how long BGP waits between connection attempts.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s') && duration(self) <= duration('65535s')",message="connectTime must be between 1s and 65535s"
	// +kubebuilder:validation:XValidation:rule="duration(self).getMilliseconds() % 1000 == 0",message="connectTime must be a whole number of seconds"
	ConnectTime *metav1.Duration `json:"connectTime,omitempty"`

	// RouterID is the BGP router ID, an IPv4 address.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:XValidation:rule="isIP(self) && ip(self).family() == 4",message="routerID must be an IPv4 address"
	RouterID string `json:"routerID,omitempty"`

	// NodeSelectors limit the nodes that open the session; empty means all.
	// +optional
	NodeSelectors []metav1.LabelSelector `json:"nodeSelectors,omitempty"`

	// Password for TCP MD5 authentication. Prefer passwordSecret.
	// +optional
	// +kubebuilder:validation:MaxLength=80
	// +kubebuilder:validation:XValidation:rule="self.matches('^\\\\S+$')",message="password must not be empty or contain whitespace"
	Password string `json:"password,omitempty"`

	// PasswordSecret names a kubernetes.io/basic-auth Secret, in the
	// namespace ironlb runs in, whose "password" key holds the password.
	// +optional
	PasswordSecret corev1.SecretReference `json:"passwordSecret,omitempty"`

	// BFDProfile names the BFDProfile of the session's BFD; empty means no BFD.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^\\\\S+$')",message="bfdProfile must not contain whitespace"
	BFDProfile string `json:"bfdProfile,omitempty"`

	// EnableGracefulRestart keeps the peer's routes while the speaker
	// restarts. It cannot change after creation, since changing it resets
	// the session.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="enableGracefulRestart cannot be changed after creation"
	EnableGracefulRestart bool `json:"enableGracefulRestart,omitempty"`

	// EBGPMultiHop allows an eBGP peer that is more than one hop away.
	// +optional
	EBGPMultiHop bool `json:"ebgpMultiHop,omitempty"`

	// VRFName is the host VRF the session runs in; empty means the default.
	// +optional
	// +kubebuilder:validation:MaxLength=15
	// +kubebuilder:validation:XValidation:rule="self.matches('^[^\\\\s/]+$')",message="vrf must not contain whitespace or '/'"
	VRFName string `json:"vrf,omitempty"`

	// DisableMP keeps IPv4 and IPv6 routes on sessions of their own family.
	// Deprecated: accepted for compatibility.
	// +optional
	DisableMP bool `json:"disableMP,omitempty"`

	// DualStackAddressFamily enables both address families on the session.
	// +optional
	DualStackAddressFamily bool `json:"dualStackAddressFamily,omitempty"`

	// LocalASN is the AS number the peer sees on this session instead of
	// myASN: FRR's "neighbor PEER local-as LOCALASN no-prepend
	// replace-as". For eBGP sessions only: it must differ from myASN, and
	// the peer must not be in myASN (peerASN equal to myASN, or
	// dynamicASN internal).
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=4294967295
	// +kubebuilder:validation:Format=int64
	LocalASN uint32 `json:"localASN,omitempty"`
}

// BGPPeerStatus is empty; session state is reported per node.
type BGPPeerStatus struct{}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Address",type=string,JSONPath=`.spec.peerAddress`
// +kubebuilder:printcolumn:name="ASN",type=string,JSONPath=`.spec.peerASN`
// +kubebuilder:printcolumn:name="BFD Profile",type=string,JSONPath=`.spec.bfdProfile`
// +kubebuilder:printcolumn:name="Multi Hops",type=string,JSONPath=`.spec.ebgpMultiHop`

// BGPPeer is a BGP session that speakers open to a router.
type BGPPeer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   BGPPeerSpec   `json:"spec,omitempty"`
	Status BGPPeerStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// BGPPeerList is a list of BGPPeer.
type BGPPeerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BGPPeer `json:"items"`
}
