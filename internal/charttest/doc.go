// Package charttest tests what ironlb ships: the Helm chart in
// charts/ironlb, rendered with bin/helm (hack/build-helm.sh) and checked
// with helm lint, golden files, a real API server (every object created,
// the service accounts' permissions asked with SubjectAccessReviews, the
// controller binary run under its own account) and, as root, the frr
// container's entrypoint against the FRR installed on the machine; and the
// binary the Dockerfile builds, which must be static.
//
// The package holds only tests.
package charttest
