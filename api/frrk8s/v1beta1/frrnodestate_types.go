package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FRRNodeStateSpec is empty: the object only reports.
type FRRNodeStateSpec struct{}

// FRRNodeStateStatus is what the node's router last did.
type FRRNodeStateStatus struct {
	// DesiredConfig is the frr.conf computed from the merged
	// configuration.
	// +optional
	DesiredConfig string `json:"desiredConfig,omitempty"`
	// RunningConfig is FRR's running configuration.
	// +optional
	RunningConfig string `json:"runningConfig,omitempty"`
	// LastConversionResult is "success", or the error of the last merge
	// of the node's FRRConfigurations and ironlb's announcements.
	// +optional
	LastConversionResult string `json:"lastConversionResult,omitempty"`
	// LastReloadResult is "success", or the error of the last reload of
	// FRR.
	// +optional
	LastReloadResult string `json:"lastReloadResult,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster

// FRRNodeState reports the state of one node's FRR; it is named after the
// node.
type FRRNodeState struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   FRRNodeStateSpec   `json:"spec,omitempty"`
	Status FRRNodeStateStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// FRRNodeStateList is a list of FRRNodeState.
type FRRNodeStateList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []FRRNodeState `json:"items"`
}
