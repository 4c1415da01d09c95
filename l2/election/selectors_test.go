package election

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/state"
)

// selecting returns the advertisement with serviceSelectors.
func selecting(a config.L2Advertisement, selectors ...string) config.L2Advertisement {
	for _, s := range selectors {
		sel, err := labels.Parse(s)
		if err != nil {
			panic(err)
		}
		a.ServiceSelectors = append(a.ServiceSelectors, sel)
	}
	return a
}

// labelled returns the Service with labels k=v.
func labelled(s state.Service, kv ...string) state.Service {
	s.Labels = labels.Set{}
	for i := 0; i+1 < len(kv); i += 2 {
		s.Labels[kv[i]] = kv[i+1]
	}
	return s
}

// sharing returns the Service with the allow-shared-ip annotation.
func sharing(s state.Service, key string) state.Service { s.SharingKey = key; return s }

// TestElectServiceSelectors covers the serviceSelectors of
// L2Advertisements. With the hash alone, 192.0.2.10 ranks n3 n1 n2 n4 and
// 192.0.2.11 ranks n2 n1 n3 n4.
func TestElectServiceSelectors(t *testing.T) {
	runElect(t, []electCase{
		{
			name:     "only the Services a selector matches are Layer 2",
			ads:      []config.L2Advertisement{selecting(ad("web", []string{"p"}, nil, nil), "tier=web")},
			nodes:    []state.Node{n1, n2, n3, n4},
			services: []state.Service{labelled(svc("a/web", []string{"192.0.2.10"}, "n4"), "tier", "web"), svc("a/plain", []string{"192.0.2.11"}, "n4"), labelled(svc("a/db", []string{"192.0.2.20"}, "n4"), "tier", "db")},
			live:     all4,
			want: Result{
				Nodes:    []Assignment{{Node: "n3", Owned: []Target{tgt("192.0.2.10")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n3"}},
			},
		},
		{
			name: "one of several selectors is enough; an empty selector matches every Service",
			ads: []config.L2Advertisement{
				selecting(ad("either", []string{"p"}, nil, nil), "tier=web", "exposure=lan"),
				selecting(ad("empty", []string{"q"}, nil, nil), ""),
			},
			nodes: []state.Node{n1, n2, n3, n4},
			services: []state.Service{
				labelled(svc("a/lan", []string{"192.0.2.10"}, "n4"), "exposure", "lan"),
				inPool(svc("a/q", []string{"192.0.2.11"}, "n4"), "q"),
			},
			live: all4,
			want: Result{
				Nodes: []Assignment{
					{Node: "n2", Owned: []Target{tgt("192.0.2.11")}},
					{Node: "n3", Owned: []Target{tgt("192.0.2.10")}},
				},
				Services: []ServiceOwner{{Namespace: "a", Name: "lan", Node: "n3"}, {Namespace: "a", Name: "q", Node: "n2"}},
			},
		},
		{
			name: "only the nodes and interfaces of the advertisements that apply",
			ads: []config.L2Advertisement{
				selecting(ad("everywhere", []string{"p"}, nil, []string{"eth0"}), "tier=db"),
				selecting(ad("edge", []string{"p"}, []string{"role=edge"}, []string{"eth1"}), "tier=web"),
			},
			nodes:    []state.Node{n1, node("n2", "role=edge"), n3, n4},
			services: []state.Service{labelled(svc("a/web", []string{"192.0.2.10"}, "n4"), "tier", "web")},
			live:     all4,
			want: Result{
				Nodes:    []Assignment{{Node: "n2", Owned: []Target{tgt("192.0.2.10", "eth1")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n2"}},
			},
		},
		{
			name: "preferences only from the advertisements that apply",
			ads: []config.L2Advertisement{
				ad("plain", []string{"p"}, nil, nil),
				prefer(selecting(ad("prefer-a", []string{"p"}, nil, nil), "tier=web"), 50, "zone=a"),
			},
			nodes: []state.Node{n1, n2, n3, node("n4", "zone=a")},
			services: []state.Service{
				svc("a/plain", []string{"192.0.2.10"}, "n1"),
				labelled(svc("a/web", []string{"192.0.2.11"}, "n1"), "tier", "web"),
			},
			live: all4,
			want: Result{
				Nodes: []Assignment{
					{Node: "n3", Owned: []Target{tgt("192.0.2.10")}},
					{Node: "n4", Owned: []Target{tgt("192.0.2.11")}},
				},
				Services: []ServiceOwner{{Namespace: "a", Name: "plain", Node: "n3"}, {Namespace: "a", Name: "web", Node: "n4"}},
			},
		},
		{
			name: "allow-shared-ip and an advertisement with serviceSelectors: not announced, as in MetalLB",
			ads: []config.L2Advertisement{
				ad("plain", []string{"p"}, nil, nil),
				selecting(ad("web", []string{"p"}, nil, nil), "tier=web"),
			},
			nodes: []state.Node{n1, n2, n3, n4},
			services: []state.Service{
				sharing(labelled(svc("a/web-tcp", []string{"192.0.2.10"}, "n4"), "tier", "web"), "k"),
				sharing(labelled(svc("a/web-udp", []string{"192.0.2.10"}, "n4"), "tier", "web"), "k"),
			},
			live: all4,
			want: Result{Services: []ServiceOwner{{Namespace: "a", Name: "web-tcp"}, {Namespace: "a", Name: "web-udp"}}},
		},
		{
			name: "allow-shared-ip where only advertisements without serviceSelectors apply: announced",
			ads: []config.L2Advertisement{
				ad("plain", []string{"p"}, nil, nil),
				selecting(ad("db", []string{"p"}, nil, nil), "tier=db"),
			},
			nodes: []state.Node{n1, n2, n3, n4},
			services: []state.Service{
				sharing(labelled(svc("a/web-tcp", []string{"192.0.2.10"}, "n4"), "tier", "web"), "k"),
				sharing(svc("a/web-udp", []string{"192.0.2.10"}, "n4"), "k"),
			},
			live: all4,
			want: Result{
				Nodes:    []Assignment{{Node: "n3", Owned: []Target{tgt("192.0.2.10")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "web-tcp", Node: "n3"}, {Namespace: "a", Name: "web-udp", Node: "n3"}},
			},
		},
		{
			// The refused Service has no owner; the IP stays with its
			// sibling, elected without it.
			name: "on a shared IP, only the refused Service goes",
			ads: []config.L2Advertisement{
				ad("edge", []string{"p"}, []string{"role=edge"}, nil),
				selecting(ad("web", []string{"p"}, nil, nil), "tier=web"),
			},
			nodes: []state.Node{n1, node("n2", "role=edge"), n3, n4},
			services: []state.Service{
				sharing(svc("a/api", []string{"192.0.2.10"}, "n4"), "k"),
				sharing(labelled(svc("a/web", []string{"192.0.2.10"}, "n4"), "tier", "web"), "k"),
			},
			live: all4,
			want: Result{
				Nodes:    []Assignment{{Node: "n2", Owned: []Target{tgt("192.0.2.10")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "api", Node: "n2"}, {Namespace: "a", Name: "web"}},
			},
		},
	})
}

// TestElectServiceSelectorsAnyOrder is TestElectAnyOrder with
// advertisements that have serviceSelectors and Services that share an
// IP: every order gives the same Result.
func TestElectServiceSelectorsAnyOrder(t *testing.T) {
	model := &config.Model{L2Advertisements: []config.L2Advertisement{
		ad("all", []string{"p"}, nil, []string{"eth0"}),
		prefer(selecting(ad("edge", []string{"p"}, []string{"role=edge"}, []string{"eth1"}), "tier=web"), 40, "zone=a"),
		selecting(ad("lan", []string{"q"}, nil, nil), "exposure=lan"),
	}}
	nodes := []state.Node{n1, node("n2", "role=edge"), node("n3", "role=edge", "zone=a"), n4}
	services := []state.Service{
		labelled(svc("a/web", []string{"192.0.2.20", "2001:db8::20"}, "n1"), "tier", "web"),
		sharing(svc("a/shared-1", []string{"192.0.2.10"}, "n2"), "k"),
		sharing(labelled(svc("b/shared-2", []string{"192.0.2.10"}, "n3"), "tier", "web"), "k"),
		labelled(inPool(svc("b/lan", []string{"198.51.100.1"}, "n4"), "q"), "exposure", "lan"),
		inPool(svc("b/not-lan", []string{"198.51.100.2"}, "n4"), "q"),
	}
	live := []string{"n4", "n3", "n2", "n1"}
	want := Elect(&state.Cluster{Model: model, Nodes: nodes, Services: services}, live)
	wantOwners := []ServiceOwner{
		{Namespace: "a", Name: "shared-1", Node: "n3"}, {Namespace: "a", Name: "web", Node: "n3"},
		{Namespace: "b", Name: "lan", Node: "n2"}, {Namespace: "b", Name: "shared-2"},
	}
	if diff := cmp.Diff(wantOwners, want.Services, cmpOpts); diff != "" {
		t.Fatalf("the reference election (-want +got):\n%s", diff)
	}
	lives := permutations(live)
	runs := 0
	for _, ns := range permutations(nodes) {
		for _, ss := range permutations(services) {
			ls := lives[runs%len(lives)]
			got := Elect(&state.Cluster{Model: model, Nodes: ns, Services: ss}, ls)
			if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
				t.Fatalf("nodes %v, services %v, live %v: Elect (-want +got):\n%s", names(ns), keys(ss), ls, diff)
			}
			runs++
		}
	}
	t.Logf("%d orders gave the same result", runs)
}
