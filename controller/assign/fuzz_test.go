package assign_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/controller/assign"
	"github.com/ironlb/ironlb/internal/fuzzgen"
)

// FuzzAssignGenerated runs generated Services, every field filled,
// through the Assigner over a generated configuration (or a fixed one
// when Build rejects it): nothing panics, every IP handed out lies in
// the pool named with it, and releasing every Service frees every pool.
func FuzzAssignGenerated(f *testing.F) {
	for _, seed := range [][2]string{
		{"", ""},
		{"pools", "services"},
		{strings.Repeat("\x01\x02\x03", 30), strings.Repeat("\x10\x20\x30\x40", 40)},
		{"", strings.Repeat("web", 60)},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	fixed, err := config.Build(config.Objects{Namespace: fuzzgen.Namespace, Pools: []v1beta1.IPAddressPool{
		pool("a", "192.0.2.0/30", "2001:db8::/126"),
		manual(pool("b", "198.51.100.0/31")),
		forTeam(pool("web", "203.0.113.0/30"), "web", 1),
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, cfgData, svcData []byte) {
		m, err := config.Build(fuzzgen.Objects(cfgData))
		if err != nil {
			m = fixed
		}
		a, err := assign.New(m)
		if err != nil {
			t.Fatalf("assign.New on a model Build accepted: %v", err)
		}
		var svcs []assign.Service
		seen := map[string]bool{}
		for _, s := range fuzzgen.Services(svcData) {
			sv := assign.Service{Svc: s, NamespaceLabels: labels.Set(s.Labels)}
			if !seen[sv.Key()] { // the API server holds one Service per key
				seen[sv.Key()] = true
				svcs = append(svcs, sv)
			}
		}
		a.RestoreAll(svcs)
		for _, s := range svcs {
			res, err := a.Ensure(s)
			if err != nil {
				continue
			}
			p := m.Pool(res.Pool)
			if p == nil {
				t.Fatalf("%s got IPs %v of unknown pool %q", s.Key(), res.IPs, res.Pool)
			}
			for _, ip := range res.IPs {
				if m.PoolHolding(ip) == "" {
					t.Fatalf("%s got IP %v outside every pool", s.Key(), ip)
				}
			}
		}
		for _, s := range svcs {
			a.Release(s.Key())
		}
		for _, p := range m.Pools {
			if u, _ := a.Usage(p.Name); u.IPv4.Assigned != 0 || u.IPv6.Assigned != 0 {
				t.Fatalf("pool %s still has %+v after every Service was released", p.Name, u)
			}
		}
	})
}
