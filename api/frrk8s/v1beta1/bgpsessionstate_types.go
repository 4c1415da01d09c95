package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The labels of a BGPSessionState, as frr-k8s sets them, so that
// `kubectl get bgpsessionstates -l frrk8s.metallb.io/node=NODE` works.
const (
	// LabelNode is the name of the node of the session.
	LabelNode = "frrk8s.metallb.io/node"
	// LabelPeer is the neighbor: its address, or the interface of an
	// unnumbered session.
	LabelPeer = "frrk8s.metallb.io/peer"
	// LabelVRF is the VRF of the session, "" for the default one.
	LabelVRF = "frrk8s.metallb.io/vrf"
)

// BFDStatusNotConfigured is the bfdStatus of a session without BFD.
const BFDStatusNotConfigured = "N/A"

// BGPSessionStateSpec is empty: the object only reports.
type BGPSessionStateSpec struct{}

// BGPSessionStateStatus is the state of one BGP session of a node.
type BGPSessionStateStatus struct {
	// BGPStatus is FRR's state of the session (Established, Active, ...).
	// +optional
	BGPStatus string `json:"bgpStatus,omitempty"`
	// BFDStatus is the state of the session's BFD peer (up, down, ...),
	// or N/A without BFD.
	// +optional
	BFDStatus string `json:"bfdStatus,omitempty"`
	// Node is the node of the session.
	// +optional
	Node string `json:"node,omitempty"`
	// Peer is the neighbor's address, or the interface of an unnumbered
	// session.
	// +optional
	Peer string `json:"peer,omitempty"`
	// VRF is the session's VRF, "" for the default one.
	// +optional
	VRF string `json:"vrf,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:printcolumn:name="Node",type=string,JSONPath=`.status.node`
// +kubebuilder:printcolumn:name="Peer",type=string,JSONPath=`.status.peer`
// +kubebuilder:printcolumn:name="VRF",type=string,JSONPath=`.status.vrf`
// +kubebuilder:printcolumn:name="BGP",type=string,JSONPath=`.status.bgpStatus`
// +kubebuilder:printcolumn:name="BFD",type=string,JSONPath=`.status.bfdStatus`

// BGPSessionState reports one BGP session of the FRR of a node, labeled
// with LabelNode, LabelPeer and LabelVRF.
type BGPSessionState struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   BGPSessionStateSpec   `json:"spec,omitempty"`
	Status BGPSessionStateStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// BGPSessionStateList is a list of BGPSessionState.
type BGPSessionStateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []BGPSessionState `json:"items"`
}
