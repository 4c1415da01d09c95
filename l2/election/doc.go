// Package election decides which node announces each Layer 2 Service IP.
//
// It owns one pure function, Elect: from the cluster state and the set of
// nodes whose speaker is alive (the memberlist view) it computes, for
// every node, the IPs it owns with the interfaces it may announce them on,
// the IPs it may keep announcing while it drains, and, for every Layer 2
// Service, the node that announces it. Elect does no I/O, and the same
// input in any order gives the same Result on every node.
//
// # Candidates
//
// The L2Advertisements that apply to a Service are those of its pool
// whose serviceSelectors match its labels (all of them when they have
// none); a Service none applies to is no Layer 2 Service. As in MetalLB,
// a Service with the allow-shared-ip annotation is not announced when an
// advertisement with serviceSelectors applies to it.
//
// A node is a candidate for a Service when its speaker is alive, its
// NetworkUnavailable condition is false, an L2Advertisement that applies
// to the Service selects it, and, for externalTrafficPolicy Local,
// it has a serving endpoint of the Service. With ElectWith's
// CanAnnounce, a node must also have a usable interface among those the
// advertisements allow it (the speakers publish theirs). A Service with
// externalTrafficPolicy Cluster needs a serving endpoint on some node,
// or nobody announces it. Node readiness is not looked at: liveness
// comes from the speakers themselves.
//
// Draining nodes (cordoned, or labelled
// node.kubernetes.io/exclude-from-external-load-balancers) are ranked
// after every other candidate: a cordoned node owns an IP only when no
// other candidate exists, an excluded node never does. Both are listed
// as Handover candidates instead, so that the node that owned the IP
// before can keep announcing it while the new owner takes over (make
// before break); see Assignment.Handover.
//
// # Groups
//
// The IPs of one Service (dual stack) and Services that share an IP are
// elected together, as one group, so they all land on one node. The
// candidates of a group are the nodes that are candidates for every
// Service in it (intersection), since traffic for all of them arrives at
// the winner; when no node qualifies for all of them, the nodes that
// qualify for at least one (union), so that the IP stays reachable for
// some of them rather than for none.
//
// # Order
//
// Within a tier (active, then cordoned; excluded nodes never win), the
// candidates of a group are ranked by their preference, highest first,
// then by the SHA-256 of "node/ip", where ip is the smallest IP of the
// group, and the first wins (ties, which need a hash collision, by
// name). The hash spreads the IPs over the nodes and moves only the IPs
// of a node that comes or goes.
//
// A node's preference for a Service is the sum of
// config.L2Advertisement.Preference (the sum of the weights of its
// preferredNodeSelectors terms that match the node) over the
// advertisements that apply to the Service and select the node, as MetalLB
// counts it; for a group, the highest over the Services of the group it is a candidate
// for. Without preferredNodeSelectors every preference is 0 and the hash
// alone decides. A preference never makes a node a candidate nor moves
// it to another tier: a preferred node that is dead or lacks a local
// endpoint is no candidate, and a cordoned one still ranks after every
// active candidate.
package election
