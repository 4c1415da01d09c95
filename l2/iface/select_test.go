package iface

import (
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

var mac = net.HardwareAddr{0x02, 0, 0, 0, 0, 1}

// eth is a usable link.
func eth(name string) Link {
	return Link{Name: name, Index: 1, HardwareAddr: mac, Up: true, Carrier: true}
}

func with(l Link, f func(*Link)) Link { f(&l); return l }

func TestCheck(t *testing.T) {
	exclude := DefaultExclude()
	tests := []struct {
		name    string
		link    Link
		allowed []string
		want    Reason
	}{
		{name: "plain ethernet", link: eth("eth0"), want: Usable},
		{name: "bond", link: eth("bond0"), want: Usable},
		{name: "bridge itself", link: eth("br0"), want: Usable},
		{name: "vlan on a bond", link: eth("bond0.100"), want: Usable},
		{name: "in a VRF", link: with(eth("eth1"), func(l *Link) { l.MasterKind = "vrf" }), want: Usable},
		{name: "allowed by name", link: eth("eth1"), allowed: []string{"eth0", "eth1"}, want: Usable},
		{name: "not allowed", link: eth("eth2"), allowed: []string{"eth0", "eth1"}, want: NotAllowed},
		{name: "excluded by pattern", link: eth("cali12345"), want: Excluded},
		{name: "excluded exactly", link: eth("kube-bridge"), want: Excluded},
		{name: "docker", link: eth("docker0"), want: Excluded},
		{name: "veth", link: eth("veth1a2b"), want: Excluded},
		{name: "named explicitly beats the exclude list", link: eth("vxlan100"), allowed: []string{"vxlan100"}, want: Usable},
		{name: "named explicitly but down", link: with(eth("eth1"), func(l *Link) { l.Up = false }), allowed: []string{"eth1"}, want: Down},
		{name: "down", link: with(eth("eth0"), func(l *Link) { l.Up = false }), want: Down},
		{name: "no carrier", link: with(eth("eth0"), func(l *Link) { l.Carrier = false }), want: NoCarrier},
		{name: "NOARP", link: with(eth("eth0"), func(l *Link) { l.NoARP = true }), want: NoARP},
		{name: "loopback", link: with(eth("lo"), func(l *Link) { l.Loopback = true }), allowed: []string{"lo"}, want: Loopback},
		{name: "no ethernet address", link: with(eth("ipip0"), func(l *Link) { l.HardwareAddr = nil }), want: NotEthernet},
		{name: "infiniband address", link: with(eth("ib0"), func(l *Link) { l.HardwareAddr = make(net.HardwareAddr, 20) }), want: NotEthernet},
		{name: "bridge port", link: with(eth("eth3"), func(l *Link) { l.MasterKind = "bridge" }), want: Enslaved},
		{name: "bond slave", link: with(eth("eth4"), func(l *Link) { l.MasterKind = "bond" }), want: Enslaved},
		{name: "ovs port", link: with(eth("eth5"), func(l *Link) { l.MasterKind = "openvswitch" }), want: Enslaved},
		{name: "unknown master", link: with(eth("eth6"), func(l *Link) { l.MasterKind = unknownMaster }), want: Enslaved},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Check(tt.link, tt.allowed, exclude); got != tt.want {
				t.Errorf("Check(%+v, %q) = %q, want %q", tt.link, tt.allowed, got, tt.want)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	links := []Link{
		eth("eth1"), eth("eth0"), eth("docker0"),
		with(eth("eth2"), func(l *Link) { l.Carrier = false }),
	}
	tests := []struct {
		name    string
		allowed []string
		exclude []string
		want    []Link
	}{
		{name: "every interface", exclude: DefaultExclude(), want: []Link{eth("eth0"), eth("eth1")}},
		{name: "no exclude list", want: []Link{eth("docker0"), eth("eth0"), eth("eth1")}},
		{name: "allowed", allowed: []string{"eth1", "eth2", "eth9"}, exclude: DefaultExclude(), want: []Link{eth("eth1")}},
		{name: "custom exclude", exclude: []string{"eth?"}, want: []Link{eth("docker0")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Select(links, tt.allowed, tt.exclude)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Select (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidatePatterns(t *testing.T) {
	if err := ValidatePatterns(DefaultExclude()); err != nil {
		t.Errorf("ValidatePatterns(DefaultExclude()) = %v", err)
	}
	if err := ValidatePatterns([]string{"eth*", "bad["}); err == nil {
		t.Error(`ValidatePatterns("bad[") = nil, want an error`)
	}
}

func TestFromNetlink(t *testing.T) {
	up := net.FlagUp | net.FlagBroadcast
	links := []netlink.Link{
		&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: 3, Name: "eth1", HardwareAddr: mac, Flags: up, RawFlags: unix.IFF_UP | unix.IFF_LOWER_UP | unix.IFF_RUNNING, MasterIndex: 10}},
		&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Index: 10, Name: "br0", HardwareAddr: mac, Flags: up, RawFlags: unix.IFF_UP | unix.IFF_LOWER_UP | unix.IFF_RUNNING}},
		&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: 1, Name: "lo", Flags: up | net.FlagLoopback, RawFlags: unix.IFF_UP | unix.IFF_LOWER_UP | unix.IFF_RUNNING | unix.IFF_LOOPBACK}},
		&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: 4, Name: "eth2", HardwareAddr: mac, RawFlags: unix.IFF_NOARP, MasterIndex: 99}},
		// Carrier, but not yet ready to send.
		&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: 5, Name: "eth3", HardwareAddr: mac, Flags: up, RawFlags: unix.IFF_UP | unix.IFF_LOWER_UP}},
	}
	want := []Link{
		{Name: "br0", Index: 10, HardwareAddr: mac, Up: true, Carrier: true},
		{Name: "eth1", Index: 3, HardwareAddr: mac, Up: true, Carrier: true, MasterKind: "bridge"},
		{Name: "eth2", Index: 4, HardwareAddr: mac, NoARP: true, MasterKind: unknownMaster},
		{Name: "eth3", Index: 5, HardwareAddr: mac, Up: true},
		{Name: "lo", Index: 1, Up: true, Carrier: true, Loopback: true},
	}
	if diff := cmp.Diff(want, FromNetlink(links)); diff != "" {
		t.Errorf("FromNetlink (-want +got):\n%s", diff)
	}
}
