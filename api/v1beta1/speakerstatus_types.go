package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SpeakerStatusStatus is what one node's speaker last saw of its BGP
// sessions and of getting its configuration into FRR.
type SpeakerStatusStatus struct {
	// Node is the node of the speaker.
	Node string `json:"node,omitempty"`
	// Phase is normal, graceful-shutdown (moving traffic away before a
	// planned departure) or withdrawn.
	// +optional
	Phase string `json:"phase,omitempty"`
	// LastApply is the outcome of the last attempt to configure FRR.
	// +optional
	LastApply *ApplyResult `json:"lastApply,omitempty"`
	// Sessions are the node's BGP sessions, sorted by peer.
	// +optional
	Sessions []BGPSession `json:"sessions,omitempty"`
}

// ApplyResult is the outcome of one configuration of FRR.
type ApplyResult struct {
	// Time the apply finished.
	Time metav1.Time `json:"time"`
	// Path is "none" (nothing to change), "fast" (only the changes, sent
	// through vtysh) or "full" (frr-reload.py).
	Path string `json:"path,omitempty"`
	// Succeeded reports whether FRR runs the desired configuration.
	Succeeded bool `json:"succeeded"`
	// Stage that failed, when one did.
	// +optional
	Stage string `json:"stage,omitempty"`
	// Message is FRR's own message on failure.
	// +optional
	Message string `json:"message,omitempty"`
	// DurationMilliseconds the apply took.
	DurationMilliseconds int64 `json:"durationMilliseconds"`
}

// BGPSession is the state of one BGP session.
type BGPSession struct {
	// Peer is the BGPPeer's name.
	Peer string `json:"peer"`
	// Address of the peer.
	Address string `json:"address,omitempty"`
	// VRF of the session; empty for the default VRF.
	// +optional
	VRF string `json:"vrf,omitempty"`
	// State is the BGP state (Established, Active, Connect, ...).
	State string `json:"state,omitempty"`
	// Since is when the session entered its state, when FRR says.
	// +optional
	Since *metav1.Time `json:"since,omitempty"`
	// EstablishedTransitions counts how often the session came up.
	// +optional
	EstablishedTransitions int64 `json:"establishedTransitions,omitempty"`
	// PrefixesSent counts the prefixes advertised to the peer.
	// +optional
	PrefixesSent int64 `json:"prefixesSent,omitempty"`
	// PrefixesReceived counts the prefixes received from the peer and
	// accepted by its inbound filter (what FRRConfigurations let in with
	// toReceive; ironlb's own peers accept none).
	// +optional
	PrefixesReceived int64 `json:"prefixesReceived,omitempty"`
	// BFD is the state of the session's BFD peer, when BFD is on.
	// +optional
	BFD string `json:"bfd,omitempty"`
	// LastError is FRR's last error or notification for the session.
	// +optional
	LastError string `json:"lastError,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Node",type=string,JSONPath=`.status.node`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Applied",type=boolean,JSONPath=`.status.lastApply.succeeded`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// SpeakerStatus reports one node's BGP sessions and last FRR apply. It is
// ironlb's own kind (MetalLB has none); the speaker of the node named like
// the object writes it.
type SpeakerStatus struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Status SpeakerStatusStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// SpeakerStatusList is a list of SpeakerStatus.
type SpeakerStatusList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SpeakerStatus `json:"items"`
}
