package noderouter

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

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
	cpu := cpuTime(b)
	for b.Loop() {
		if _, err := ForNode(own, cfgs, nil, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
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
	cpu := cpuTime(b)
	for b.Loop() {
		renderBench(b, r, own, cfgs)
	}
	reportCPU(b, cpu)
}

// BenchmarkForNodeRenderOneChange re-renders the inputs of
// BenchmarkForNodeRender after one FRRConfiguration changed (its
// community and one more prefix, back and forth): the whole merge and
// render run again, from scratch (ForNode); the changed-lines metric
// counts the lines of frr.conf that differ between the two versions.
func BenchmarkForNodeRenderOneChange(b *testing.B) {
	benchOneChange(b, nil)
}

// BenchmarkForNodeRenderOneChangeIncremental is
// BenchmarkForNodeRenderOneChange through a Cache, as the speaker merges:
// the changed object alone is converted again, and ironlb's own Config,
// the same each time, is read only once.
func BenchmarkForNodeRenderOneChangeIncremental(b *testing.B) {
	benchOneChange(b, NewCache())
}

// benchOneChange runs BenchmarkForNodeRenderOneChange from scratch (c
// nil) or through the Cache c. The objects have a UID and a
// resourceVersion, which the changed one bumps on each change, as the
// API server does.
func benchOneChange(b *testing.B, c *Cache) {
	own, cfgs := benchInputs(b, 10000, 100)
	for i := range cfgs {
		cfgs[i].UID, cfgs[i].ResourceVersion = types.UID(fmt.Sprintf("uid-%03d", i)), "1"
	}
	r, err := frr.NewRenderer()
	if err != nil {
		b.Fatal(err)
	}
	versions := [2]frrk8s.FRRConfiguration{cfgs[50], frrConfig(b, "ns/cfg-050", `
bgp:
  bfdProfiles: [{name: fast, receiveInterval: 50, transmitInterval: 50}]
  routers:
  - asn: 64512
    prefixes: [172.16.50.0/24, 172.17.50.0/24]
    neighbors:
    - address: 192.0.2.1
      asn: 64512
      bfdProfile: fast
      holdTime: 90s
      keepaliveTime: 30s
      toAdvertise:
        allowed: {mode: all}
        withCommunity: [{prefixes: [172.16.50.0/24, 172.17.50.0/24], community: "65001:50"}]
      toReceive: {allowed: {prefixes: [{prefix: 198.51.50.0/24, le: 32}]}}
    - address: 198.18.50.1
      asn: 65000
`)}
	versions[1].UID = versions[0].UID
	render := func(rv int) []byte {
		cfgs[50] = versions[rv%2]
		cfgs[50].ResourceVersion = strconv.Itoa(rv)
		if c == nil {
			return renderBench(b, r, own, cfgs)
		}
		m, err := c.ForNode(own, cfgs, nil, Options{})
		if err != nil {
			b.Fatal(err)
		}
		cfg, err := c.ToFRR(own, m)
		if err != nil {
			b.Fatal(err)
		}
		out, err := r.Render(cfg)
		if err != nil {
			b.Fatal(err)
		}
		return out
	}
	before := render(2)
	after := render(3)
	b.ReportAllocs()
	cpu := cpuTime(b)
	rv := 3
	for b.Loop() {
		rv++
		render(rv)
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(changedLines(before, after)), "changed-lines")
}

// renderBench merges, translates and renders.
func renderBench(b *testing.B, r *frr.Renderer, own *frr.Config, cfgs []frrk8s.FRRConfiguration) []byte {
	m, err := ForNode(own, cfgs, nil, Options{})
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := ToFRR(own, m)
	if err != nil {
		b.Fatal(err)
	}
	out, err := r.Render(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// changedLines counts the lines of a and b that the other lacks.
func changedLines(a, b []byte) int {
	count := func(x []byte) map[string]int {
		m := map[string]int{}
		for _, l := range bytes.Split(x, []byte("\n")) {
			m[string(l)]++
		}
		return m
	}
	ca, cb := count(a), count(b)
	n := 0
	for l, k := range ca {
		n += max(k-cb[l], 0)
	}
	for l, k := range cb {
		n += max(k-ca[l], 0)
	}
	return n
}

// cpuTime returns the CPU time the process has used so far (all threads:
// the benchmark and the garbage collector).
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per iteration since start as cpu-ms/op:
// on a machine shared with other work it varies less than the wall time.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime(b)-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
}
