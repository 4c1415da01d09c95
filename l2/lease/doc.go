// Package lease holds the ownership of Layer 2 Service IPs through
// Kubernetes Leases (coordination.k8s.io/v1), for the speaker's opt-in
// --l2-ownership=lease mode: an IP is answered for by at most one node at
// a time, also while the LAN is partitioned.
//
// The election (package election, over the memberlist view) still picks
// the node for each IP; a node answers for an IP only while it holds the
// IP's Lease, and holds it only while it can renew it:
//
//   - Decide is the pure rule: from whether the election gives this node
//     the IP, what it knows of the Lease and the time, it says whether to
//     answer and what to do (read, acquire, renew, release).
//   - Client reads and writes the Leases (named by Name, in the
//     speaker's namespace, labelled); every write carries the
//     resourceVersion last seen, so two nodes never both win one.
//   - Keeper runs Decide for every IP of interest, filters the node's
//     election assignment down to the IPs it may answer for, and applies
//     the actions through Client.
//
// Time is only ever compared on one node's clock, as client-go's leader
// election does: a node that does not hold a Lease takes it only once it
// has seen the same record unchanged for the Lease's duration (or
// released), and the holder stops answering RenewDeadline after it sent
// the last renewal that succeeded, which is earlier.
package lease
