package noderouter

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/state"
)

// ownBuilder computes ironlb's frr.Config of node-1 (the peers of
// labOwn) for a set of Service addresses with an frr.Builder, as the
// speaker does: the same *frr.Config when nothing changed.
type ownBuilder struct {
	model *config.Model
	b     *frr.Builder
}

func newOwnBuilder(t testing.TB) *ownBuilder {
	t.Helper()
	return &ownBuilder{model: labModel(t), b: frr.NewBuilder()}
}

// build returns the Config of node-1 announcing one Service per address
// (the last byte of 203.0.113.x/32, or of 2001:db8:5::x/128 above 100).
func (o *ownBuilder) build(t testing.TB, svcs []int) *frr.Config {
	t.Helper()
	c := &state.Cluster{Model: o.model, Nodes: []state.Node{{Name: "node-1", Labels: labels.Set{"kubernetes.io/hostname": "node-1"}, Ready: true}}}
	for _, s := range slices.Sorted(slices.Values(svcs)) {
		svc := state.Service{Namespace: "a", Name: fmt.Sprintf("svc-%03d", s), Pool: "v4", IPs: []netip.Addr{netip.AddrFrom4([4]byte{203, 0, 113, byte(s)})}, ServingNodes: []string{"node-1"}}
		if s > 100 {
			svc.Pool, svc.IPs = "v6", []netip.Addr{addr(fmt.Sprintf("2001:db8:5::%x", s-100))}
		}
		c.Services = append(c.Services, svc)
	}
	cfg, err := o.b.Build(c, "node-1", frr.BuildOptions{RouterID: addr("192.0.2.10")})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// versioned returns an FRRConfiguration as the API server stores it,
// with a UID and resourceVersion.
func versioned(t testing.TB, key, uid, rv, spec string) frrk8s.FRRConfiguration {
	t.Helper()
	c := frrConfig(t, key, spec)
	c.UID, c.ResourceVersion = types.UID(uid), rv
	return c
}

// checkSameAsScratch runs c.ForNode and the from-scratch path on the
// same inputs and fails unless both give the same model or the same
// error, and byte for byte the same frr.conf.
func checkSameAsScratch(t *testing.T, rd *frr.Renderer, c *Cache, own *frr.Config, cfgs []frrk8s.FRRConfiguration, nodeLabels map[string]string, opts Options, step string) {
	t.Helper()
	want, wantErr := ForNode(own, cfgs, nodeLabels, opts)
	got, gotErr := c.ForNode(own, cfgs, nodeLabels, opts)
	if fmt.Sprint(wantErr) != fmt.Sprint(gotErr) {
		t.Fatalf("%s: error from the cache %v, from scratch %v", step, gotErr, wantErr)
	}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Fatalf("%s: model from the cache differs (-scratch +cache):\n%s", step, diff)
	}
	if wantErr != nil {
		return
	}
	render := func(toFRR func(*frr.Config, *Model) (*frr.Config, error), m *Model) []byte {
		cfg, err := toFRR(own, m)
		if err != nil {
			t.Fatalf("%s: ToFRR: %v", step, err)
		}
		out, err := rd.Render(cfg)
		if err != nil {
			t.Fatalf("%s: rendering: %v", step, err)
		}
		return out
	}
	if w, g := render(ToFRR, want), render(c.ToFRR, got); !bytes.Equal(w, g) {
		t.Fatalf("%s: frr.conf from the cache differs from scratch (%d lines differ)", step, changedLines(w, g))
	}
}

func TestCacheForNode(t *testing.T) {
	const (
		spec1 = `
bgp:
  routers:
  - asn: 64512
    prefixes: [198.51.100.0/28]
    neighbors:
    - address: 192.0.2.1
      asn: 64512
      holdTime: 90s
      keepaliveTime: 30s
      toAdvertise: {allowed: {mode: all}, withCommunity: [{prefixes: [198.51.100.0/28], community: "65000:7"}]}
      toReceive: {allowed: {prefixes: [{prefix: 198.18.0.0/24, le: 28}]}}
`
		spec2 = `
bgp:
  routers:
  - asn: 64512
    neighbors:
    - address: 192.0.2.7
      asn: 64512
      toReceive: {allowed: {mode: all}}
`
		spec2b = `
bgp:
  routers:
  - asn: 64512
    neighbors:
    - address: 192.0.2.7
      asn: 64512
      toReceive: {allowed: {prefixes: [{prefix: 198.18.1.0/24}]}}
raw: {rawConfig: "ip route 198.18.9.0/24 blackhole", priority: 5}
`
		spec3 = `
nodeSelector: {matchLabels: {rack: b}}
bgp:
  routers:
  - asn: 64512
    neighbors: [{address: 192.0.2.8, asn: 64512}]
`
		invalid = `
bgp:
  routers:
  - asn: 64512
    prefixes: [not-a-prefix]
`
		conflict = `
bgp:
  routers:
  - asn: 64512
    neighbors: [{address: 192.0.2.1, asn: 65001}]
`
	)
	type step struct {
		// svcs are the Services ironlb announces (see ownBuilder.build).
		svcs []int
		// objs are key, UID, resourceVersion and spec.
		objs [][4]string
		// wantOwn and want are the conversions of ironlb's own Config
		// and of FRRConfigurations this step is to make.
		wantOwn, want int
		wantErr       bool
	}
	a1 := [4]string{"ns/a", "uid-a", "1", spec1}
	b1 := [4]string{"ns/b", "uid-b", "1", spec2}
	b2 := [4]string{"ns/b", "uid-b", "2", spec2b}
	c1 := [4]string{"ns/c", "uid-c", "1", spec3} // selects rack b: never converted
	tests := []struct {
		name  string
		steps []step
	}{{
		name: "unchanged inputs convert nothing",
		steps: []step{
			{svcs: []int{5}, objs: [][4]string{a1, b1, c1}, wantOwn: 1, want: 2},
			{svcs: []int{5}, objs: [][4]string{a1, b1, c1}},
		},
	}, {
		name: "one changed object is converted alone",
		steps: []step{
			{svcs: []int{5}, objs: [][4]string{a1, b1}, wantOwn: 1, want: 2},
			{svcs: []int{5}, objs: [][4]string{a1, b2}, want: 1},
			{svcs: []int{5}, objs: [][4]string{a1, b1}, want: 1},
		},
	}, {
		name: "added and deleted objects",
		steps: []step{
			{svcs: []int{5}, objs: [][4]string{a1}, wantOwn: 1, want: 1},
			{svcs: []int{5}, objs: [][4]string{a1, b1}, want: 1},
			{svcs: []int{5}, objs: [][4]string{b1}},
			{svcs: []int{5}, objs: [][4]string{a1, b1}, want: 1},
		},
	}, {
		name: "an object recreated under its name is converted again",
		steps: []step{
			{svcs: []int{5}, objs: [][4]string{a1}, wantOwn: 1, want: 1},
			{svcs: []int{5}, objs: [][4]string{{"ns/a", "uid-a2", "1", spec1}}, want: 1},
		},
	}, {
		name: "an object without resourceVersion is converted on every call",
		steps: []step{
			{svcs: []int{5}, objs: [][4]string{a1, {"ns/b", "", "", spec2}}, wantOwn: 1, want: 2},
			{svcs: []int{5}, objs: [][4]string{a1, {"ns/b", "", "", spec2}}, want: 1},
		},
	}, {
		name: "changed Services convert ironlb's own Config alone",
		steps: []step{
			{svcs: []int{5}, objs: [][4]string{a1, b1}, wantOwn: 1, want: 2},
			{svcs: []int{5, 6, 105}, objs: [][4]string{a1, b1}, wantOwn: 1},
			{svcs: []int{5, 6, 105}, objs: [][4]string{a1, b1}},
			{svcs: []int{6}, objs: [][4]string{a1, b2}, wantOwn: 1, want: 1},
		},
	}, {
		name: "an invalid object keeps its error until it changes",
		steps: []step{
			{svcs: []int{5}, objs: [][4]string{a1, {"ns/b", "uid-b", "1", invalid}}, wantOwn: 1, want: 2, wantErr: true},
			{svcs: []int{5}, objs: [][4]string{a1, {"ns/b", "uid-b", "1", invalid}}, wantErr: true},
			{svcs: []int{5}, objs: [][4]string{a1, b2}, want: 1},
		},
	}, {
		name: "a conflict is found again from the cached pieces",
		steps: []step{
			{svcs: []int{5}, objs: [][4]string{a1, {"ns/z", "uid-z", "1", conflict}}, wantOwn: 1, want: 2, wantErr: true},
			{svcs: []int{5}, objs: [][4]string{a1, {"ns/z", "uid-z", "1", conflict}}, wantErr: true},
			{svcs: []int{5}, objs: [][4]string{a1}},
		},
	}}
	rd, err := frr.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	nodeLabels := map[string]string{"kubernetes.io/hostname": "node-1", "rack": "a"}
	opts := Options{AlwaysBlock: []netip.Prefix{pfx("10.96.0.0/12")}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ob := newOwnBuilder(t)
			c := NewCache()
			for i, s := range tt.steps {
				own := ob.build(t, s.svcs)
				var cfgs []frrk8s.FRRConfiguration
				for _, o := range s.objs {
					cfgs = append(cfgs, versioned(t, o[0], o[1], o[2], o[3]))
				}
				ownBefore, before := c.ownConverted, c.converted
				name := fmt.Sprintf("step %d", i)
				checkSameAsScratch(t, rd, c, own, cfgs, nodeLabels, opts, name)
				if gotOwn, got := c.ownConverted-ownBefore, c.converted-before; gotOwn != s.wantOwn || got != s.want {
					t.Errorf("%s: converted ironlb's Config %d times and %d FRRConfigurations, want %d and %d", name, gotOwn, got, s.wantOwn, s.want)
				}
				if _, err := c.ForNode(own, cfgs, nodeLabels, opts); (err != nil) != s.wantErr {
					t.Errorf("%s: error %v, want error: %t", name, err, s.wantErr)
				}
			}
		})
	}
}

// TestCacheRandomSequences applies seeded random sequences of changes
// (FRRConfigurations added, changed, deleted, recreated, made invalid or
// conflicting; Services added and removed) and checks after each step
// that the Cache gives what the from-scratch path gives, byte for byte,
// and that it converted exactly the objects that changed.
func TestCacheRandomSequences(t *testing.T) {
	rd, err := frr.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{AlwaysBlock: []netip.Prefix{pfx("10.96.0.0/12"), pfx("fd00::/8")}}
	const broken = "bgp:\n  routers:\n  - asn: 64512\n    prefixes: [198.51.100.300/24]\n"
	const conflicting = "bgp:\n  routers:\n  - asn: 64512\n    neighbors: [{address: 192.0.2.1, asn: 64512, holdTime: 30s}]\n"
	type object struct {
		uid, spec string
		rv        int
	}
	steps, errs := 0, 0
	for seed := range uint64(12) {
		r := rand.New(rand.NewPCG(seed, 1414))
		ob := newOwnBuilder(t)
		c := NewCache()
		svcs := []int{5}
		objs := map[string]*object{} // by key
		uids := 0
		var prevOwn *frr.Config
		newUID := func() string { uids++; return fmt.Sprintf("uid-%d", uids) }
		specFor := func(i int) string {
			switch r.IntN(10) {
			case 0:
				return broken
			case 1:
				return conflicting
			}
			return genObjectFor(r, i).spec
		}
		for step := range 40 {
			wantOwnConverted, wantConverted := 0, 0
			key := func(i int) string { return fmt.Sprintf("metallb-system/obj-%02d", i) }
			i := r.IntN(8)
			o := objs[key(i)]
			switch op := r.IntN(6); {
			case op == 0 && o == nil, op == 1 && o == nil:
				objs[key(i)] = &object{uid: newUID(), spec: specFor(i), rv: 1}
				wantConverted = 1
			case op == 0:
				o.spec, o.rv = specFor(i), o.rv+1
				wantConverted = 1
			case op == 1:
				delete(objs, key(i))
			case op == 2 && o != nil:
				// Recreated under the same name: a new UID.
				objs[key(i)] = &object{uid: newUID(), spec: o.spec, rv: 1}
				wantConverted = 1
			case op == 3:
				// A Service comes or goes.
				s := []int{1, 2, 3, 5, 7, 9, 101, 102, 105}[r.IntN(9)]
				if j := slices.Index(svcs, s); j >= 0 {
					svcs = slices.Delete(svcs, j, j+1)
				} else {
					svcs = append(svcs, s)
				}
			case op == 4 && o != nil:
				// A write that leaves the spec as it was (status,
				// labels) still changes the resourceVersion.
				o.rv++
				wantConverted = 1
			}
			own := ob.build(t, svcs)
			if own != prevOwn {
				wantOwnConverted = 1
			}
			prevOwn = own
			var cfgs []frrk8s.FRRConfiguration
			for _, k := range slices.Sorted(func(yield func(string) bool) {
				for k := range objs {
					if !yield(k) {
						return
					}
				}
			}) {
				o := objs[k]
				cfgs = append(cfgs, versioned(t, k, o.uid, fmt.Sprint(o.rv), o.spec))
			}
			if step == 0 {
				wantConverted = len(cfgs)
			}
			// Shuffled: the cache must not depend on the order of the list.
			r.Shuffle(len(cfgs), func(a, b int) { cfgs[a], cfgs[b] = cfgs[b], cfgs[a] })
			ownConv, conv := c.ownConverted, c.converted
			name := fmt.Sprintf("seed %d step %d", seed, step)
			checkSameAsScratch(t, rd, c, own, cfgs, nil, opts, name)
			if got, gotOwn := c.converted-conv, c.ownConverted-ownConv; got != wantConverted || gotOwn != wantOwnConverted {
				t.Fatalf("%s: converted %d FRRConfigurations and ironlb's Config %d times, want %d and %d", name, got, gotOwn, wantConverted, wantOwnConverted)
			}
			if _, err := ForNode(own, cfgs, nil, opts); err != nil {
				errs++
			}
			steps++
			if len(c.pieces) > len(cfgs) {
				t.Fatalf("%s: the cache holds %d pieces for %d objects", name, len(c.pieces), len(cfgs))
			}
		}
	}
	// The sequences must cover both outcomes.
	if errs == 0 || errs == steps {
		t.Errorf("%d of %d steps failed to merge; want some of each", errs, steps)
	}
	t.Logf("%d steps, %d with a conversion error", steps, errs)
}
