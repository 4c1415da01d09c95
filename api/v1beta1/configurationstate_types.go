package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ConfigurationStateResult is the outcome of validating the configuration.
// +kubebuilder:validation:Enum=Valid;Invalid;Unknown
type ConfigurationStateResult string

// The results a component reports.
const (
	ConfigurationStateResultValid   ConfigurationStateResult = "Valid"
	ConfigurationStateResultInvalid ConfigurationStateResult = "Invalid"
	ConfigurationStateResultUnknown ConfigurationStateResult = "Unknown"
)

// ConfigurationStateStatus is what a component last concluded about the
// configuration.
type ConfigurationStateStatus struct {
	// Result of the last validation.
	// +optional
	Result ConfigurationStateResult `json:"result,omitempty"`

	// ErrorSummary holds the errors of the last invalid configuration,
	// one per line; empty when Result is Valid. MetalLB's name for it.
	// +optional
	ErrorSummary string `json:"errorSummary,omitempty"`

	// Conditions of the component's reconcilers.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion
// +kubebuilder:printcolumn:name="Result",type=string,JSONPath=`.status.result`
// +kubebuilder:printcolumn:name="ErrorSummary",type=string,JSONPath=`.status.errorSummary`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// ConfigurationState reports whether a component (the controller, or the
// speaker of one node) accepted the current configuration. The labels
// metallb.io/component-type and metallb.io/node-name say which; its owner
// reference is the component's Pod, so it goes away with it.
type ConfigurationState struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Status ConfigurationStateStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ConfigurationStateList is a list of ConfigurationState.
type ConfigurationStateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ConfigurationState `json:"items"`
}
