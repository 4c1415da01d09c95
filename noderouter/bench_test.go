package noderouter

import (
	"fmt"
	"net/netip"
	"testing"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/frr"
)

// benchInputs returns ironlb's model of a node announcing n Service
// prefixes to two peers, and k FRRConfigurations that each add a prefix,
// a community and a receive filter to the first peer's session and a
// neighbor of their own.
func benchInputs(b *testing.B, n, k int) (*frr.Config, []frrk8s.FRRConfiguration) {
	own := ownConfig()
	af := &own.Routers[0].AddressFamilies[0]
	af.Networks = af.Networks[:0]
	for i := range n {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		af.Networks = append(af.Networks, frr.Network{Prefix: netip.PrefixFrom(a, 32), RouteMap: "class-1"})
	}
	own.Routers[0].Neighbors = append(own.Routers[0].Neighbors, frr.Neighbor{Peer: "other", Address: "192.0.2.2", RemoteAS: "64512"})
	af.Neighbors = append(af.Neighbors, frr.AFNeighbor{Address: "192.0.2.2", RouteMapOut: "router-out"})
	var cfgs []frrk8s.FRRConfiguration
	for i := range k {
		spec := fmt.Sprintf(`
bgp:
  bfdProfiles: [{name: fast, receiveInterval: 50, transmitInterval: 50}]
  routers:
  - asn: 64512
    prefixes: [172.16.%d.0/24]
    neighbors:
    - address: 192.0.2.1
      asn: 64512
      bfdProfile: fast
      holdTime: 90s
      keepaliveTime: 30s
      toAdvertise:
        allowed: {mode: all}
        withCommunity: [{prefixes: [172.16.%d.0/24], community: "65000:%d"}]
      toReceive: {allowed: {prefixes: [{prefix: 198.51.%d.0/24, le: 32}]}}
    - address: 198.18.%d.1
      asn: 65000
`, i, i, i, i, i)
		cfgs = append(cfgs, frrConfig(b, fmt.Sprintf("ns/cfg-%03d", i), spec))
	}
	return own, cfgs
}

// BenchmarkForNode merges 100 FRRConfigurations with ironlb's own
// announcements of 10,000 Services for one node.
func BenchmarkForNode(b *testing.B) {
	own, cfgs := benchInputs(b, 10000, 100)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ForNode(own, cfgs, nil, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForNodeRender merges as BenchmarkForNode does, then renders
// the merged model into frr.conf.
func BenchmarkForNodeRender(b *testing.B) {
	own, cfgs := benchInputs(b, 10000, 100)
	r, err := frr.NewRenderer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m, err := ForNode(own, cfgs, nil, Options{})
		if err != nil {
			b.Fatal(err)
		}
		cfg, err := ToFRR(own, m)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Render(cfg); err != nil {
			b.Fatal(err)
		}
	}
}
