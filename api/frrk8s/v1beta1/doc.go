// Package v1beta1 holds the frrk8s.metallb.io/v1beta1 API types that
// ironlb serves so that its node router speaks the frr-k8s API:
// FRRConfiguration (pieces of a node's FRR configuration, merged with
// ironlb's own announcements), and the status objects FRRNodeState and
// BGPSessionState. The field names, JSON tags and their meaning are
// frr-k8s's, so existing manifests apply unchanged. The package holds no
// logic beyond scheme registration; merging lives in package noderouter.
//
// +kubebuilder:object:generate=true
// +groupName=frrk8s.metallb.io
package v1beta1
