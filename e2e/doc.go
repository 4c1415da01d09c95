// Package e2e holds ironlb's end-to-end tests. They build the lab
// (package e2e/lab: network namespaces, FRR, a real API server) and so
// run only as root, and not with -short; `make test` runs them.
package e2e
