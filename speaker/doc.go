// Package speaker is the per-node speaker: one level-triggered
// reconciler that reads the cluster state, computes the node's desired
// BGP configuration (package frr) and Layer 2 ownership (package l2), and
// hands them to the effects: the FRR agent and the ARP/NDP announcer. It
// also writes the node's status objects. Every event collapses into one
// queued reconcile; an apply starts as soon as the previous one ends.
package speaker
