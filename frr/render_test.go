package frr

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/ironlb/ironlb/config"
)

func TestRenderNil(t *testing.T) {
	if _, err := newTestRenderer(t).Render(nil); err == nil {
		t.Error("Render(nil) succeeded, want an error")
	}
}

// TestRenderConcurrently renders one config from several goroutines
// (run with -race).
func TestRenderConcurrently(t *testing.T) {
	r := newTestRenderer(t)
	cfg := goldenCases(t)[0].build(t)
	want, err := r.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got, err := r.Render(cfg)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("concurrent Render differs (err %v)", err)
			}
		})
	}
	wg.Wait()
}

// TestPasswordOnlyInTheFile checks that the model prints the password
// redacted while the rendered file holds it.
func TestPasswordOnlyInTheFile(t *testing.T) {
	const secret = "hunter2secret"
	m := baseModel(t)
	m.Peers[0].Password = config.NewPassword(secret)
	cfg, err := Build(cluster(m), node1, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, cfg.Routers); strings.Contains(s, secret) {
			t.Errorf("Sprintf(%q) of the routers shows the password", verb)
		}
	}
	out, err := newTestRenderer(t).Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), " neighbor 192.0.2.253 password "+secret+"\n") {
		t.Errorf("the rendered file lacks the password line:\n%s", out)
	}
}

// TestNetworkStatements checks the template function networks against
// what the template's former range wrote through fmt.
func TestNetworkStatements(t *testing.T) {
	nw := func(p, rm string) Network { return Network{Prefix: netip.MustParsePrefix(p), RouteMap: rm} }
	tests := []struct {
		name     string
		networks []Network
		want     string
	}{
		{name: "none", want: ""},
		{name: "IPv4", networks: []Network{nw("198.51.100.10/32", "ironlb-adv-a")}, want: "  network 198.51.100.10/32 route-map ironlb-adv-a"},
		{
			name:     "several",
			networks: []Network{nw("198.51.100.0/24", "ironlb-adv-a+b"), nw("2001:db8::/32", "ironlb-advh-0123456789abcdef"), nw("::/0", "m")},
			want:     "  network 198.51.100.0/24 route-map ironlb-adv-a+b\n  network 2001:db8::/32 route-map ironlb-advh-0123456789abcdef\n  network ::/0 route-map m",
		},
		{name: "zero prefix", networks: []Network{{RouteMap: "m"}}, want: "  network invalid Prefix route-map m"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var viaFmt []string
			for _, n := range tc.networks {
				viaFmt = append(viaFmt, fmt.Sprintf("  network %v route-map %v", n.Prefix, n.RouteMap))
			}
			if got := strings.Join(viaFmt, "\n"); got != tc.want {
				t.Fatalf("the case is wrong: fmt writes %q", got)
			}
			if got := networkStatements(tc.networks); got != tc.want {
				t.Errorf("networkStatements = %q, want %q", got, tc.want)
			}
		})
	}
}
