package election

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/state"
)

// Ranks used below (SHA-256 of "node/ip", first wins), fixed forever by
// the hash:
//
//	192.0.2.10:   n3 n1 n2 n4
//	192.0.2.11:   n2 n1 n3 n4
//	192.0.2.20:   n4 n2 n1 n3
//	198.51.100.1: n2 n4 n3 n1

var cmpOpts = cmp.Options{cmpopts.EquateEmpty(), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })}

func ad(name string, pools, selectors, ifaces []string) config.L2Advertisement {
	a := config.L2Advertisement{Name: name, Pools: pools, Interfaces: ifaces}
	for _, s := range selectors {
		sel, err := labels.Parse(s)
		if err != nil {
			panic(err)
		}
		a.NodeSelectors = append(a.NodeSelectors, sel)
	}
	return a
}

func node(name string, lbls ...string) state.Node {
	n := state.Node{Name: name, Labels: labels.Set{}, Ready: true}
	for _, l := range lbls {
		k, v, _ := strings.Cut(l, "=")
		n.Labels[k] = v
	}
	return n
}

func cordon(n state.Node) state.Node { n.Unschedulable = true; return n }
func exclude(n state.Node) state.Node {
	n.Excluded = true
	n.Labels[state.LabelExcludeFromLB] = ""
	return n
}
func noNetwork(n state.Node) state.Node { n.NetworkUnavailable = true; return n }

// svc is a Service in pool "p" with ETP Cluster; serving lists nodes with
// endpoints.
func svc(key string, ips []string, serving ...string) state.Service {
	ns, name, _ := strings.Cut(key, "/")
	s := state.Service{Namespace: ns, Name: name, Pool: "p", ServingNodes: slices.Sorted(slices.Values(serving))}
	for _, ip := range ips {
		s.IPs = append(s.IPs, netip.MustParseAddr(ip))
	}
	return s
}

func local(s state.Service) state.Service { s.ETPLocal = true; return s }
func inPool(s state.Service, pool string) state.Service {
	s.Pool = pool
	return s
}

func tgt(ip string, ifaces ...string) Target {
	return Target{IP: netip.MustParseAddr(ip), Interfaces: ifaces}
}

var (
	n1, n2, n3, n4 = node("n1"), node("n2"), node("n3"), node("n4")
	all4           = []string{"n1", "n2", "n3", "n4"}
	allAds         = []config.L2Advertisement{ad("all", []string{"p"}, nil, nil)}
)

func TestElect(t *testing.T) {
	tests := []electCase{
		{
			name:     "first by hash wins",
			ads:      allAds,
			nodes:    []state.Node{n1, n2, n3, n4},
			services: []state.Service{svc("a/web", []string{"192.0.2.10"}, "n4")},
			live:     all4,
			want: Result{
				Nodes:    []Assignment{{Node: "n3", Owned: []Target{tgt("192.0.2.10")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n3"}},
			},
		},
		{
			name:     "dead speaker is no candidate",
			ads:      allAds,
			nodes:    []state.Node{n1, n2, n3, n4},
			services: []state.Service{svc("a/web", []string{"192.0.2.10"}, "n4")},
			live:     []string{"n1", "n2", "n4", "gone"},
			want: Result{
				Nodes:    []Assignment{{Node: "n1", Owned: []Target{tgt("192.0.2.10")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n1"}},
			},
		},
		{
			name:     "network unavailable is no candidate",
			ads:      allAds,
			nodes:    []state.Node{n1, n2, noNetwork(n3), n4},
			services: []state.Service{svc("a/web", []string{"192.0.2.10"}, "n4")},
			live:     all4,
			want: Result{
				Nodes:    []Assignment{{Node: "n1", Owned: []Target{tgt("192.0.2.10")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n1"}},
			},
		},
		{
			name:     "cordoned node hands over to the next",
			ads:      allAds,
			nodes:    []state.Node{n1, n2, cordon(n3), n4},
			services: []state.Service{svc("a/web", []string{"192.0.2.10"}, "n4")},
			live:     all4,
			want: Result{
				Nodes: []Assignment{
					{Node: "n1", Owned: []Target{tgt("192.0.2.10")}},
					{Node: "n3", Handover: []Target{tgt("192.0.2.10")}},
				},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n1"}},
			},
		},
		{
			name:     "cordoned node owns when it is the only candidate",
			ads:      allAds,
			nodes:    []state.Node{cordon(n1), exclude(n2), n3},
			services: []state.Service{svc("a/web", []string{"192.0.2.10"}, "n4")},
			live:     []string{"n1", "n2"},
			want: Result{
				Nodes: []Assignment{
					{Node: "n1", Owned: []Target{tgt("192.0.2.10")}},
					{Node: "n2", Handover: []Target{tgt("192.0.2.10")}},
				},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n1"}},
			},
		},
		{
			name:     "excluded node never owns",
			ads:      allAds,
			nodes:    []state.Node{exclude(n3)},
			services: []state.Service{svc("a/web", []string{"192.0.2.10"}, "n4")},
			live:     all4,
			want: Result{
				Nodes:    []Assignment{{Node: "n3", Handover: []Target{tgt("192.0.2.10")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "web"}},
			},
		},
		{
			name:     "externalTrafficPolicy Local: only nodes with an endpoint",
			ads:      allAds,
			nodes:    []state.Node{n1, n2, n3, n4},
			services: []state.Service{local(svc("a/web", []string{"192.0.2.10"}, "n2", "n4"))},
			live:     all4,
			want: Result{
				Nodes:    []Assignment{{Node: "n2", Owned: []Target{tgt("192.0.2.10")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n2"}},
			},
		},
		{
			name:     "externalTrafficPolicy Cluster without any endpoint",
			ads:      allAds,
			nodes:    []state.Node{n1, n2, n3, n4},
			services: []state.Service{svc("a/web", []string{"192.0.2.10"})},
			live:     all4,
			want:     Result{Services: []ServiceOwner{{Namespace: "a", Name: "web"}}},
		},
		{
			name:     "no live node",
			ads:      allAds,
			nodes:    []state.Node{n1, n2},
			services: []state.Service{svc("a/web", []string{"192.0.2.10"}, "n1")},
			want:     Result{Services: []ServiceOwner{{Namespace: "a", Name: "web"}}},
		},
		{
			name:     "pool without L2Advertisement is not Layer 2",
			ads:      allAds,
			nodes:    []state.Node{n1},
			services: []state.Service{inPool(svc("a/bgp", []string{"198.51.100.1"}, "n1"), "bgp-only"), inPool(svc("a/none", []string{"198.51.100.2"}, "n1"), "")},
			live:     all4,
			want:     Result{},
		},
		{
			name: "node selectors and interfaces, unioned across advertisements",
			ads: []config.L2Advertisement{
				ad("edge", []string{"p"}, []string{"role=edge"}, []string{"eth1"}),
				ad("edge-b", []string{"p"}, []string{"role=edge", "zone=b"}, []string{"bond0", "eth1"}),
				ad("other-pool", []string{"q"}, nil, nil),
			},
			nodes:    []state.Node{n1, node("n2", "role=edge", "zone=b"), n3, node("n4", "role=edge")},
			services: []state.Service{svc("a/web", []string{"192.0.2.11"}, "n1")},
			live:     all4,
			want: Result{
				Nodes:    []Assignment{{Node: "n2", Owned: []Target{tgt("192.0.2.11", "bond0", "eth1")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n2"}},
			},
		},
		{
			name: "an advertisement without interfaces allows every interface",
			ads: []config.L2Advertisement{
				ad("eth1", []string{"p"}, nil, []string{"eth1"}),
				ad("any", []string{"p"}, []string{"role=edge"}, nil),
			},
			nodes:    []state.Node{n1, node("n2", "role=edge"), n3, n4},
			services: []state.Service{svc("a/web", []string{"192.0.2.11"}, "n1")},
			live:     all4,
			want: Result{
				Nodes:    []Assignment{{Node: "n2", Owned: []Target{tgt("192.0.2.11")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n2"}},
			},
		},
		{
			name:     "dual stack goes to one node, ranked by the smallest IP",
			ads:      allAds,
			nodes:    []state.Node{n1, n2, n3, n4},
			services: []state.Service{svc("a/dual", []string{"192.0.2.10", "2001:db8::10"}, "n1")},
			live:     all4,
			want: Result{
				Nodes:    []Assignment{{Node: "n3", Owned: []Target{tgt("192.0.2.10"), tgt("2001:db8::10")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "dual", Node: "n3"}},
			},
		},
		{
			name:  "shared IP: the node that serves every Service",
			ads:   allAds,
			nodes: []state.Node{n1, n2, n3, n4},
			services: []state.Service{
				local(svc("a/dns-tcp", []string{"192.0.2.20"}, "n1", "n3")),
				svc("a/dns-udp", []string{"192.0.2.20"}, "n2"),
				local(svc("b/dns-extra", []string{"192.0.2.20"}, "n1", "n2", "n3")),
			},
			live: all4,
			want: Result{
				Nodes: []Assignment{{Node: "n1", Owned: []Target{tgt("192.0.2.20")}}},
				Services: []ServiceOwner{
					{Namespace: "a", Name: "dns-tcp", Node: "n1"},
					{Namespace: "a", Name: "dns-udp", Node: "n1"},
					{Namespace: "b", Name: "dns-extra", Node: "n1"},
				},
			},
		},
		{
			name:  "shared IP without a common node: any node that serves one",
			ads:   allAds,
			nodes: []state.Node{n1, n2, n3, n4},
			services: []state.Service{
				local(svc("a/x", []string{"192.0.2.20"}, "n1")),
				local(svc("a/y", []string{"192.0.2.20"}, "n3")),
				local(svc("a/z", []string{"192.0.2.20"})),
			},
			live: all4,
			want: Result{
				Nodes: []Assignment{{Node: "n1", Owned: []Target{tgt("192.0.2.20")}}},
				Services: []ServiceOwner{
					{Namespace: "a", Name: "x", Node: "n1"},
					{Namespace: "a", Name: "y", Node: "n1"},
					{Namespace: "a", Name: "z"},
				},
			},
		},
		{
			name:  "sharing links a dual-stack Service's IPs to another Service's",
			ads:   allAds,
			nodes: []state.Node{n1, n2, n3, n4},
			services: []state.Service{
				svc("a/dual", []string{"192.0.2.20", "2001:db8::20"}, "n1"),
				svc("a/v6", []string{"2001:db8::20"}, "n1"),
				svc("a/v4", []string{"192.0.2.10"}, "n1"),
			},
			live: all4,
			want: Result{
				Nodes: []Assignment{
					{Node: "n3", Owned: []Target{tgt("192.0.2.10")}},
					{Node: "n4", Owned: []Target{tgt("192.0.2.20"), tgt("2001:db8::20")}},
				},
				Services: []ServiceOwner{
					{Namespace: "a", Name: "dual", Node: "n4"},
					{Namespace: "a", Name: "v4", Node: "n3"},
					{Namespace: "a", Name: "v6", Node: "n4"},
				},
			},
		},
		{
			name: "interfaces of a shared IP: union over the Services the owner serves",
			ads: []config.L2Advertisement{
				ad("p", []string{"p"}, nil, []string{"eth1"}),
				ad("q", []string{"q"}, nil, []string{"eth2"}),
			},
			nodes: []state.Node{n1, n2, n3, n4},
			services: []state.Service{
				svc("a/x", []string{"192.0.2.20"}, "n1"),
				inPool(svc("a/y", []string{"192.0.2.20"}, "n1"), "q"),
			},
			live: all4,
			want: Result{
				Nodes: []Assignment{{Node: "n4", Owned: []Target{tgt("192.0.2.20", "eth1", "eth2")}}},
				Services: []ServiceOwner{
					{Namespace: "a", Name: "x", Node: "n4"},
					{Namespace: "a", Name: "y", Node: "n4"},
				},
			},
		},
	}
	runElect(t, tests)
}

func TestElectNilModel(t *testing.T) {
	if diff := cmp.Diff(Result{}, Elect(&state.Cluster{Nodes: []state.Node{n1}}, []string{"n1"}), cmpOpts); diff != "" {
		t.Errorf("Elect (-want +got):\n%s", diff)
	}
}

func TestResultFor(t *testing.T) {
	r := Result{Nodes: []Assignment{{Node: "a", Owned: []Target{tgt("192.0.2.1")}}, {Node: "c"}}}
	if diff := cmp.Diff(Assignment{Node: "a", Owned: []Target{tgt("192.0.2.1")}}, r.For("a"), cmpOpts); diff != "" {
		t.Errorf("For(a) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(Assignment{Node: "b"}, r.For("b"), cmpOpts); diff != "" {
		t.Errorf("For(b) (-want +got):\n%s", diff)
	}
}

func TestElectWithInterfaces(t *testing.T) {
	// links maps each node to its usable interfaces; "*" stands for
	// some interface that no advertisement names.
	canAnnounce := func(links map[string][]string) func(string, []string) bool {
		return func(node string, allowed []string) bool {
			have := links[node]
			if len(allowed) == 0 {
				return len(have) > 0
			}
			return slices.ContainsFunc(allowed, func(name string) bool { return slices.Contains(have, name) })
		}
	}
	web := []state.Service{svc("a/web", []string{"192.0.2.10"}, "n1")}
	tests := []struct {
		name  string
		ads   []config.L2Advertisement
		links map[string][]string
		want  Result
	}{
		{
			name:  "a node without any usable interface is passed over",
			ads:   allAds,
			links: map[string][]string{"n1": {"*"}, "n2": {"*"}, "n4": {"*"}},
			want: Result{
				Nodes:    []Assignment{{Node: "n1", Owned: []Target{tgt("192.0.2.10")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n1"}},
			},
		},
		{
			name:  "only the node with the named interface",
			ads:   []config.L2Advertisement{ad("eth1", []string{"p"}, nil, []string{"eth1"})},
			links: map[string][]string{"n1": {"eth0"}, "n2": {"eth0", "eth1"}, "n3": {"eth0"}, "n4": {"eth0"}},
			want: Result{
				Nodes:    []Assignment{{Node: "n2", Owned: []Target{tgt("192.0.2.10", "eth1")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n2"}},
			},
		},
		{
			name: "any interface of the advertisements will do",
			ads: []config.L2Advertisement{
				ad("eth0", []string{"p"}, nil, []string{"eth0"}),
				ad("eth1", []string{"p"}, nil, []string{"eth1"}),
			},
			links: map[string][]string{"n3": {"eth1"}},
			want: Result{
				Nodes:    []Assignment{{Node: "n3", Owned: []Target{tgt("192.0.2.10", "eth0", "eth1")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n3"}},
			},
		},
		{
			name:  "nobody has the interface",
			ads:   []config.L2Advertisement{ad("eth9", []string{"p"}, nil, []string{"eth9"})},
			links: map[string][]string{"n1": {"eth0"}, "n2": {"eth0"}, "n3": {"eth0"}, "n4": {"eth0"}},
			want:  Result{Services: []ServiceOwner{{Namespace: "a", Name: "web"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &state.Cluster{Model: &config.Model{L2Advertisements: tt.ads}, Nodes: []state.Node{n1, n2, n3, n4}, Services: web}
			got := ElectWith(c, all4, Options{CanAnnounce: canAnnounce(tt.links)})
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("ElectWith (-want +got):\n%s", diff)
			}
		})
	}
}

// electCase is one table row of Elect: a cluster, the live nodes and the
// expected result.
type electCase struct {
	name     string
	ads      []config.L2Advertisement
	nodes    []state.Node
	services []state.Service
	live     []string
	want     Result
}

func runElect(t *testing.T, tests []electCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &state.Cluster{Model: &config.Model{L2Advertisements: tt.ads}, Nodes: tt.nodes, Services: tt.services}
			got := Elect(c, tt.live)
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("Elect (-want +got):\n%s", diff)
			}
		})
	}
}
