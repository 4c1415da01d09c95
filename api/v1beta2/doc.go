// Package v1beta2 holds the metallb.io/v1beta2 BGPPeer type, the storage
// version of BGP peers, with MetalLB's field names.
//
// +kubebuilder:object:generate=true
// +groupName=metallb.io
package v1beta2
