package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// L2AdvertisementSpec says which pools are announced in Layer 2 mode, from
// which nodes and on which interfaces.
type L2AdvertisementSpec struct {
	// IPAddressPools names the pools announced. With neither this nor
	// IPAddressPoolSelectors, every pool is announced.
	// +optional
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=253
	IPAddressPools []string `json:"ipAddressPools,omitempty"`

	// IPAddressPoolSelectors select the pools announced by their labels.
	// +optional
	IPAddressPoolSelectors []metav1.LabelSelector `json:"ipAddressPoolSelectors,omitempty"`

	// NodeSelectors limit the nodes that announce; empty means all nodes.
	// +optional
	NodeSelectors []metav1.LabelSelector `json:"nodeSelectors,omitempty"`

	// ServiceSelectors limit the advertisement to the Services of its
	// pools whose labels one of these selectors matches; empty means
	// every Service. As in MetalLB, a Service with the allow-shared-ip
	// annotation is not announced when an advertisement with
	// serviceSelectors applies to it.
	// +optional
	ServiceSelectors []metav1.LabelSelector `json:"serviceSelectors,omitempty"`

	// Interfaces limits the announcement to these interfaces; empty means
	// every eligible interface.
	// +optional
	// +kubebuilder:validation:MaxItems=256
	// +kubebuilder:validation:items:MaxLength=15
	// +kubebuilder:validation:items:XValidation:rule="self.matches('^[^\\\\s/]+$')",message="interface name must not be empty or contain whitespace or '/'"
	Interfaces []string `json:"interfaces,omitempty"`

	// PreferredNodeSelectors rank the nodes that may announce: among the
	// candidates for an IP, the node with the highest preference wins
	// (draining nodes still rank last), and the hash of node and IP
	// breaks ties. A node's preference from
	// this advertisement is the sum of the weights of the terms whose
	// preference selects it, and counts only when NodeSelectors select
	// the node; when several advertisements select a node for an IP,
	// their preferences add up, as in MetalLB. Unlike NodeSelectors it never
	// takes a node out of the election: a less preferred node still takes
	// over when no preferred one can announce.
	// +optional
	// +kubebuilder:validation:MaxItems=32
	PreferredNodeSelectors []PreferredNodeSelector `json:"preferredNodeSelectors,omitempty"`
}

// PreferredNodeSelector is one weighted preference for the nodes that
// announce, like a PreferredSchedulingTerm of a Pod's node affinity.
type PreferredNodeSelector struct {
	// Weight is added to the preference of the nodes that Preference
	// selects.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	Weight int32 `json:"weight"`

	// Preference selects the nodes by their labels; an empty selector
	// selects every node.
	Preference metav1.LabelSelector `json:"preference"`
}

// L2AdvertisementStatus is empty; announcement state lives in ServiceL2Status.
type L2AdvertisementStatus struct{}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="IPAddressPools",type=string,JSONPath=`.spec.ipAddressPools`
// +kubebuilder:printcolumn:name="IPAddressPool Selectors",type=string,JSONPath=`.spec.ipAddressPoolSelectors`
// +kubebuilder:printcolumn:name="Interfaces",type=string,JSONPath=`.spec.interfaces`
// +kubebuilder:printcolumn:name="Node Selectors",type=string,JSONPath=`.spec.nodeSelectors`,priority=10

// L2Advertisement announces the IPs of some pools with ARP and NDP.
type L2Advertisement struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   L2AdvertisementSpec   `json:"spec,omitempty"`
	Status L2AdvertisementStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// L2AdvertisementList is a list of L2Advertisement.
type L2AdvertisementList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []L2Advertisement `json:"items"`
}
