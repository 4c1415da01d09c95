// Package manifest decodes multi-document YAML (or JSON) manifests into the
// typed objects ironlb reads offline: the metallb.io kinds, Services, Nodes,
// Namespaces, EndpointSlices and Secrets. Other kinds are skipped and
// reported, so a whole application manifest can be fed in.
//
// Documents are read one at a time. A document in the subset of YAML
// people write by hand is decoded the fast way (subset.go, flow.go,
// scalar.go, emit.go, fast.go); any other, and any that does not
// decode, goes the general way through sigs.k8s.io/yaml, which also
// words every error.
package manifest
