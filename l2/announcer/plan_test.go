package announcer

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/l2/iface"
)

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestMakePlan(t *testing.T) {
	eth0, eth1, bond0 := link("eth0", 2), link("eth1", 3), link("bond0", 4)
	down := link("eth2", 5)
	down.Up = false
	links := []iface.Link{eth0, eth1, bond0, down, link("cali1", 6)}
	tests := []struct {
		name string
		want map[netip.Addr][]string
		plan map[slot][]netip.Addr
	}{
		{name: "nothing", plan: map[slot][]netip.Addr{}},
		{
			name: "every usable interface, both families",
			want: map[netip.Addr][]string{
				netip.MustParseAddr("192.0.2.2"):        nil,
				netip.MustParseAddr("::ffff:192.0.2.1"): nil,
				netip.MustParseAddr("2001:db8::1"):      {"bond0"},
				netip.MustParseAddr("2001:db8::2"):      {"eth2", "eth9"},
				netip.MustParseAddr("198.51.100.1"):     {"cali1", "eth1"},
			},
			plan: map[slot][]netip.Addr{
				slotOf(bond0, ARP): addrs("192.0.2.1", "192.0.2.2"),
				slotOf(bond0, NDP): addrs("2001:db8::1"),
				slotOf(eth0, ARP):  addrs("192.0.2.1", "192.0.2.2"),
				slotOf(eth1, ARP):  addrs("192.0.2.1", "192.0.2.2", "198.51.100.1"),
				{Name: "cali1", Index: 6, MAC: "02:00:00:00:00:06", Proto: ARP}: addrs("198.51.100.1"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := makePlan(tt.want, links, iface.DefaultExclude())
			if diff := cmp.Diff(tt.plan, got.slots, cmpOpts); diff != "" {
				t.Errorf("makePlan (-want +got):\n%s", diff)
			}
			for s := range got.slots {
				if got.links[s].Name != s.Name {
					t.Errorf("link of %+v is %s", s, got.links[s].Name)
				}
			}
		})
	}
}

func TestStatus(t *testing.T) {
	want := map[netip.Addr][]string{
		netip.MustParseAddr("192.0.2.1"):   nil,
		netip.MustParseAddr("192.0.2.2"):   nil,
		netip.MustParseAddr("2001:db8::1"): nil,
	}
	handover := map[netip.Addr]bool{netip.MustParseAddr("192.0.2.2"): true}
	running := map[slot][]netip.Addr{
		{Name: "eth1", Proto: ARP}: addrs("192.0.2.1"),
		{Name: "eth0", Proto: ARP}: addrs("192.0.2.1", "192.0.2.2"),
		// The same name with another index, while it is replaced.
		{Name: "eth0", Index: 9, Proto: ARP}: addrs("192.0.2.1"),
	}
	got := status(want, handover, running)
	wantStatus := []IPStatus{
		{IP: netip.MustParseAddr("192.0.2.1"), Interfaces: []string{"eth0", "eth1"}},
		{IP: netip.MustParseAddr("192.0.2.2"), Interfaces: []string{"eth0"}, Handover: true},
		{IP: netip.MustParseAddr("2001:db8::1")},
	}
	if diff := cmp.Diff(wantStatus, got, cmpOpts); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
}

func TestDiff(t *testing.T) {
	gained, lost := diff(addrs("192.0.2.1", "192.0.2.2"), addrs("192.0.2.2", "192.0.2.3"))
	if diff := cmp.Diff(addrs("192.0.2.3"), gained, cmpOpts); diff != "" {
		t.Errorf("gained (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(addrs("192.0.2.1"), lost, cmpOpts); diff != "" {
		t.Errorf("lost (-want +got):\n%s", diff)
	}
}
