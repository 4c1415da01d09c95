package state

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/ipam"
)

var addrEqual = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// TestStoreReportsChanges checks which events a Store reports as changing
// the state: the speaker reconciles only on those.
func TestStoreReportsChanges(t *testing.T) {
	yes, no := ptr.To(true), ptr.To(false)
	withIP := lbService("a", "web", "192.0.2.1")
	otherIP := lbService("a", "web", "192.0.2.2")
	bumped := withIP
	bumped.ResourceVersion = "7"
	relabelled := withIP
	relabelled.Labels = map[string]string{"app": "x"}
	relabelled.ResourceVersion = "8"
	relabelledAgain := relabelled
	relabelledAgain.Labels = map[string]string{"app": "x"}
	relabelledAgain.ResourceVersion = "9"
	shared := relabelled
	shared.Annotations = map[string]string{"metallb.universe.tf/allow-shared-ip": "k"}
	emptyLabels := withIP
	emptyLabels.Labels = map[string]string{}
	pooled := withIP
	pooled.Annotations = map[string]string{"metallb.io/ip-allocated-from-pool": "p"}
	local := withIP
	local.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	classed := withIP
	classed.Spec.LoadBalancerClass = ptr.To("x.io/lb")
	named := func(es discoveryv1.EndpointSlice, name string) *discoveryv1.EndpointSlice {
		es.Name = name
		return &es
	}
	n1 := named(slice("a", "web", ep("n1", yes, nil, nil)), "web-1")
	n1AndNotReady := named(slice("a", "web", ep("n1", yes, nil, nil), ep("n2", no, no, nil)), "web-1")
	n2 := named(slice("a", "web", ep("n2", yes, nil, nil)), "web-1")
	moved := named(slice("a", "db", ep("n2", yes, nil, nil)), "web-1")

	type step struct {
		what string
		do   func(*Store) bool
		want bool
	}
	setSvc := func(s corev1.Service) func(*Store) bool {
		return func(st *Store) bool { return st.SetService(&s) }
	}
	setES := func(es *discoveryv1.EndpointSlice) func(*Store) bool {
		return func(st *Store) bool { return st.SetEndpointSlice(es) }
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"service", []step{
			{"created without IPs", setSvc(lbService("a", "web")), false},
			{"gets an IP", setSvc(withIP), true},
			{"the same again", setSvc(withIP), false},
			{"resourceVersion only", setSvc(bumped), false},
			{"labels, which serviceSelectors match", setSvc(relabelled), true},
			{"equal labels in another map", setSvc(relabelledAgain), false},
			{"allow-shared-ip annotation", setSvc(shared), true},
			{"no labels and no annotation", setSvc(withIP), true},
			{"an empty label map is no labels", setSvc(emptyLabels), false},
			{"another IP", setSvc(otherIP), true},
			{"pool annotation", setSvc(pooled), true},
			{"back to no annotation", setSvc(withIP), true},
			{"traffic policy", setSvc(local), true},
			{"another class", setSvc(classed), true},
			{"still another class", setSvc(classed), false},
			{"deleted while not handled", func(st *Store) bool { return st.DeleteService("a", "web") }, false},
			{"back", setSvc(withIP), true},
			{"deleted", func(st *Store) bool { return st.DeleteService("a", "web") }, true},
			{"deleted twice", func(st *Store) bool { return st.DeleteService("a", "web") }, false},
		}},
		{"pool annotation after the IP", []step{
			{"gets an IP", setSvc(withIP), true},
			{"a read under a model whose pool p holds the IP", func(st *Store) bool {
				st.Services(&config.Model{Pools: []config.Pool{{Name: "p", Ranges: []ipam.Range{{First: netip.MustParseAddr("192.0.2.0"), Last: netip.MustParseAddr("192.0.2.255")}}}}})
				return false
			}, false},
			{"annotated with that pool", setSvc(pooled), false},
			{"annotation removed", setSvc(withIP), false},
		}},
		{"endpoints", []step{
			{"slice of a Service without IPs", setES(n1), false},
			{"the Service gets an IP", setSvc(withIP), true},
			{"a not ready endpoint", setES(n1AndNotReady), false},
			{"the serving node changes", setES(n2), true},
			{"the slice moves to another Service", setES(moved), true},
			{"the other Service is unknown", setES(moved), false},
			{"deleted", func(st *Store) bool { return st.DeleteEndpointSlice("a", "web-1") }, false},
			{"back", setES(n1), true},
			{"deleted again", func(st *Store) bool { return st.DeleteEndpointSlice("a", "web-1") }, true},
			{"unknown slice deleted", func(st *Store) bool { return st.DeleteEndpointSlice("a", "nope") }, false},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := NewStore("")
			for _, s := range tc.steps {
				if got := s.do(st); got != s.want {
					t.Errorf("%s: changed = %v, want %v", s.what, got, s.want)
				}
			}
		})
	}
}

// TestStoreMatchesBuild drives a Store through random events and checks,
// after each, that it holds what Build makes of the objects as they
// stand, and that a state it returned earlier never changes.
func TestStoreMatchesBuild(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	modelA := &config.Model{Pools: []config.Pool{{Name: "low", Ranges: []ipam.Range{{First: netip.MustParseAddr("192.0.2.0"), Last: netip.MustParseAddr("192.0.2.127")}}}}}
	modelB := &config.Model{Pools: []config.Pool{{Name: "all", Ranges: []ipam.Range{{First: netip.MustParseAddr("192.0.2.0"), Last: netip.MustParseAddr("192.0.2.255")}}}}}
	models := []*config.Model{modelA, modelB, nil}
	svcs := map[string]corev1.Service{}
	eps := map[string]discoveryv1.EndpointSlice{}
	names := []string{"a", "b", "ab", "a-b"}
	pick := func() (string, string) { return names[rng.IntN(len(names))], names[rng.IntN(len(names))] }
	randomService := func(ns, name string) corev1.Service {
		var ips []string
		for range rng.IntN(3) {
			if rng.IntN(2) == 0 {
				ips = append(ips, fmt.Sprintf("192.0.2.%d", rng.IntN(256)))
			} else {
				ips = append(ips, fmt.Sprintf("2001:db8::%x", rng.IntN(64)))
			}
		}
		s := lbService(ns, name, ips...)
		switch rng.IntN(4) {
		case 0:
			s.Labels = map[string]string{"tier": []string{"web", "db"}[rng.IntN(2)]}
		case 1:
			s.Labels = map[string]string{}
		}
		switch rng.IntN(7) {
		case 6:
			s.Annotations = map[string]string{"metallb.io/allow-shared-ip": "k"}
		case 0:
			s.Annotations = map[string]string{"metallb.io/ip-allocated-from-pool": "named"}
		case 1:
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		case 2:
			s.Spec.Type = corev1.ServiceTypeClusterIP
		}
		return s
	}
	randomSlice := func(ns, name string) discoveryv1.EndpointSlice {
		var list []discoveryv1.Endpoint
		for range rng.IntN(4) {
			states := []*bool{nil, ptr.To(true), ptr.To(false)}
			list = append(list, ep(fmt.Sprintf("n%d", rng.IntN(3)), states[rng.IntN(3)], states[rng.IntN(3)], states[rng.IntN(3)]))
		}
		es := discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Endpoints: list}
		if svc := names[rng.IntN(len(names)+1)%len(names)]; rng.IntN(8) > 0 {
			es.Labels = map[string]string{discoveryv1.LabelServiceName: svc}
		}
		return es
	}

	st := NewStore("")
	type kept struct {
		got  []Service
		copy []Service
	}
	var earlier []kept
	model := modelA
	for step := range 3000 {
		ns, name := pick()
		key := ns + "/" + name
		switch rng.IntN(6) {
		case 0, 1:
			s := randomService(ns, name)
			if old, ok := svcs[key]; ok && rng.IntN(3) == 0 {
				// The controller's second write: the same Service with
				// the pool annotation, as the model or not.
				s = *old.DeepCopy()
				s.Annotations = map[string]string{"metallb.io/ip-allocated-from-pool": []string{"low", "all", "named"}[rng.IntN(3)]}
			}
			svcs[key] = s
			st.SetService(&s)
		case 2:
			delete(svcs, key)
			st.DeleteService(ns, name)
		case 3, 4:
			es := randomSlice(ns, name)
			eps[key] = es
			st.SetEndpointSlice(&es)
		case 5:
			if rng.IntN(4) == 0 {
				model = models[rng.IntN(len(models))]
			} else {
				delete(eps, key)
				st.DeleteEndpointSlice(ns, name)
			}
		}
		if rng.IntN(3) > 0 {
			continue // several events between reads, as between reconciles
		}
		got := st.Services(model)
		want := Build(model, nil, valuesOf(svcs), valuesOf(eps), "").Services
		if diff := cmp.Diff(want, got, addrEqual, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("step %d: Services() differs from Build (-want +got):\n%s", step, diff)
		}
		earlier = append(earlier, kept{got: got, copy: deepCopy(got)})
	}
	for i, k := range earlier {
		if diff := cmp.Diff(k.copy, k.got, addrEqual); diff != "" {
			t.Fatalf("read %d changed after it was returned (-then +now):\n%s", i, diff)
		}
	}
}

func valuesOf[T any](m map[string]T) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func deepCopy(svcs []Service) []Service {
	out := slices.Clone(svcs)
	for i := range out {
		out[i].IPs = slices.Clone(out[i].IPs)
		out[i].ServingNodes = slices.Clone(out[i].ServingNodes)
		out[i].Labels = maps.Clone(out[i].Labels)
	}
	return out
}

// TestMerge checks the sorted merge of changed Services into a state.
func TestMerge(t *testing.T) {
	ip := []netip.Addr{netip.MustParseAddr("192.0.2.1")}
	svc := func(name string, ips []netip.Addr) Service { return Service{Namespace: "ns", Name: name, IPs: ips} }
	old := []Service{svc("b", ip), svc("d", ip), svc("f", ip)}
	for _, tc := range []struct {
		name    string
		changed []Service
		want    []string
	}{
		{"nothing", nil, []string{"b", "d", "f"}},
		{"add first, middle, last", []Service{svc("a", ip), svc("c", ip), svc("g", ip)}, []string{"a", "b", "c", "d", "f", "g"}},
		{"remove every one", []Service{svc("b", nil), svc("d", nil), svc("f", nil)}, nil},
		{"remove unknown", []Service{svc("c", nil)}, []string{"b", "d", "f"}},
		{"replace and remove", []Service{svc("b", ip), svc("f", nil)}, []string{"b", "d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := slices.Clone(old)
			var got []string
			for _, s := range merge(old, tc.changed) {
				got = append(got, s.Name)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("merge = %v, want %v", got, tc.want)
			}
			if diff := cmp.Diff(before, old, addrEqual); diff != "" {
				t.Errorf("merge changed its input:\n%s", diff)
			}
		})
	}
}

// BenchmarkStoreOneService is a reconcile's read of the state after one
// Service changed among n, against Build from every object.
func BenchmarkStoreOneService(b *testing.B) {
	model := &config.Model{}
	for _, n := range []int{1000, 10000} {
		var svcs []corev1.Service
		var eps []discoveryv1.EndpointSlice
		for i := range n {
			s := lbService("bench", fmt.Sprintf("svc-%05d", i), fmt.Sprintf("2001:db8::%x", i))
			s.Annotations = map[string]string{"metallb.io/ip-allocated-from-pool": "p"}
			svcs = append(svcs, s)
			eps = append(eps, slice("bench", s.Name, ep("n1", ptr.To(true), nil, nil), ep("n2", ptr.To(true), nil, nil)))
		}
		b.Run(fmt.Sprintf("store/services=%d", n), func(b *testing.B) {
			st := NewStore("")
			for i := range svcs {
				st.SetService(&svcs[i])
				st.SetEndpointSlice(&eps[i])
			}
			st.Services(model)
			extra := lbService("bench", "extra", "2001:db8:1::1")
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%2 == 0 {
					st.SetService(&extra)
				} else {
					st.DeleteService("bench", "extra")
				}
				st.Services(model)
			}
		})
		b.Run(fmt.Sprintf("build/services=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Build(model, nil, svcs, eps, "")
			}
		})
	}
}

// TestStorePoolByIP checks which pool a Service is in when the
// controller's annotation and the IP disagree, and that a new model
// moves an annotated Service whose pool it changes.
func TestStorePoolByIP(t *testing.T) {
	pool := func(name, first, last string) config.Pool {
		return config.Pool{Name: name, Ranges: []ipam.Range{{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last)}}}
	}
	ab := &config.Model{Pools: []config.Pool{pool("a", "192.0.2.0", "192.0.2.127"), pool("b", "192.0.2.128", "192.0.2.255")}}
	renamed := &config.Model{Pools: []config.Pool{pool("a2", "192.0.2.0", "192.0.2.127"), pool("b", "192.0.2.128", "192.0.2.255")}}
	annotated := func(ip, pool string) corev1.Service {
		svc := lbService("ns", "web", ip)
		if pool != "" {
			svc.Annotations = map[string]string{"metallb.io/ip-allocated-from-pool": pool}
		}
		return svc
	}
	for _, tc := range []struct {
		name  string
		svc   corev1.Service
		model *config.Model
		want  string
	}{
		{name: "annotation and IP agree", svc: annotated("192.0.2.1", "a"), model: ab, want: "a"},
		{name: "no annotation", svc: annotated("192.0.2.200", ""), model: ab, want: "b"},
		{name: "annotated pool does not hold the IP", svc: annotated("192.0.2.200", "a"), model: ab, want: "b"},
		{name: "annotated pool does not exist", svc: annotated("192.0.2.1", "metallb-pool"), model: ab, want: "a"},
		{name: "IP in no pool", svc: annotated("198.51.100.1", "a"), model: ab, want: ""},
		{name: "no model yet", svc: annotated("192.0.2.1", "a"), model: nil, want: "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := NewStore("")
			st.SetService(&tc.svc)
			got := st.Services(tc.model)
			if len(got) != 1 || got[0].Pool != tc.want {
				t.Errorf("Services() = %+v, want one Service in pool %q", got, tc.want)
			}
		})
	}

	t.Run("a new model renames the annotated pool", func(t *testing.T) {
		st := NewStore("")
		svc := annotated("192.0.2.1", "a")
		st.SetService(&svc)
		if got := st.Services(ab); got[0].Pool != "a" {
			t.Fatalf("under the first model: pool %q, want a", got[0].Pool)
		}
		if got := st.Services(renamed); got[0].Pool != "a2" {
			t.Errorf("after the rename: pool %q, want a2", got[0].Pool)
		}
		if got := st.Services(ab); got[0].Pool != "a" {
			t.Errorf("after the rename back: pool %q, want a", got[0].Pool)
		}
	})
}
