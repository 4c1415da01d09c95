package frr

import (
	"net/netip"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/ipam"
	"github.com/ironlb/ironlb/state"
)

// The nodes of the test clusters: node-1 and node-2 in zone a, node-3 in
// zone b.
const (
	node1 = "node-1"
	node2 = "node-2"
	node3 = "node-3"
)

func testNodes() []state.Node {
	return []state.Node{
		{Name: node1, Labels: labels.Set{"zone": "a", "kubernetes.io/hostname": node1}, Ready: true},
		{Name: node2, Labels: labels.Set{"zone": "a", "kubernetes.io/hostname": node2}, Ready: true},
		{Name: node3, Labels: labels.Set{"zone": "b", "kubernetes.io/hostname": node3}, Ready: true},
	}
}

// cluster returns a cluster of the test nodes.
func cluster(m *config.Model, svcs ...state.Service) *state.Cluster {
	return &state.Cluster{Model: m, Nodes: testNodes(), Services: svcs}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func ptr[T any](v T) *T { return &v }

func sel(key, value string) labels.Selector { return labels.SelectorFromSet(labels.Set{key: value}) }

// mkPool returns a pool of the given CIDRs or ranges.
func mkPool(t testing.TB, name string, ranges ...string) config.Pool {
	t.Helper()
	p := config.Pool{Name: name, AutoAssign: true}
	for _, s := range ranges {
		r, err := ipam.ParseRange(s)
		if err != nil {
			t.Fatalf("ParseRange(%q): %v", s, err)
		}
		p.Ranges = append(p.Ranges, r)
	}
	return p
}

// mkPeer returns a peer of fixed peer AS; opts change it.
func mkPeer(name, address string, myASN, peerASN uint32, opts ...func(*config.Peer)) config.Peer {
	p := config.Peer{Name: name, MyASN: myASN, PeerASN: peerASN, Address: addr(address), Port: config.DefaultBGPPort}
	for _, o := range opts {
		o(&p)
	}
	return p
}

// mkAdv returns an advertisement of the pools with one route per IP;
// opts change it.
func mkAdv(name string, pools []string, opts ...func(*config.BGPAdvertisement)) config.BGPAdvertisement {
	a := config.BGPAdvertisement{
		Name:                name,
		AggregationLength:   config.DefaultAggregationLength,
		AggregationLengthV6: config.DefaultAggregationLengthV6,
		Pools:               pools,
	}
	for _, o := range opts {
		o(&a)
	}
	return a
}

// mkSvc returns a Service of pool with ETP Cluster served by node-2.
func mkSvc(key, pool string, ips ...string) state.Service {
	s := state.Service{Pool: pool, ServingNodes: []string{node2}}
	for i := range key {
		if key[i] == '/' {
			s.Namespace, s.Name = key[:i], key[i+1:]
		}
	}
	for _, ip := range ips {
		s.IPs = append(s.IPs, addr(ip))
	}
	return s
}

func community(t testing.TB, s string) config.Community {
	t.Helper()
	c, err := config.ParseCommunity(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func dur(s string) *time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return &d
}
