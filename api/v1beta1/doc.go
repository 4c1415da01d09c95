// Package v1beta1 holds the metallb.io/v1beta1 API types that ironlb serves:
// address pools, advertisements, BFD profiles, community aliases and the
// status objects. The field names and their meaning are MetalLB's, so
// existing manifests apply unchanged. The package holds no logic beyond
// scheme registration; validation that spans objects lives in the config
// model.
//
// +kubebuilder:object:generate=true
// +groupName=metallb.io
package v1beta1
