// Package ndp answers IPv6 Neighbor Solicitations for the addresses a
// node announces on one interface, and sends the unsolicited Neighbor
// Advertisements that move the neighbors of the segment to this node
// when it takes an address over.
//
// A Responder uses a Conn: an ICMPv6 socket of github.com/mdlayher/ndp
// bound to the interface's link-local address in production (see
// Listen), a fake in tests. For every owned address it joins the
// solicited-node multicast group, where multicast solicitations arrive
// since the kernel does not own the address; it answers a solicitation
// only for an address it currently owns, with a solicited advertisement
// that has the Override flag and its link-layer address.
//
// The kernel routes the unicast answer to the solicitor; when this node
// has no route to it on the interface (no IPv6 address in its subnet
// there), the Responder multicasts the advertisement to all nodes
// instead, unsolicited and with Override, which completes the
// solicitor's entry as well (as STALE rather than REACHABLE).
//
// The kernel drops unicast solicitations for an address it does not own
// before they reach the socket, so a neighbor that probes a stale entry
// with unicast solicitations gets no answer and falls back to multicast
// resolution after its unicast probes. The interface needs an IPv6
// link-local address, which is the source of the advertisements.
package ndp
