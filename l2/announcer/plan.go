package announcer

import (
	"cmp"
	"net/netip"
	"slices"

	"github.com/ironlb/ironlb/l2/iface"
)

// Protocol is the neighbor protocol of a responder.
type Protocol string

// The protocols: ARP for IPv4, NDP for IPv6.
const (
	ARP Protocol = "arp"
	NDP Protocol = "ndp"
)

// ProtocolOf returns the protocol that announces ip.
func ProtocolOf(ip netip.Addr) Protocol {
	if ip.Unmap().Is4() {
		return ARP
	}
	return NDP
}

// slot identifies a responder: one protocol on one link, as it was when
// the responder was opened.
type slot struct {
	Name  string
	Index int
	MAC   string
	Proto Protocol
}

func slotOf(l iface.Link, p Protocol) slot {
	return slot{Name: l.Name, Index: l.Index, MAC: l.HardwareAddr.String(), Proto: p}
}

func compareSlots(a, b slot) int {
	return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Index, b.Index), cmp.Compare(a.MAC, b.MAC), cmp.Compare(a.Proto, b.Proto))
}

// plan is what should be announced where.
type plan struct {
	// slots maps each responder that should run to its IPs, sorted.
	slots map[slot][]netip.Addr
	// links are the links by slot, to open responders on.
	links map[slot]iface.Link
}

// makePlan places each IP on the usable links among links that its
// allowed interfaces (none meaning all) permit. It is pure.
func makePlan(want map[netip.Addr][]string, links []iface.Link, exclude []string) plan {
	p := plan{slots: map[slot][]netip.Addr{}, links: map[slot]iface.Link{}}
	for ip, allowed := range want {
		ip = ip.Unmap()
		for _, l := range iface.Select(links, allowed, exclude) {
			s := slotOf(l, ProtocolOf(ip))
			p.slots[s] = append(p.slots[s], ip)
			p.links[s] = l
		}
	}
	for s := range p.slots {
		slices.SortFunc(p.slots[s], netip.Addr.Compare)
	}
	return p
}

// IPStatus is where one IP is announced.
type IPStatus struct {
	IP netip.Addr
	// Interfaces announce the IP now, sorted. Empty means the node
	// should announce it but cannot: no usable interface, or its
	// responders failed to open.
	Interfaces []string
	// Handover is set while the node keeps announcing an IP it no
	// longer owns, for the new owner to take over.
	Handover bool
}

// status lists the IPs of want with the interfaces of the running
// responders that have them, sorted by IP.
func status(want map[netip.Addr][]string, handover map[netip.Addr]bool, running map[slot][]netip.Addr) []IPStatus {
	on := map[netip.Addr][]string{}
	for s, ips := range running {
		for _, ip := range ips {
			on[ip] = append(on[ip], s.Name)
		}
	}
	out := make([]IPStatus, 0, len(want))
	for ip := range want {
		ip = ip.Unmap()
		names := on[ip]
		slices.Sort(names)
		out = append(out, IPStatus{IP: ip, Interfaces: slices.Compact(names), Handover: handover[ip]})
	}
	slices.SortFunc(out, func(a, b IPStatus) int { return a.IP.Compare(b.IP) })
	return out
}

func sameStatus(a, b []IPStatus) bool {
	return slices.EqualFunc(a, b, func(x, y IPStatus) bool {
		return x.IP == y.IP && x.Handover == y.Handover && slices.Equal(x.Interfaces, y.Interfaces)
	})
}

// diff returns the IPs of b that a lacks and of a that b lacks; both
// inputs are sorted.
func diff(a, b []netip.Addr) (gained, lost []netip.Addr) {
	for _, ip := range b {
		if _, ok := slices.BinarySearchFunc(a, ip, netip.Addr.Compare); !ok {
			gained = append(gained, ip)
		}
	}
	for _, ip := range a {
		if _, ok := slices.BinarySearchFunc(b, ip, netip.Addr.Compare); !ok {
			lost = append(lost, ip)
		}
	}
	return gained, lost
}
