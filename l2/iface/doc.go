// Package iface decides which network interfaces of a node Layer 2
// announcements may use, and follows the interfaces as they change.
//
// Select is the pure part: from the links of the node, the interfaces an
// L2Advertisement allows (none means every one) and a list of name
// patterns to leave out (DefaultExclude: container, overlay and tunnel
// devices), it returns the links that can answer ARP and NDP. A link is
// never usable when it is down, has no carrier, has the NOARP flag, is a
// loopback, has no Ethernet address, or is a port of a bridge, bond,
// team or Open vSwitch.
//
// Watcher is the effectful part: it lists the links over netlink, keeps
// the list current from a link subscription (with a periodic rescan as a
// fallback) and reports every change, so that losing the carrier of an
// interface makes the node give up the IPs it announces there at once.
package iface
