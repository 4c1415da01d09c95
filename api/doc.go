// Package api holds ironlb's Kubernetes API (group metallb.io) in its
// versioned sub-packages. The tests here check the generated CRDs: that
// they are current, and that the API server enforces their rules.
package api
