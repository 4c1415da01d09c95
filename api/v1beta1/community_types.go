package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CommunitySpec lists community aliases.
type CommunitySpec struct {
	// +optional
	// +kubebuilder:validation:MaxItems=1024
	Communities []CommunityAlias `json:"communities,omitempty"`
}

// CommunityAlias names a BGP community value.
type CommunityAlias struct {
	// Name is the alias that BGPAdvertisements use.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^\\\\S+$')",message="alias name must not contain whitespace"
	Name string `json:"name,omitempty"`

	// Value is a standard community (65000:100) or a large one
	// (large:65000:1:2).
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+:[0-9]+|large:[0-9]+:[0-9]+:[0-9]+)$')",message="value must be a standard community a:b or a large community large:a:b:c"
	Value string `json:"value,omitempty"`
}

// CommunityStatus is empty.
type CommunityStatus struct{}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:storageversion

// Community holds aliases for BGP community values.
type Community struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   CommunitySpec   `json:"spec,omitempty"`
	Status CommunityStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// CommunityList is a list of Community.
type CommunityList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Community `json:"items"`
}
