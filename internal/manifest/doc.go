// Package manifest decodes multi-document YAML (or JSON) manifests into the
// typed objects ironlb reads offline: the metallb.io kinds, Services, Nodes,
// Namespaces, EndpointSlices and Secrets. Other kinds are skipped and
// reported, so a whole application manifest can be fed in.
package manifest
