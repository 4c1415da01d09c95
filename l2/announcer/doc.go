// Package announcer turns the IPs this node owns into answering
// responders and gratuitous announcements.
//
// An Announcer takes what the election assigned to the node (Update)
// and the node's links (SetLinks, from an iface.Watcher). Its Run loop
// places every IP on the usable links its advertisements allow (see
// iface.Select), opens one responder per link and protocol (ARP for
// IPv4, NDP for IPv6) through an Opener, hands each responder its IPs,
// and closes the responders no IP needs. An IP gained on a link is
// announced at once and then on the Burst schedule, optionally
// refreshed periodically; an IP lost is no longer answered for. A link
// that loses its carrier stops being usable, so the IPs on it are given
// up at once; Status and OnStatus report IPs left without an interface,
// for the speaker to act on.
//
// IPs the election lists as Handover (this node drains) are kept for
// HandoverGrace if the node announced them already, so that the new
// owner announces before this node stops (make before break); they are
// never started, and their announcements still due are dropped: the node
// answers for them but leaves announcing to the new owner.
//
// Reannounce starts the burst of every owned IP again: the speaker calls
// it when members join or come back, so that the clients that followed
// another node during a partition come back to the owner.
//
// A responder that fails is opened again after an exponential backoff.
// The Announcer reports requests answered, announcements sent, responder
// failures and the IPs announced per interface as Prometheus metrics on
// the Registerer it is given.
package announcer
