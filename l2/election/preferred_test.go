package election

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/state"
)

// prefer returns a with one more preferredNodeSelectors term.
func prefer(a config.L2Advertisement, weight int, selector string) config.L2Advertisement {
	sel, err := labels.Parse(selector)
	if err != nil {
		panic(err)
	}
	a.Preferred = append(append([]config.WeightedSelector(nil), a.Preferred...), config.WeightedSelector{Weight: weight, Selector: sel})
	return a
}

// TestElectPreferred covers preferredNodeSelectors. With the hash alone,
// 192.0.2.10 ranks n3 n1 n2 n4 and 192.0.2.11 ranks n2 n1 n3 n4.
func TestElectPreferred(t *testing.T) {
	preferZoneA := []config.L2Advertisement{prefer(ad("all", []string{"p"}, nil, nil), 50, "zone=a")}
	web := func(serving ...string) []state.Service {
		return []state.Service{svc("a/web", []string{"192.0.2.10"}, serving...)}
	}
	owns := func(node string, handover ...string) Result {
		r := Result{
			Nodes:    []Assignment{{Node: node, Owned: []Target{tgt("192.0.2.10")}}},
			Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: node}},
		}
		for _, h := range handover {
			r.Nodes = append(r.Nodes, Assignment{Node: h, Handover: []Target{tgt("192.0.2.10")}})
		}
		return r
	}
	tests := []electCase{
		{
			name:     "the preferred node wins over the hash",
			ads:      preferZoneA,
			nodes:    []state.Node{n1, n2, n3, node("n4", "zone=a")},
			services: web("n1"),
			live:     all4,
			want:     owns("n4"),
		},
		{
			name:     "without preferred nodes the hash decides",
			ads:      preferZoneA,
			nodes:    []state.Node{n1, n2, n3, node("n4", "zone=b")},
			services: web("n1"),
			live:     all4,
			want:     owns("n3"),
		},
		{
			name:     "equal preferences fall back to the hash",
			ads:      preferZoneA,
			nodes:    []state.Node{node("n1", "zone=a"), n2, n3, node("n4", "zone=a")},
			services: web("n1"),
			live:     all4,
			want:     owns("n1"),
		},
		{
			name: "weights of the matching terms add up",
			ads: []config.L2Advertisement{
				prefer(prefer(prefer(ad("all", []string{"p"}, nil, nil), 60, "zone=a"), 50, "gpu=true"), 100, "tier=top"),
			},
			nodes:    []state.Node{n1, n2, node("n3", "tier=top"), node("n4", "zone=a", "gpu=true")},
			services: web("n1"),
			live:     all4,
			want:     owns("n4"),
		},
		{
			name: "an advertisement's preference counts only on the nodes it selects",
			ads: []config.L2Advertisement{
				prefer(ad("edge", []string{"p"}, []string{"role=edge"}, nil), 100, "zone=a"),
				ad("all", []string{"p"}, nil, nil),
			},
			nodes:    []state.Node{n1, n2, node("n3", "zone=a"), node("n4", "zone=a", "role=edge")},
			services: web("n1"),
			live:     all4,
			want:     owns("n4"),
		},
		{
			name: "two advertisements of a pool: their preferences add up, as in MetalLB",
			ads: []config.L2Advertisement{
				prefer(prefer(ad("zones", []string{"p"}, nil, nil), 60, "zone=a"), 70, "tier=top"),
				prefer(ad("gpus", []string{"p"}, nil, nil), 50, "gpu=true"),
			},
			nodes:    []state.Node{node("n1", "zone=a", "gpu=true"), n2, node("n3", "tier=top"), n4},
			services: []state.Service{svc("a/web", []string{"192.0.2.11"}, "n1")},
			live:     all4,
			want: Result{
				Nodes:    []Assignment{{Node: "n1", Owned: []Target{tgt("192.0.2.11")}}},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n1"}},
			},
		},
		{
			name:     "a preferred node with a dead speaker does not win",
			ads:      preferZoneA,
			nodes:    []state.Node{n1, n2, n3, node("n4", "zone=a")},
			services: web("n1"),
			live:     []string{"n1", "n2", "n3"},
			want:     owns("n3"),
		},
		{
			name:     "externalTrafficPolicy Local: a preferred node without an endpoint does not win",
			ads:      preferZoneA,
			nodes:    []state.Node{n1, n2, n3, node("n4", "zone=a")},
			services: []state.Service{local(svc("a/web", []string{"192.0.2.10"}, "n1", "n2"))},
			live:     all4,
			want:     owns("n1"),
		},
		{
			name:     "a cordoned preferred node hands over to an active one",
			ads:      preferZoneA,
			nodes:    []state.Node{n1, n2, node("n3", "zone=b"), cordon(node("n4", "zone=a"))},
			services: web("n1"),
			live:     all4,
			want:     owns("n3", "n4"),
		},
		{
			name:     "a cordoned preferred node owns when no active node can",
			ads:      preferZoneA,
			nodes:    []state.Node{cordon(n1), cordon(node("n4", "zone=a")), exclude(node("n3", "zone=a"))},
			services: web("n1"),
			live:     all4,
			want: Result{
				Nodes: []Assignment{
					{Node: "n1", Handover: []Target{tgt("192.0.2.10")}},
					{Node: "n3", Handover: []Target{tgt("192.0.2.10")}},
					{Node: "n4", Owned: []Target{tgt("192.0.2.10")}},
				},
				Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n4"}},
			},
		},
		{
			name:     "an excluded preferred node never owns",
			ads:      preferZoneA,
			nodes:    []state.Node{n1, n2, exclude(node("n3", "zone=a")), exclude(node("n4", "zone=a"))},
			services: web("n1"),
			live:     all4,
			want:     owns("n1", "n3", "n4"),
		},
		{
			name: "shared IP: the preference of an advertisement of either pool",
			ads: []config.L2Advertisement{
				ad("p", []string{"p"}, nil, nil),
				prefer(ad("q", []string{"q"}, nil, nil), 10, "zone=a"),
			},
			nodes: []state.Node{n1, node("n2", "zone=a"), n3, n4},
			services: []state.Service{
				svc("a/x", []string{"192.0.2.10"}, "n1"),
				inPool(svc("a/y", []string{"192.0.2.10"}, "n1"), "q"),
			},
			live: all4,
			want: Result{
				Nodes: []Assignment{{Node: "n2", Owned: []Target{tgt("192.0.2.10")}}},
				Services: []ServiceOwner{
					{Namespace: "a", Name: "x", Node: "n2"},
					{Namespace: "a", Name: "y", Node: "n2"},
				},
			},
		},
		{
			name: "shared IP without a common node: only the Services a node is a candidate for count",
			ads: []config.L2Advertisement{
				ad("p", []string{"p"}, nil, nil),
				prefer(ad("q", []string{"q"}, nil, nil), 100, "role=edge"),
			},
			nodes: []state.Node{node("n1", "role=edge"), n2, n3, n4},
			services: []state.Service{
				local(svc("a/x", []string{"192.0.2.10"}, "n1")),
				inPool(local(svc("a/y", []string{"192.0.2.10"}, "n3")), "q"),
			},
			live: all4,
			want: Result{
				Nodes: []Assignment{{Node: "n3", Owned: []Target{tgt("192.0.2.10")}}},
				Services: []ServiceOwner{
					{Namespace: "a", Name: "x", Node: "n3"},
					{Namespace: "a", Name: "y", Node: "n3"},
				},
			},
		},
	}
	runElect(t, tests)
}

func TestElectPreferredWithInterfaces(t *testing.T) {
	ads := []config.L2Advertisement{prefer(ad("eth1", []string{"p"}, nil, []string{"eth1"}), 100, "zone=a")}
	nodes := []state.Node{n1, n2, n3, node("n4", "zone=a")}
	links := map[string][]string{"n1": {"eth1"}, "n2": {"eth1"}, "n3": {"eth1"}, "n4": {"eth0"}}
	canAnnounce := func(node string, allowed []string) bool {
		for _, name := range allowed {
			for _, have := range links[node] {
				if name == have {
					return true
				}
			}
		}
		return false
	}
	c := &state.Cluster{Model: &config.Model{L2Advertisements: ads}, Nodes: nodes, Services: []state.Service{svc("a/web", []string{"192.0.2.10"}, "n1")}}
	want := Result{
		Nodes:    []Assignment{{Node: "n3", Owned: []Target{tgt("192.0.2.10", "eth1")}}},
		Services: []ServiceOwner{{Namespace: "a", Name: "web", Node: "n3"}},
	}
	if diff := cmp.Diff(want, ElectWith(c, all4, Options{CanAnnounce: canAnnounce}), cmpOpts); diff != "" {
		t.Errorf("ElectWith: a preferred node without the interface won (-want +got):\n%s", diff)
	}
}
