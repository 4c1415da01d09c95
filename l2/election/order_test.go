package election

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/state"
)

// permutations returns every order of s.
func permutations[T any](s []T) [][]T {
	if len(s) <= 1 {
		return [][]T{append([]T(nil), s...)}
	}
	var out [][]T
	for i := range s {
		rest := make([]T, 0, len(s)-1)
		rest = append(rest, s[:i]...)
		rest = append(rest, s[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]T{s[i]}, p...))
		}
	}
	return out
}

// TestElectAnyOrder feeds the same state with the nodes, Services and
// live members in every order and expects the same Result each time, as
// every speaker must reach the same decision.
func TestElectAnyOrder(t *testing.T) {
	model := &config.Model{L2Advertisements: []config.L2Advertisement{
		prefer(ad("all", []string{"p"}, nil, []string{"eth0"}), 30, "zone=a"),
		prefer(prefer(ad("edge", []string{"p"}, []string{"role=edge"}, []string{"eth1"}), 20, "role=edge"), 20, "zone=a"),
	}}
	nodes := []state.Node{n1, node("n2", "role=edge"), cordon(node("n3", "zone=a")), node("n4", "zone=a")}
	services := []state.Service{
		svc("a/dual", []string{"192.0.2.20", "2001:db8::20"}, "n1"),
		local(svc("a/shared-1", []string{"192.0.2.10"}, "n3", "n2", "n1")),
		local(svc("b/shared-2", []string{"192.0.2.10"}, "n2", "n3")),
		svc("b/single", []string{"198.51.100.1"}, "n4"),
	}
	live := []string{"n4", "n3", "n2", "n1"}

	want := Elect(&state.Cluster{Model: model, Nodes: nodes, Services: services}, live)
	if len(want.Nodes) == 0 {
		t.Fatal("the reference election assigned nothing")
	}
	// The hash alone gives 198.51.100.1 to n2; zone=a prefers n4.
	if got := want.Services[3]; got.Name != "single" || got.Node != "n4" {
		t.Fatalf("the reference election gave %+v, want b/single on the preferred n4", got)
	}
	// Every order of the nodes with every order of the Services, each
	// pair with the next order of the live members in turn: every order
	// of each list is seen, in many combinations.
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

func names(ns []state.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Name
	}
	return out
}

func keys(ss []state.Service) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Key()
	}
	return out
}

// BenchmarkElect measures an election of 1000 Services on 100 nodes.
func BenchmarkElect(b *testing.B) {
	model := &config.Model{L2Advertisements: []config.L2Advertisement{ad("all", []string{"p"}, nil, nil)}}
	c := &state.Cluster{Model: model}
	var live []string
	for i := range 100 {
		n := node(nodeName(i))
		c.Nodes = append(c.Nodes, n)
		live = append(live, n.Name)
	}
	for i := range 1000 {
		ip := []string{"198.51.100." + strconv.Itoa(i%250), "2001:db8::" + strconv.Itoa(i)}
		c.Services = append(c.Services, svc("a/s"+strconv.Itoa(i), ip[:1+i%2], "n0"))
	}
	b.ResetTimer()
	for b.Loop() {
		Elect(c, live)
	}
}

func nodeName(i int) string { return "node-" + strconv.Itoa(i) }
