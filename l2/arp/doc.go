// Package arp answers ARP requests for the IPv4 addresses a node
// announces on one interface, and sends the gratuitous ARP that moves
// the neighbors of the segment to this node when it takes an address
// over.
//
// A Responder reads Ethernet frames from a Conn (a raw AF_PACKET socket
// in production, see Listen; a fake in tests), and answers a request
// only for an address it currently owns, set with SetOwned. It builds
// and parses packets with github.com/mdlayher/arp but not its Client,
// which insists on an IPv4 address on the interface that Layer 2
// announcement does not need.
//
// It ignores the frames it sent itself (a packet socket sees them too),
// and announcements (sender IP equal to target IP) of other hosts; it
// answers probes (sender IP 0.0.0.0) as Linux does, to defend the
// address.
package arp
