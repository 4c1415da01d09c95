package frr

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

// TestOneServiceChangesOnlyItsLines renders 1,000 Services announced to
// four peers, then the same with one Service added or removed, and
// expects the line diff to be exactly that Service's network
// statements: no sequence number or other line moves (MetalLB
// renumbers its prefix-lists, and one added Service changed 8,005
// lines of such a file).
func TestOneServiceChangesOnlyItsLines(t *testing.T) {
	const n = 1000
	r := newTestRenderer(t)
	render := func(c *state.Cluster) []string {
		t.Helper()
		cfg, err := Build(c, node1, BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := r.Render(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return splitLines(string(out))
	}
	base := render(scaleCluster(t, n))
	// One router, so one network statement per Service.
	if got := countPrefix(base, "  network "); got != n {
		t.Fatalf("the base config has %d network statements, want %d", got, n)
	}

	newSvc := func(name string, ip netip.Addr) state.Service {
		return state.Service{Namespace: "new", Name: name, IPs: []netip.Addr{ip}, Pool: poolOf(ip), ServingNodes: []string{node2}}
	}
	for _, svc := range []state.Service{
		newSvc("v4", netip.MustParseAddr("198.51.100.101")), // between two IPv4 Services
		newSvc("v6", v6Addr(n+1)),                           // between two IPv6 Services
		newSvc("v6-last", v6Addr(2*n+1)),                    // after the last one
	} {
		t.Run("add "+svc.Key(), func(t *testing.T) {
			next := render(scaleCluster(t, n, svc))
			removed, added := changed(base, next)
			want := serviceLines(next, svc)
			if len(want) == 0 {
				t.Fatalf("the added Service has no line in the new config")
			}
			if diff := cmp.Diff(want, added, cmpopts.EquateEmpty()); diff != "" || len(removed) > 0 {
				t.Errorf("adding %s: added lines (-want +got):\n%s\nremoved lines: %q", svc.Key(), diff, removed)
			}
			t.Logf("adding %s to %d Services x 4 peers changed %d lines of %d", svc.Key(), n, len(removed)+len(added), len(next))
		})
	}

	t.Run("remove one", func(t *testing.T) {
		gone := scaleService(n / 2)
		c := scaleCluster(t, n)
		c.Services = slices.DeleteFunc(c.Services, func(s state.Service) bool { return s.Key() == gone.Key() })
		next := render(c)
		removed, added := changed(base, next)
		want := serviceLines(base, gone)
		if diff := cmp.Diff(want, removed, cmpopts.EquateEmpty()); diff != "" || len(added) > 0 {
			t.Errorf("removing %s: removed lines (-want +got):\n%s\nadded lines: %q", gone.Key(), diff, added)
		}
	})

	t.Run("stop serving one", func(t *testing.T) {
		c := scaleCluster(t, n)
		i := slices.IndexFunc(c.Services, func(s state.Service) bool { return s.Key() == scaleService(7).Key() })
		c.Services[i].ServingNodes = nil
		removed, added := changed(base, render(c))
		if diff := cmp.Diff(serviceLines(base, scaleService(7)), removed, cmpopts.EquateEmpty()); diff != "" || len(added) > 0 {
			t.Errorf("removed lines (-want +got):\n%s\nadded lines: %q", diff, added)
		}
	})
}

// serviceLines returns the network statements of the Service's
// addresses (one route per address) among lines, in order.
func serviceLines(lines []string, svc state.Service) []string {
	var out []string
	for _, l := range lines {
		for _, ip := range svc.IPs {
			if strings.HasPrefix(l, "  network "+netip.PrefixFrom(ip, ip.BitLen()).String()+" ") {
				out = append(out, l)
			}
		}
	}
	return out
}

func countPrefix(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// TestSelectedServiceChangesOnlyItsLines is TestOneServiceChangesOnlyItsLines
// with an advertisement that has serviceSelectors, whose class exists
// before any Service it selects: adding a selected Service, or
// relabelling one so that it is selected, changes only that Service's
// network statement.
func TestSelectedServiceChangesOnlyItsLines(t *testing.T) {
	const n = 1000
	r := newTestRenderer(t)
	selecting := func(c *state.Cluster) *state.Cluster {
		c.Model.BGPAdvertisements = append(c.Model.BGPAdvertisements, mkAdv("public", []string{"v4", "v6"}, func(a *config.BGPAdvertisement) {
			a.ServiceSelectors, a.Peers = []labels.Selector{sel("exposure", "public")}, []string{"tor-a"}
			a.Communities = []config.Community{community(t, "65000:100")}
		}))
		return c
	}
	render := func(c *state.Cluster) []string {
		t.Helper()
		cfg, err := Build(c, node1, BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := r.Render(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return splitLines(string(out))
	}
	base := render(selecting(scaleCluster(t, n)))
	public := labels.Set{"exposure": "public"}

	t.Run("add a selected Service", func(t *testing.T) {
		svc := state.Service{Namespace: "new", Name: "v6", IPs: []netip.Addr{v6Addr(n + 1)}, Pool: "v6", ServingNodes: []string{node2}, Labels: public}
		next := render(selecting(scaleCluster(t, n, svc)))
		removed, added := changed(base, next)
		want := serviceLines(next, svc)
		if len(want) != 1 || !strings.HasSuffix(want[0], " route-map ironlb-adv-all+ibgp+public") {
			t.Fatalf("the selected Service's lines are %q, want one network statement of class all+ibgp+public", want)
		}
		if diff := cmp.Diff(want, added, cmpopts.EquateEmpty()); diff != "" || len(removed) > 0 {
			t.Errorf("added lines (-want +got):\n%s\nremoved lines: %q", diff, removed)
		}
	})

	t.Run("relabel a Service so that it is selected", func(t *testing.T) {
		c := selecting(scaleCluster(t, n))
		i := slices.IndexFunc(c.Services, func(s state.Service) bool { return s.Key() == scaleService(300).Key() })
		c.Services[i].Labels = public
		next := render(c)
		removed, added := changed(base, next)
		wantRemoved, wantAdded := serviceLines(base, scaleService(300)), serviceLines(next, scaleService(300))
		if diff := cmp.Diff(wantRemoved, removed, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("removed lines (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantAdded, added, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("added lines (-want +got):\n%s", diff)
		}
		if len(added) != 1 || !strings.HasSuffix(added[0], "+public") {
			t.Errorf("the relabelled Service's line is %q, want it in the class with public", added)
		}
	})
}
