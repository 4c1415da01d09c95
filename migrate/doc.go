// Package migrate predicts what happens when ironlb replaces a running
// MetalLB: which Services keep their IPs, which would move or lose their
// announcement and why, and what in MetalLB's objects, annotations and
// flags ironlb reads differently. It is pure: the cluster's objects in, a
// Report out. `ironlb migrate check` reads the objects (never writing)
// and prints the Report.
package migrate
