// Package state turns the Kubernetes objects a speaker watches into the
// plain cluster state that the BGP and Layer 2 decisions are computed
// from: the configuration model, the nodes with what their labels and
// conditions mean for announcing, and the Services with their IPs, pool
// and the nodes that have serving endpoints. It is pure.
package state
