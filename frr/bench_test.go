package frr

import (
	"fmt"
	"net/netip"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/state"
)

// The benchmarks use the scale cluster: N Services announced to four
// peers (see scaleModel). Run them with
//
//	go test -run '^$' -bench . -benchmem ./frr/

var benchSizes = []int{1000, 10000}

// BenchmarkBuildRender is the speaker's whole computation per node:
// state to model to frr.conf.
func BenchmarkBuildRender(b *testing.B) {
	r := newTestRenderer(b)
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			c := scaleCluster(b, n)
			b.ReportAllocs()
			for b.Loop() {
				cfg, err := Build(c, node1, BuildOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.Render(cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			c := scaleCluster(b, n)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build(c, node1, BuildOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	r := newTestRenderer(b)
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			cfg, err := Build(scaleCluster(b, n), node1, BuildOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Render(cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOneServiceDelta renders the desired state after one Service
// is added to N, and reports how many lines of the file that changes
// (measured once, outside the timing).
func BenchmarkOneServiceDelta(b *testing.B) {
	r := newTestRenderer(b)
	added := state.Service{Namespace: "new", Name: "svc", IPs: []netip.Addr{v6Addr(1001)}, Pool: "v6", ServingNodes: []string{node2}}
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			before, err := Build(scaleCluster(b, n), node1, BuildOptions{})
			if err != nil {
				b.Fatal(err)
			}
			old, err := r.Render(before)
			if err != nil {
				b.Fatal(err)
			}
			c := scaleCluster(b, n, added)
			var out []byte
			b.ReportAllocs()
			for b.Loop() {
				cfg, err := Build(c, node1, BuildOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if out, err = r.Render(cfg); err != nil {
					b.Fatal(err)
				}
			}
			removed, addedLines := changed(splitLines(string(old)), splitLines(string(out)))
			b.ReportMetric(float64(len(removed)+len(addedLines)), "lines-changed")
		})
	}
}

// BenchmarkBuilderOneServiceChange is a Builder's cost per reconcile
// when one Service comes or goes among N: each iteration alternately
// adds and removes one Service (between two others) to a Builder that
// holds N already.
func BenchmarkBuilderOneServiceChange(b *testing.B) {
	added := state.Service{Namespace: "ns-5", Name: "svc-new", IPs: []netip.Addr{v6Addr(1001)}, Pool: "v6", ServingNodes: []string{node2}}
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			without := scaleCluster(b, n)
			with := scaleCluster(b, n, added)
			with.Model = without.Model
			bl := NewBuilder()
			if _, err := bl.Build(without, node1, BuildOptions{}); err != nil {
				b.Fatal(err)
			}
			clusters := [2]*state.Cluster{with, without}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bl.Build(clusters[i%2], node1, BuildOptions{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkBuildServiceSelectors is BenchmarkBuild with an advertisement
// whose serviceSelectors select every other Service of the scale
// cluster: what serviceSelectors cost on top of a plain configuration.
func BenchmarkBuildServiceSelectors(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			c := scaleCluster(b, n)
			c.Model.BGPAdvertisements = append(c.Model.BGPAdvertisements, mkAdv("public", []string{"v4", "v6"}, func(a *config.BGPAdvertisement) {
				a.ServiceSelectors, a.Peers = []labels.Selector{sel("exposure", "public")}, []string{"tor-a"}
			}))
			public := labels.Set{"exposure": "public"}
			for i := range c.Services {
				if i%2 == 0 {
					c.Services[i].Labels = public
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build(c, node1, BuildOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBuilderOneServiceChangeLabelled is BenchmarkBuilderOneServiceChange
// with Services that carry labels, as most do, which the merge walk
// compares. As from a state.Store, an unchanged Service keeps its label
// map from one cluster to the next.
func BenchmarkBuilderOneServiceChangeLabelled(b *testing.B) {
	added := state.Service{Namespace: "ns-5", Name: "svc-new", IPs: []netip.Addr{v6Addr(1001)}, Pool: "v6", ServingNodes: []string{node2}}
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			byName := map[string]labels.Set{}
			label := func(c *state.Cluster) *state.Cluster {
				for i := range c.Services {
					s := &c.Services[i]
					if byName[s.Name] == nil {
						byName[s.Name] = labels.Set{"app": s.Name, "team": "web", "tier": "frontend", "version": "v1"}
					}
					s.Labels = byName[s.Name]
				}
				return c
			}
			without := label(scaleCluster(b, n))
			with := label(scaleCluster(b, n, added))
			with.Model = without.Model
			bl := NewBuilder()
			if _, err := bl.Build(without, node1, BuildOptions{}); err != nil {
				b.Fatal(err)
			}
			clusters := [2]*state.Cluster{with, without}
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bl.Build(clusters[i%2], node1, BuildOptions{}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
