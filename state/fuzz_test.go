package state_test

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/internal/fuzzgen"
	"github.com/ironlb/ironlb/state"
)

// FuzzBuildState builds the cluster state of generated Nodes, Services
// and EndpointSlices, every field filled, under a generated
// configuration: no panic, the same state whatever the order of the
// objects, and a Store emptied of its Services holds none.
func FuzzBuildState(f *testing.F) {
	f.Add([]byte(""), []byte(""))
	f.Add([]byte("pools"), []byte("services and slices"))
	f.Add([]byte("\x01\x02\x03\x04\x05\x06\x07\x08\x09"), []byte("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4"))
	f.Fuzz(func(t *testing.T, cfgData, objData []byte) {
		model, err := config.Build(fuzzgen.Objects(cfgData))
		if err != nil {
			model = nil
		}
		var (
			nodes []corev1.Node
			eps   []discoveryv1.EndpointSlice
		)
		fill := fuzzgen.Filler(objData)
		fill.Fill(&nodes)
		fill.Fill(&eps)
		// The API server holds one object per key.
		svcs := uniq(derefAll(fuzzgen.Services(objData)), func(s corev1.Service) string { return s.Namespace + "/" + s.Name })
		eps = uniq(eps, func(e discoveryv1.EndpointSlice) string { return e.Namespace + "/" + e.Name })
		nodes = uniq(nodes, func(n corev1.Node) string { return n.Name })

		got := state.Build(model, nodes, svcs, eps, "")
		slices.Reverse(nodes)
		slices.Reverse(svcs)
		slices.Reverse(eps)
		again := state.Build(model, nodes, svcs, eps, "")
		opts := []cmp.Option{cmpopts.EquateEmpty(), cmpopts.EquateComparable(netip.Addr{}), cmp.Comparer(func(a, b *config.Model) bool { return a == b })}
		if diff := cmp.Diff(got, again, opts...); diff != "" {
			t.Fatalf("state depends on the order of the objects (-first +reversed):\n%s", diff)
		}

		st := state.NewStore("")
		for i := range svcs {
			st.SetService(&svcs[i])
		}
		for i := range eps {
			st.SetEndpointSlice(&eps[i])
		}
		_ = st.Services(model)
		for _, s := range svcs {
			st.DeleteService(s.Namespace, s.Name)
		}
		if left := st.Services(model); len(left) != 0 {
			t.Fatalf("Store holds %d Services after every one was deleted", len(left))
		}
	})
}

func derefAll[T any](in []*T) []T {
	out := make([]T, len(in))
	for i, p := range in {
		out[i] = *p
	}
	return out
}

func uniq[T any](in []T, key func(T) string) []T {
	seen := map[string]bool{}
	return slices.DeleteFunc(in, func(x T) bool {
		k := key(x)
		if seen[k] {
			return true
		}
		seen[k] = true
		return false
	})
}
