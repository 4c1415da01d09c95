package lab

import (
	"fmt"
	"net/netip"
)

// Network namespaces and links of the lab. Nodes' namespaces are named
// after the nodes (see Nodes).
const (
	SwitchNetns       = "ilb-sw"
	RouterNetns       = "ilb-rtr"
	LANClientNetns    = "ilb-lcli"
	RemoteClientNetns = "ilb-cli"
	// ControlPlaneNetns is the control-plane host: etcd, kube-apiserver
	// and the controller. It is a namespace of its own, not the root
	// namespace, so that the lab never changes the host's network (whose
	// own LAN may well be 192.0.2.0/24 too); the root namespace reaches
	// the API server through a forwarder on 127.0.0.1.
	ControlPlaneNetns = "ilb-cp"

	// Bridge is the LAN bridge inside SwitchNetns.
	Bridge = "br0"
	// LANLink is every LAN member's interface; the router's link to the
	// remote client is RemoteLink.
	LANLink    = "eth0"
	RemoteLink = "eth1"
	// KubeIPVSLink is the dummy interface the kube-proxy stand-in puts the
	// Service IPs on, as kube-proxy in IPVS mode does.
	KubeIPVSLink = "kube-ipvs0"

	// UnnumberedNode has a point-to-point link to the router besides the
	// LAN, with IPv6 link-local addresses only, for unnumbered BGP: its
	// end is UnnumberedNodeLink, the router's UnnumberedRouterLink.
	UnnumberedNode       = "ilb-n1"
	UnnumberedNodeLink   = "ul-rtr"
	UnnumberedRouterLink = "ul-n1"
)

// Fixed MACs of the unnumbered link's ends, so that their EUI-64
// link-local addresses (UnnumberedNodeLinkLocal...) read the same on
// every run.
const (
	unnumberedNodeMAC   = "02:00:00:00:01:01"
	unnumberedRouterMAC = "02:00:00:00:01:02"
	// UnnumberedNodeLinkLocal and UnnumberedRouterLinkLocal are the
	// kernel's EUI-64 link-local addresses of the two ends.
	UnnumberedNodeLinkLocal   = "fe80::ff:fe00:101"
	UnnumberedRouterLinkLocal = "fe80::ff:fe00:102"
)

// Addresses of the lab.
const (
	LANv4 = "192.0.2.0/24"
	LANv6 = "2001:db8:0:1::/64"

	RouterIPv4       = "192.0.2.1"
	RouterIPv6       = "2001:db8:0:1::1"
	LANClientIPv4    = "192.0.2.100"
	LANClientIPv6    = "2001:db8:0:1::100"
	ControlPlaneIPv4 = "192.0.2.254"
	ControlPlaneIPv6 = "2001:db8:0:1::254"
	// The remote link is 198.51.100.0/25 (RemoteLinkBits): the upper half
	// holds the router's own prefixes (RouterPrefixes).
	RouterRemoteIPv4 = "198.51.100.1"
	RouterRemoteIPv6 = "2001:db8:0:2::1"
	RemoteClientIPv4 = "198.51.100.2"
	RemoteClientIPv6 = "2001:db8:0:2::2"

	BGPPoolIPv4 = "203.0.113.0/25"
	BGPPoolIPv6 = "2001:db8:0:100::/120"
	L2PoolIPv4  = "192.0.2.200-192.0.2.250"
	L2PoolIPv6  = "2001:db8:0:1::200-2001:db8:0:1::2ff"

	// ServiceCIDRs are the API server's cluster IP ranges. No packet is
	// ever sent to them: there is no kube-proxy for cluster IPs.
	ServiceCIDRs = "203.0.113.128/25,2001:db8:0:ffff::/112"

	RouterAS = 64500
	NodeAS   = 64512
)

// The router's own prefixes. It holds the first address of each on
// RouterPrefixLink, one end of a veth pair whose other end
// (routerPrefixPeer) is up in the same namespace, and advertises them to every node
// (`network`), with a default route of each family (`default-originate`).
// The nodes' ironlb-in route-map denies them, so they reach a node's
// routing table only when an FRRConfiguration lets them in (toReceive).
// No pool, Service range or test address lies in them.
const (
	RouterPrefixLink = "nets0"
	routerPrefixPeer = "nets1"
	RouterPrefixAv4  = "198.51.100.128/27"
	RouterPrefixBv4  = "198.51.100.160/27"
	RouterPrefixAv6  = "2001:db8:0:200::/64"
	RouterPrefixBv6  = "2001:db8:0:201::/64"
	// remoteLinkBits is the length of the remote link's IPv4 prefix, the
	// lower half of 198.51.100.0/24.
	remoteLinkBits = 25
)

// RouterPrefixes returns the router's own prefixes, IPv4 then IPv6, A
// before B.
func RouterPrefixes() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix(RouterPrefixAv4), netip.MustParsePrefix(RouterPrefixBv4),
		netip.MustParsePrefix(RouterPrefixAv6), netip.MustParsePrefix(RouterPrefixBv6),
	}
}

// RouterPrefixAddr returns the router's address in one of its prefixes:
// the first after the network address.
func RouterPrefixAddr(p netip.Prefix) netip.Addr {
	return p.Masked().Addr().Next()
}

// Ports the control-plane host listens on, all on ControlPlaneIPv4.
const (
	APIServerPort         = 6443
	EtcdClientPort        = 2379
	EtcdPeerPort          = 2380
	ControllerMetricsPort = 7472
	ControllerHealthPort  = 7473
	ControllerPprofPort   = 7477
	// ServicePort is where the kube-proxy stand-in answers HTTP, on every
	// address of a node.
	ServicePort = 8080
)

// Node is one lab node: a Kubernetes Node and the network namespace of
// the same name.
type Node struct {
	Name string
	IPv4 netip.Addr
	IPv6 netip.Addr
}

// Nodes returns the lab's nodes, ilb-n1 to ilb-n3.
func Nodes() []Node {
	nodes := make([]Node, 0, 3)
	for i := 1; i <= 3; i++ {
		nodes = append(nodes, Node{
			Name: fmt.Sprintf("ilb-n%d", i),
			IPv4: netip.MustParseAddr(fmt.Sprintf("192.0.2.%d", 10+i)),
			IPv6: netip.MustParseAddr(fmt.Sprintf("2001:db8:0:1::%d", 10+i)),
		})
	}
	return nodes
}

// Namespaces returns every network namespace the lab makes, in creation
// order.
func Namespaces() []string {
	ns := []string{SwitchNetns, RouterNetns}
	for _, n := range Nodes() {
		ns = append(ns, n.Name)
	}
	return append(ns, LANClientNetns, RemoteClientNetns, ControlPlaneNetns)
}

// lanMember is one namespace plugged into the LAN bridge.
type lanMember struct {
	netns string
	port  string // the veth end on the bridge, in SwitchNetns
	ipv4  string
	ipv6  string
	// gateway: a default route through the router.
	gateway bool
}

func lanMembers() []lanMember {
	m := []lanMember{{netns: RouterNetns, port: "rtr", ipv4: RouterIPv4, ipv6: RouterIPv6}}
	for i, n := range Nodes() {
		m = append(m, lanMember{netns: n.Name, port: fmt.Sprintf("n%d", i+1), ipv4: n.IPv4.String(), ipv6: n.IPv6.String(), gateway: true})
	}
	return append(m,
		lanMember{netns: LANClientNetns, port: "lcli", ipv4: LANClientIPv4, ipv6: LANClientIPv6, gateway: true},
		lanMember{netns: ControlPlaneNetns, port: "cp", ipv4: ControlPlaneIPv4, ipv6: ControlPlaneIPv6})
}

// sysctls of every lab namespace: no DAD (tentative addresses make tests
// flaky), no reverse-path filter and no forwarding, whatever the host's
// defaults (IPv4 settings are inherited from the root namespace).
func commonSysctls() []string {
	return []string{
		"net.ipv6.conf.all.accept_dad=0",
		"net.ipv6.conf.default.accept_dad=0",
		"net.ipv6.conf.all.accept_ra=0",
		"net.ipv6.conf.default.accept_ra=0",
		"net.ipv4.conf.all.rp_filter=0",
		"net.ipv4.conf.default.rp_filter=0",
	}
}

func sysctlsFor(netns string) []string {
	s := commonSysctls()
	switch {
	case netns == RouterNetns:
		// Multipath routes hash on the L4 ports, so one client's
		// connections spread over the nodes.
		return append(s, "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
			"net.ipv4.fib_multipath_hash_policy=1", "net.ipv6.fib_multipath_hash_policy=1")
	case isNode(netns):
		// kube-proxy's IPVS strict ARP: the Service IPs on kube-ipvs0 are
		// answered for by ironlb, not by the kernel.
		return append(s, "net.ipv4.ip_forward=0", "net.ipv6.conf.all.forwarding=0",
			"net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.default.arp_ignore=1",
			"net.ipv4.conf.all.arp_announce=2", "net.ipv4.conf.default.arp_announce=2")
	default:
		return append(s, "net.ipv4.ip_forward=0", "net.ipv6.conf.all.forwarding=0")
	}
}

func isNode(netns string) bool {
	for _, n := range Nodes() {
		if n.Name == netns {
			return true
		}
	}
	return false
}

// lanMAC returns a fixed, locally administered MAC for a LAN address, so
// the lab's neighbor tables read the same on every run.
func lanMAC(ipv4 string) string {
	a := netip.MustParseAddr(ipv4).As4()
	return fmt.Sprintf("02:00:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3])
}

// setupPlan returns the commands that build the lab's network inside
// its namespaces (made by claimNamespaces), in order. Every command is
// `ip netns exec NS` or `ip -n NS`: nothing is made in the root
// namespace.
func setupPlan() [][]string {
	var p [][]string
	add := func(argv ...string) { p = append(p, argv) }
	for _, ns := range Namespaces() {
		add(append([]string{"ip", "netns", "exec", ns, "sysctl", "-q", "-w"}, sysctlsFor(ns)...)...)
		add("ip", "-n", ns, "link", "set", "lo", "up")
	}
	add("ip", "-n", SwitchNetns, "link", "add", Bridge, "type", "bridge", "stp_state", "0", "mcast_snooping", "0")
	add("ip", "-n", SwitchNetns, "link", "set", Bridge, "up")
	for _, m := range lanMembers() {
		add("ip", "-n", SwitchNetns, "link", "add", m.port, "type", "veth",
			"peer", "name", LANLink, "address", lanMAC(m.ipv4), "netns", m.netns)
		add("ip", "-n", SwitchNetns, "link", "set", m.port, "master", Bridge, "up")
		add("ip", "-n", m.netns, "addr", "add", m.ipv4+"/24", "dev", LANLink)
		add("ip", "-n", m.netns, "addr", "add", m.ipv6+"/64", "dev", LANLink, "nodad")
		add("ip", "-n", m.netns, "link", "set", LANLink, "up")
		if m.gateway {
			add("ip", "-n", m.netns, "route", "add", "default", "via", RouterIPv4)
			add("ip", "-n", m.netns, "-6", "route", "add", "default", "via", RouterIPv6)
		}
	}
	add("ip", "-n", RouterNetns, "link", "add", RemoteLink, "type", "veth",
		"peer", "name", LANLink, "netns", RemoteClientNetns)
	add("ip", "-n", RouterNetns, "addr", "add", fmt.Sprintf("%s/%d", RouterRemoteIPv4, remoteLinkBits), "dev", RemoteLink)
	add("ip", "-n", RouterNetns, "addr", "add", RouterRemoteIPv6+"/64", "dev", RemoteLink, "nodad")
	add("ip", "-n", RouterNetns, "link", "set", RemoteLink, "up")
	add("ip", "-n", RemoteClientNetns, "addr", "add", fmt.Sprintf("%s/%d", RemoteClientIPv4, remoteLinkBits), "dev", LANLink)
	add("ip", "-n", RemoteClientNetns, "addr", "add", RemoteClientIPv6+"/64", "dev", LANLink, "nodad")
	add("ip", "-n", RemoteClientNetns, "link", "set", LANLink, "up")
	add("ip", "-n", RemoteClientNetns, "route", "add", "default", "via", RouterRemoteIPv4)
	add("ip", "-n", RemoteClientNetns, "-6", "route", "add", "default", "via", RouterRemoteIPv6)
	// The router's own prefixes.
	// A veth pair inside the router's namespace, not a dummy link: the
	// kernels the lab runs on may lack the dummy module.
	add("ip", "-n", RouterNetns, "link", "add", RouterPrefixLink, "type", "veth", "peer", "name", routerPrefixPeer)
	for _, pfx := range RouterPrefixes() {
		a := netip.PrefixFrom(RouterPrefixAddr(pfx), pfx.Bits()).String()
		if pfx.Addr().Is4() {
			add("ip", "-n", RouterNetns, "addr", "add", a, "dev", RouterPrefixLink)
		} else {
			add("ip", "-n", RouterNetns, "addr", "add", a, "dev", RouterPrefixLink, "nodad")
		}
	}
	add("ip", "-n", RouterNetns, "link", "set", routerPrefixPeer, "up")
	add("ip", "-n", RouterNetns, "link", "set", RouterPrefixLink, "up")
	// The unnumbered link: no address is added, the kernel gives each end
	// its EUI-64 link-local address when the link comes up.
	add("ip", "-n", RouterNetns, "link", "add", UnnumberedRouterLink, "address", unnumberedRouterMAC, "type", "veth",
		"peer", "name", UnnumberedNodeLink, "address", unnumberedNodeMAC, "netns", UnnumberedNode)
	for _, end := range [][2]string{{RouterNetns, UnnumberedRouterLink}, {UnnumberedNode, UnnumberedNodeLink}} {
		add("ip", "-n", end[0], "link", "set", end[1], "addrgenmode", "eui64")
		add("ip", "-n", end[0], "link", "set", end[1], "up")
	}
	return p
}
