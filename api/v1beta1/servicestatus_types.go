package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MetalLBServiceL2Status is the observed Layer 2 announcement of a service.
type MetalLBServiceL2Status struct {
	// Node is the node that answers ARP/NDP for the service's IPs.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="node is immutable"
	Node string `json:"node,omitempty"`
	// ServiceName is the name of the service.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="serviceName is immutable"
	ServiceName string `json:"serviceName,omitempty"`
	// ServiceNamespace is the namespace of the service.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="serviceNamespace is immutable"
	ServiceNamespace string `json:"serviceNamespace,omitempty"`
	// Interfaces are the interfaces the node answers on.
	Interfaces []InterfaceInfo `json:"interfaces,omitempty"`
}

// InterfaceInfo names a network interface.
type InterfaceInfo struct {
	// Name of the interface.
	Name string `json:"name,omitempty"`
}

// ServiceL2StatusSpec is empty.
type ServiceL2StatusSpec struct{}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Allocated Node",type=string,JSONPath=`.status.node`
// +kubebuilder:printcolumn:name="Service Name",type=string,JSONPath=`.status.serviceName`
// +kubebuilder:printcolumn:name="Service Namespace",type=string,JSONPath=`.status.serviceNamespace`

// ServiceL2Status reports which node announces a service in Layer 2 mode.
type ServiceL2Status struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ServiceL2StatusSpec    `json:"spec,omitempty"`
	Status MetalLBServiceL2Status `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ServiceL2StatusList is a list of ServiceL2Status.
type ServiceL2StatusList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServiceL2Status `json:"items"`
}

// MetalLBServiceBGPStatus is the observed BGP announcement of a service by
// one node.
type MetalLBServiceBGPStatus struct {
	// Node is the node announcing the service.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="node is immutable"
	Node string `json:"node,omitempty"`
	// ServiceName is the name of the service.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="serviceName is immutable"
	ServiceName string `json:"serviceName,omitempty"`
	// ServiceNamespace is the namespace of the service.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="serviceNamespace is immutable"
	ServiceNamespace string `json:"serviceNamespace,omitempty"`
	// Peers are the BGPPeers the node is configured to announce the
	// service to.
	Peers []string `json:"peers,omitempty"`
}

// ServiceBGPStatusSpec is empty.
type ServiceBGPStatusSpec struct{}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Node",type=string,JSONPath=`.status.node`
// +kubebuilder:printcolumn:name="Service Name",type=string,JSONPath=`.status.serviceName`
// +kubebuilder:printcolumn:name="Service Namespace",type=string,JSONPath=`.status.serviceNamespace`

// ServiceBGPStatus reports the peers one node announces a service to.
type ServiceBGPStatus struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   ServiceBGPStatusSpec    `json:"spec,omitempty"`
	Status MetalLBServiceBGPStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ServiceBGPStatusList is a list of ServiceBGPStatus.
type ServiceBGPStatusList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ServiceBGPStatus `json:"items"`
}
