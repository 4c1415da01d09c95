package frr

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/state"
)

func TestPatchSorted(t *testing.T) {
	tests := []struct {
		name     string
		s        []int
		del, add []int
		want     []int
		wantOK   bool
	}{
		{name: "nothing", s: []int{1, 2}, want: []int{1, 2}, wantOK: true},
		{name: "empty", want: []int{}, wantOK: true},
		{name: "insert first, middle, last", s: []int{2, 4}, add: []int{1, 3, 5}, want: []int{1, 2, 3, 4, 5}, wantOK: true},
		{name: "delete first, middle, last", s: []int{1, 2, 3, 4, 5}, del: []int{1, 3, 5}, want: []int{2, 4}, wantOK: true},
		{name: "delete all", s: []int{1, 2}, del: []int{1, 2}, want: []int{}, wantOK: true},
		{name: "replace", s: []int{1, 2, 3}, del: []int{2}, add: []int{2}, want: []int{1, 2, 3}, wantOK: true},
		{name: "mixed", s: []int{1, 3, 5, 7}, del: []int{3, 7}, add: []int{0, 4, 8}, want: []int{0, 1, 4, 5, 8}, wantOK: true},
		{name: "into empty", add: []int{1, 2}, want: []int{1, 2}, wantOK: true},
		{name: "delete missing", s: []int{1, 3}, del: []int{2}},
		{name: "delete twice", s: []int{1, 2}, del: []int{2, 2}},
		{name: "more deletes than elements", s: []int{1}, del: []int{1, 2}},
		{name: "add present", s: []int{1, 2}, add: []int{2}},
		{name: "add twice", s: []int{1}, add: []int{2, 2}},
		{name: "adds not sorted", s: []int{1}, add: []int{3, 2}},
		{name: "deletes not sorted", s: []int{1, 2}, del: []int{2, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(tc.s)
			got, ok := patchSorted(nil, tc.s, tc.del, tc.add, func(a, b int) int { return a - b })
			if ok != tc.wantOK {
				t.Fatalf("ok = %t, want %t (got %v)", ok, tc.wantOK, got)
			}
			if ok {
				if diff := cmp.Diff(tc.want, got); diff != "" && !(len(tc.want) == 0 && len(got) == 0) {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
			if !slices.Equal(before, tc.s) {
				t.Errorf("the input changed: %v, was %v", tc.s, before)
			}
		})
	}
	t.Run("reuses dst", func(t *testing.T) {
		dst := make([]int, 5, 10)
		got, ok := patchSorted(dst, []int{1, 3}, nil, []int{2}, func(a, b int) int { return a - b })
		if !ok || !slices.Equal(got, []int{1, 2, 3}) || &got[0] != &dst[0] {
			t.Errorf("got %v, %t; want [1 2 3] in dst", got, ok)
		}
	})
}

func TestCompareServiceKeys(t *testing.T) {
	keys := []string{"a/b", "a/a", "a-b/a", "ab/a", "a/", "/a", "a0/x", "a.b/x", "a/b/c", "b/a", "ab/", "a/bc", "abc/a", ""}
	for _, x := range keys {
		for _, y := range keys {
			if strings.Count(x, "/") != 1 || strings.Count(y, "/") != 1 {
				continue // keys hold one '/'
			}
			var sx, sy state.Service
			sx.Namespace, sx.Name, _ = strings.Cut(x, "/")
			sy.Namespace, sy.Name, _ = strings.Cut(y, "/")
			if got, want := compareServiceKeys(&sx, &sy), strings.Compare(x, y); got != want {
				t.Errorf("compareServiceKeys(%q, %q) = %d, want %d", x, y, got, want)
			}
		}
	}
}

func TestSameService(t *testing.T) {
	base := state.Service{Namespace: "ns", Name: "n", IPs: []netip.Addr{addr("192.0.2.1")}, Pool: "p", ServingNodes: []string{node1}}
	tests := []struct {
		name   string
		change func(*state.Service)
		want   bool
	}{
		{name: "equal copies", change: func(s *state.Service) { s.IPs, s.ServingNodes = slices.Clone(s.IPs), slices.Clone(s.ServingNodes) }, want: true},
		{name: "namespace", change: func(s *state.Service) { s.Namespace = "other" }},
		{name: "name", change: func(s *state.Service) { s.Name = "other" }},
		{name: "IP", change: func(s *state.Service) { s.IPs = []netip.Addr{addr("192.0.2.2")} }},
		{name: "second IP", change: func(s *state.Service) { s.IPs = append(slices.Clone(s.IPs), addr("2001:db8::1")) }},
		{name: "zone", change: func(s *state.Service) { s.IPs = []netip.Addr{addr("fe80::1%eth0")} }},
		{name: "pool", change: func(s *state.Service) { s.Pool = "q" }},
		{name: "policy", change: func(s *state.Service) { s.ETPLocal = true }},
		{name: "serving nodes", change: func(s *state.Service) { s.ServingNodes = nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			other := base
			tc.change(&other)
			if got := sameService(&base, &other); got != tc.want {
				t.Errorf("sameService = %t, want %t", got, tc.want)
			}
		})
	}
}

func TestSameNode(t *testing.T) {
	base := state.Node{Name: node1, Labels: labels.Set{"zone": "a"}, Ready: true}
	tests := []struct {
		name   string
		change func(*state.Node)
		want   bool
	}{
		{name: "copied labels", change: func(n *state.Node) { n.Labels = labels.Set{"zone": "a"} }, want: true},
		{name: "name", change: func(n *state.Node) { n.Name = node2 }},
		{name: "label value", change: func(n *state.Node) { n.Labels = labels.Set{"zone": "b"} }},
		{name: "label added", change: func(n *state.Node) { n.Labels = labels.Set{"zone": "a", "x": ""} }},
		{name: "excluded", change: func(n *state.Node) { n.Excluded = true }},
		{name: "network unavailable", change: func(n *state.Node) { n.NetworkUnavailable = true }},
		{name: "unschedulable", change: func(n *state.Node) { n.Unschedulable = true }},
		{name: "not ready", change: func(n *state.Node) { n.Ready = false }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			other := base
			tc.change(&other)
			if got := sameNode(base, other); got != tc.want {
				t.Errorf("sameNode = %t, want %t", got, tc.want)
			}
		})
	}
}

// TestSameFieldsCovered fails when state.Service or state.Node gains a
// field, which sameService, sameNode and cloneService must then handle.
func TestSameFieldsCovered(t *testing.T) {
	for _, tc := range []struct {
		typ  reflect.Type
		want []string
	}{
		{reflect.TypeFor[state.Service](), []string{"Namespace", "Name", "IPs", "Pool", "ETPLocal", "ServingNodes", "Labels", "SharingKey"}},
		{reflect.TypeFor[state.Node](), []string{"Name", "Labels", "Excluded", "NetworkUnavailable", "Unschedulable", "Ready"}},
	} {
		var got []string
		for f := range tc.typ.Fields() {
			got = append(got, f.Name)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s fields changed; update sameService, sameNode and cloneService (-want +got):\n%s", tc.typ, diff)
		}
	}
}

func TestCloneServices(t *testing.T) {
	svcs := []state.Service{
		{Namespace: "a", Name: "x", IPs: []netip.Addr{addr("192.0.2.1"), addr("2001:db8::1")}, ServingNodes: []string{node1, node2}},
		{Namespace: "a", Name: "y"},
		{Namespace: "b", Name: "z", IPs: []netip.Addr{addr("192.0.2.3")}, ServingNodes: []string{}},
	}
	want := []state.Service{
		{Namespace: "a", Name: "x", IPs: []netip.Addr{addr("192.0.2.1"), addr("2001:db8::1")}, ServingNodes: []string{node1, node2}},
		{Namespace: "a", Name: "y"},
		{Namespace: "b", Name: "z", IPs: []netip.Addr{addr("192.0.2.3")}, ServingNodes: []string{}},
	}
	got := cloneServices(svcs)
	one := cloneService(&svcs[0])
	svcs[0].IPs[0], svcs[0].ServingNodes[0], svcs[2].IPs[0] = addr("192.0.2.99"), "changed", addr("192.0.2.99")
	cmpAddrs := cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
	if diff := cmp.Diff(want, got, cmpAddrs); diff != "" {
		t.Errorf("cloneServices (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[0], one, cmpAddrs); diff != "" {
		t.Errorf("cloneService (-want +got):\n%s", diff)
	}
	// Appending to one clone must not reach the next.
	got[0].IPs = append(got[0].IPs, addr("192.0.2.200"))
	if got[2].IPs[0] != addr("192.0.2.3") {
		t.Errorf("appending to a clone changed another: %v", got[2].IPs)
	}
}

func TestDropUnchanged(t *testing.T) {
	sp := func(svc string, peers ...string) ServicePeers { return ServicePeers{Service: svc, Peers: peers} }
	tests := []struct {
		name             string
		del, add         []ServicePeers
		wantDel, wantAdd []ServicePeers
	}{
		{name: "empty"},
		{name: "same peers", del: []ServicePeers{sp("a/x", "rr")}, add: []ServicePeers{sp("a/x", "rr")}},
		{
			name:    "other peers",
			del:     []ServicePeers{sp("a/x", "rr")},
			add:     []ServicePeers{sp("a/x", "rr", "tor")},
			wantDel: []ServicePeers{sp("a/x", "rr")},
			wantAdd: []ServicePeers{sp("a/x", "rr", "tor")},
		},
		{
			name:    "mixed",
			del:     []ServicePeers{sp("a/gone", "rr"), sp("a/same", "tor"), sp("b/moved", "rr")},
			add:     []ServicePeers{sp("a/new", "rr"), sp("a/same", "tor"), sp("b/moved", "tor"), sp("c/new", "rr")},
			wantDel: []ServicePeers{sp("a/gone", "rr"), sp("b/moved", "rr")},
			wantAdd: []ServicePeers{sp("a/new", "rr"), sp("b/moved", "tor"), sp("c/new", "rr")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gotDel, gotAdd := dropUnchanged(tc.del, tc.add)
			if diff := cmp.Diff(tc.wantDel, gotDel); diff != "" {
				t.Errorf("del (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantAdd, gotAdd); diff != "" {
				t.Errorf("add (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiffServices(t *testing.T) {
	svc := func(key string, ips ...string) state.Service {
		s := state.Service{Pool: "p"}
		s.Namespace, s.Name, _ = strings.Cut(key, "/")
		for _, ip := range ips {
			s.IPs = append(s.IPs, addr(ip))
		}
		return s
	}
	prev := []state.Service{svc("a/x", "192.0.2.1"), svc("a/y", "192.0.2.2"), svc("ab/x", "192.0.2.3")}
	tests := []struct {
		name               string
		next               []state.Service
		wantGone, wantCome []string
		wantOK             bool
	}{
		{name: "same", next: prev, wantOK: true},
		{name: "equal copies", next: []state.Service{svc("a/x", "192.0.2.1"), svc("a/y", "192.0.2.2"), svc("ab/x", "192.0.2.3")}, wantOK: true},
		{name: "all gone", wantGone: []string{"a/x", "a/y", "ab/x"}, wantOK: true},
		{
			name: "added between, before and after",
			// '-' sorts before '/'.
			next:     []state.Service{svc("a-b/x"), svc("a/a"), svc("a/x", "192.0.2.1"), svc("a/y", "192.0.2.2"), svc("ab/x", "192.0.2.3"), svc("b/x")},
			wantCome: []string{"a-b/x", "a/a", "b/x"},
			wantOK:   true,
		},
		{
			name:     "removed and changed",
			next:     []state.Service{svc("a/y", "192.0.2.9"), svc("ab/x", "192.0.2.3")},
			wantGone: []string{"a/x", "a/y"},
			wantCome: []string{"a/y"},
			wantOK:   true,
		},
		{name: "not sorted", next: []state.Service{svc("a/y", "192.0.2.2"), svc("a/x", "192.0.2.1")}},
		{name: "not sorted, all new", next: []state.Service{svc("b/y"), svc("b/x")}},
		{name: "a key twice", next: []state.Service{svc("a/x", "192.0.2.1"), svc("a/x", "192.0.2.1")}},
		{name: "a new key twice", next: []state.Service{svc("a/z"), svc("a/z")}},
	}
	keys := func(ss []*state.Service) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Key())
		}
		return out
	}
	ptrs := make([]*state.Service, len(prev))
	for i := range prev {
		ptrs[i] = &prev[i]
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gone, come, ok := diffServices(ptrs, tc.next)
			if ok != tc.wantOK {
				t.Fatalf("ok = %t, want %t", ok, tc.wantOK)
			}
			if diff := cmp.Diff(tc.wantGone, keys(gone)); diff != "" {
				t.Errorf("gone (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantCome, keys(come)); diff != "" {
				t.Errorf("come (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSameLabels(t *testing.T) {
	shared := labels.Set{"app": "web"}
	tests := []struct {
		name string
		a, b labels.Set
		want bool
	}{
		{name: "both nil", want: true},
		{name: "nil and empty", a: labels.Set{}, want: true},
		{name: "one map", a: shared, b: shared, want: true},
		{name: "equal maps", a: labels.Set{"app": "web"}, b: labels.Set{"app": "web"}, want: true},
		{name: "another value", a: labels.Set{"app": "web"}, b: labels.Set{"app": "db"}, want: false},
		{name: "another key, same size", a: labels.Set{"app": "web"}, b: labels.Set{"tier": "web"}, want: false},
		{name: "one more label", a: shared, b: labels.Set{"app": "web", "tier": "x"}, want: false},
		{name: "labels and none", a: shared, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sameLabels(tt.a, tt.b); got != tt.want {
				t.Errorf("sameLabels(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}
