// Package v1beta1 holds the metallb.io/v1beta1 API types that ironlb serves:
// address pools, advertisements, BFD profiles, community aliases, the
// status objects, and the deprecated v1beta1 form of BGPPeer. The field
// names and their meaning are MetalLB's, so existing manifests apply
// unchanged. The package holds no logic beyond scheme registration and the
// pure conversion of BGPPeer between v1beta1 and v1beta2; validation that
// spans objects lives in the config model.
//
// +kubebuilder:object:generate=true
// +groupName=metallb.io
package v1beta1
