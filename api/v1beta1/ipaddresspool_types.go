package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IPAddressPoolSpec is the desired state of an IPAddressPool.
type IPAddressPoolSpec struct {
	// Addresses lists the ranges the pool hands out, each either a CIDR
	// prefix (192.0.2.0/24, 2001:db8::/120) or an inclusive range
	// (192.0.2.10-192.0.2.20).
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=100
	// +kubebuilder:validation:items:XValidation:rule="isCIDR(self) || self.matches('^[0-9a-fA-F:.]+ *- *[0-9a-fA-F:.]+$')",message="must be a CIDR prefix or a range first-last"
	Addresses []string `json:"addresses"`

	// AutoAssign set to false keeps the pool for services that ask for it
	// by annotation or by requesting one of its addresses.
	// +optional
	// +kubebuilder:default:=true
	AutoAssign *bool `json:"autoAssign,omitempty"`

	// AvoidBuggyIPs skips IPv4 addresses ending in .0 and .255.
	// +optional
	// +kubebuilder:default:=false
	AvoidBuggyIPs bool `json:"avoidBuggyIPs,omitempty"`

	// ServiceAllocation restricts the pool to some services and sets its
	// priority among the pools that serve them.
	// +optional
	ServiceAllocation *ServiceAllocation `json:"serviceAllocation,omitempty"`
}

// ServiceAllocation restricts a pool to the services that match it.
type ServiceAllocation struct {
	// Priority orders the pools a service matches: a lower number is tried
	// first, and pools without a priority come last.
	// +optional
	// +kubebuilder:validation:Minimum=0
	Priority int `json:"priority,omitempty"`

	// Namespaces lists the namespaces whose services may use the pool.
	// +optional
	// +kubebuilder:validation:MaxItems=1024
	// +kubebuilder:validation:items:MaxLength=63
	Namespaces []string `json:"namespaces,omitempty"`

	// NamespaceSelectors select the namespaces whose services may use the pool.
	// +optional
	NamespaceSelectors []metav1.LabelSelector `json:"namespaceSelectors,omitempty"`

	// ServiceSelectors select the services that may use the pool.
	// +optional
	ServiceSelectors []metav1.LabelSelector `json:"serviceSelectors,omitempty"`
}

// IPAddressPoolStatus is the observed use of an IPAddressPool.
type IPAddressPoolStatus struct {
	// AssignedIPv4 counts the IPv4 addresses in use.
	AssignedIPv4 int64 `json:"assignedIPv4"`
	// AssignedIPv6 counts the IPv6 addresses in use.
	AssignedIPv6 int64 `json:"assignedIPv6"`
	// AvailableIPv4 counts the IPv4 addresses still free.
	AvailableIPv4 int64 `json:"availableIPv4"`
	// AvailableIPv6 counts the IPv6 addresses still free (saturating at the
	// largest int64 for very large pools).
	AvailableIPv6 int64 `json:"availableIPv6"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Auto Assign",type=boolean,JSONPath=`.spec.autoAssign`
// +kubebuilder:printcolumn:name="Avoid Buggy IPs",type=boolean,JSONPath=`.spec.avoidBuggyIPs`
// +kubebuilder:printcolumn:name="Addresses",type=string,JSONPath=`.spec.addresses`

// IPAddressPool is a set of addresses that LoadBalancer services get their
// IPs from.
type IPAddressPool struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   IPAddressPoolSpec   `json:"spec"`
	Status IPAddressPoolStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// IPAddressPoolList is a list of IPAddressPool.
type IPAddressPoolList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []IPAddressPool `json:"items"`
}
