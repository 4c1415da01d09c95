package frr

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/state"
)

// scaleModel is the configuration of the scale tests and benchmarks: an
// IPv4 and an IPv6 pool, four peers (two iBGP dual-stack route
// reflectors, two eBGP IPv6 routers) and two advertisements, one to
// every peer with communities, one to the iBGP peers with a local
// preference. Only documentation addresses are used, so most Services
// are IPv6.
func scaleModel(t testing.TB) *config.Model {
	dual := func(p *config.Peer) { p.DualStackAddressFamily = true }
	return &config.Model{
		Pools: []config.Pool{
			mkPool(t, "v4", "198.51.100.0/24", "203.0.113.0/24"),
			mkPool(t, "v6", "2001:db8:1000::/64"),
		},
		Peers: []config.Peer{
			mkPeer("rr-a", "192.0.2.1", 64512, 64512, dual),
			mkPeer("rr-b", "192.0.2.2", 64512, 64512, dual),
			mkPeer("tor-a", "2001:db8::a", 64512, 64513),
			mkPeer("tor-b", "2001:db8::b", 64512, 64514),
		},
		BGPAdvertisements: []config.BGPAdvertisement{
			mkAdv("all", []string{"v4", "v6"}, func(a *config.BGPAdvertisement) {
				a.Communities = []config.Community{community(t, "65000:1"), community(t, "large:64512:1:1")}
			}),
			mkAdv("ibgp", []string{"v4", "v6"}, func(a *config.BGPAdvertisement) {
				a.Peers, a.LocalPref = []string{"rr-a", "rr-b"}, 200
			}),
		},
	}
}

// scaleV4 is how many of the scale Services are IPv4.
const scaleV4 = 200

// scaleService returns Service i of the scale cluster. Its address is
// even, so that a Service with an odd address falls between two others.
func scaleService(i int) state.Service {
	var ip netip.Addr
	switch {
	case i < 128:
		ip = netip.AddrFrom4([4]byte{198, 51, 100, byte(2 * i)})
	case i < scaleV4:
		ip = netip.AddrFrom4([4]byte{203, 0, 113, byte(2 * (i - 128))})
	default:
		ip = v6Addr(2 * i)
	}
	return state.Service{
		Namespace: fmt.Sprintf("ns-%d", i%10), Name: fmt.Sprintf("svc-%d", i),
		IPs: []netip.Addr{ip}, Pool: poolOf(ip), ServingNodes: []string{node2},
	}
}

func v6Addr(n int) netip.Addr {
	b := netip.MustParseAddr("2001:db8:1000::").As16()
	b[12], b[13], b[14], b[15] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return netip.AddrFrom16(b)
}

func poolOf(ip netip.Addr) string {
	if ip.Is4() {
		return "v4"
	}
	return "v6"
}

// scaleCluster returns a cluster with the Services 0 to n-1 and extra.
func scaleCluster(t testing.TB, n int, extra ...state.Service) *state.Cluster {
	svcs := make([]state.Service, 0, n+len(extra))
	for i := range n {
		svcs = append(svcs, scaleService(i))
	}
	svcs = append(svcs, extra...)
	slices.SortFunc(svcs, func(a, b state.Service) int { return cmp.Compare(a.Key(), b.Key()) })
	return cluster(scaleModel(t), svcs...)
}
