package frr

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/internal/frrproc"
)

// TestAnnouncementsFRR checks what the rendered policy does, not only
// that FRR accepts it: a speaker FRR loaded with Build's config peers
// with two receiving FRRs, an iBGP route reflector (rr) and an eBGP
// router (tor), each in its own namespace behind a veth. The receivers
// must get exactly the routes and attributes the advertisements ask for,
// through the normal, graceful-shutdown and withdrawn phases, applied
// with frr-reload.py as the speaker does. It runs as root only.
func TestAnnouncementsFRR(t *testing.T) {
	frrproc.SkipUnlessRoot(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	nsS, nsRR, nsTor := testNetns(t, ctx, "ilbt-ann-s-"), testNetns(t, ctx, "ilbt-ann-rr-"), testNetns(t, ctx, "ilbt-ann-tor-")
	if err := frrproc.Veth(ctx, nsS, "to-rr", "192.0.2.1/30", nsRR, "to-speaker", "192.0.2.2/30"); err != nil {
		t.Fatal(err)
	}
	if err := frrproc.Veth(ctx, nsS, "to-tor", "192.0.2.5/30", nsTor, "to-speaker", "192.0.2.6/30"); err != nil {
		t.Fatal(err)
	}

	fast := func(p *config.Peer) { p.HoldTime, p.KeepaliveTime, p.ConnectTime = dur("9s"), dur("3s"), dur("1s") }
	m := &config.Model{
		Pools: []config.Pool{mkPool(t, "pool-a", "198.51.100.0/24"), mkPool(t, "pool-b", "203.0.113.0/24")},
		Peers: []config.Peer{mkPeer("rr", "192.0.2.2", 64512, 64512, fast), mkPeer("tor", "192.0.2.6", 64512, 64513, fast)},
		BGPAdvertisements: []config.BGPAdvertisement{
			mkAdv("all", []string{"pool-a"}, func(a *config.BGPAdvertisement) {
				a.LocalPref = 150
				a.Communities = []config.Community{community(t, "65000:1"), community(t, "large:64512:1:1")}
			}),
			mkAdv("rr-only", []string{"pool-b"}, func(a *config.BGPAdvertisement) {
				a.Peers, a.Communities = []string{"rr"}, []config.Community{community(t, "65000:2")}
			}),
			mkAdv("summary", []string{"pool-b"}, func(a *config.BGPAdvertisement) {
				a.AggregationLength, a.Peers = 24, []string{"tor"}
			}),
		},
	}
	c := cluster(m,
		mkSvc("shop/web", "pool-a", "198.51.100.10"),
		mkSvc("data/db", "pool-b", "203.0.113.7"),
		withLocal(mkSvc("shop/local", "pool-a", "198.51.100.11"), node2),
	)
	r := newTestRenderer(t)
	render := func(phase Phase) []byte {
		cfg, err := Build(c, node1, BuildOptions{Phase: phase, RouterID: addr("192.0.2.1")})
		if err != nil {
			t.Fatal(err)
		}
		out, err := r.Render(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	speaker := frrproc.StartTest(t, frrproc.Config{Netns: nsS, InitialConfig: render(PhaseNormal)})
	rr := frrproc.StartTest(t, frrproc.Config{Netns: nsRR, InitialConfig: receiverConfig(64512, "192.0.2.2", "192.0.2.1")})
	tor := frrproc.StartTest(t, frrproc.Config{Netns: nsTor, InitialConfig: receiverConfig(64513, "192.0.2.6", "192.0.2.5")})

	waitRoutes(t, ctx, rr, "normal", map[string]route{
		"198.51.100.10/32": {LocalPref: ptr[uint32](150), Communities: "65000:1", Large: "64512:1:1"},
		"203.0.113.7/32":   {LocalPref: ptr[uint32](100), Communities: "65000:2"},
	})
	waitRoutes(t, ctx, tor, "normal", map[string]route{
		"198.51.100.10/32": {Communities: "65000:1", Large: "64512:1:1"},
		"203.0.113.0/24":   {},
	})

	applyConfig(t, ctx, speaker, render(PhaseGracefulShutdown))
	// A receiving FRR itself lowers LOCAL_PREF to 0 for routes with
	// GRACEFUL_SHUTDOWN; the speaker's own LOCAL_PREF 0 shows on rr.
	waitRoutes(t, ctx, rr, "graceful shutdown", map[string]route{
		"198.51.100.10/32": {LocalPref: ptr[uint32](0), Communities: "65000:1 graceful-shutdown", Large: "64512:1:1"},
		"203.0.113.7/32":   {LocalPref: ptr[uint32](0), Communities: "65000:2 graceful-shutdown"},
	})
	waitRoutes(t, ctx, tor, "graceful shutdown", map[string]route{
		"198.51.100.10/32": {LocalPref: ptr[uint32](0), Communities: "65000:1 graceful-shutdown", Large: "64512:1:1"},
		"203.0.113.0/24":   {LocalPref: ptr[uint32](0), Communities: "graceful-shutdown"},
	})

	applyConfig(t, ctx, speaker, render(PhaseWithdrawn))
	waitRoutes(t, ctx, rr, "withdrawn", map[string]route{})
	waitRoutes(t, ctx, tor, "withdrawn", map[string]route{})
	for _, f := range []*frrproc.FRR{rr, tor} {
		var sum struct {
			IPv4Unicast struct {
				Peers map[string]struct {
					State string `json:"state"`
				} `json:"peers"`
			} `json:"ipv4Unicast"`
		}
		if err := f.VtyshJSON(ctx, "show bgp summary json", &sum); err != nil {
			t.Fatal(err)
		}
		for addr, p := range sum.IPv4Unicast.Peers {
			if p.State != "Established" {
				t.Errorf("%s: session with %s is %s after the withdrawal, want it kept Established", f.Name(), addr, p.State)
			}
		}
	}
}

// testNetns creates a namespace for t and deletes it when t ends.
func testNetns(t testing.TB, ctx context.Context, prefix string) string {
	t.Helper()
	ns := frrproc.UniqueName(prefix)
	if err := frrproc.AddNetns(ctx, ns); err != nil {
		t.Fatalf("creating netns: %v", err)
	}
	t.Cleanup(func() {
		if err := frrproc.DeleteNetns(context.Background(), ns); err != nil {
			t.Errorf("deleting netns %s: %v", ns, err)
		}
	})
	return ns
}

// receiverConfig is a plain BGP router that accepts everything from the
// speaker.
func receiverConfig(asn uint32, self, speaker string) []byte {
	return fmt.Appendf(nil, `frr defaults traditional
router bgp %[1]d
 bgp router-id %[2]s
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor %[3]s remote-as 64512
 neighbor %[3]s timers 3 9
 neighbor %[3]s timers connect 1
 address-family ipv4 unicast
  neighbor %[3]s activate
 exit-address-family
exit
`, asn, self, speaker)
}

// applyConfig reloads the speaker with conf as the speaker does.
func applyConfig(t testing.TB, ctx context.Context, f *frrproc.FRR, conf []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "frr.conf")
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := frrproc.Reload(ctx, f, "--reload", path); err != nil {
		t.Fatalf("frr-reload.py --reload: %v\n%s", err, out)
	}
}

// route is what a receiver holds of one prefix.
type route struct {
	// LocalPref is nil when the path has none (routes from eBGP).
	LocalPref   *uint32
	Communities string
	Large       string
}

// received returns the receiver's routes by prefix.
func received(ctx context.Context, f *frrproc.FRR) (map[string]route, error) {
	var table struct {
		Routes map[string]any `json:"routes"`
	}
	if err := f.VtyshJSON(ctx, "show bgp ipv4 unicast json", &table); err != nil {
		return nil, err
	}
	out := map[string]route{}
	for prefix := range table.Routes {
		var detail struct {
			Paths []struct {
				LocPrf    *uint32 `json:"locPrf"`
				Community struct {
					String string `json:"string"`
				} `json:"community"`
				LargeCommunity struct {
					String string `json:"string"`
				} `json:"largeCommunity"`
			} `json:"paths"`
		}
		if err := f.VtyshJSON(ctx, "show bgp ipv4 unicast "+prefix+" json", &detail); err != nil {
			return nil, err
		}
		if len(detail.Paths) != 1 {
			return nil, fmt.Errorf("%s has %d paths, want 1", prefix, len(detail.Paths))
		}
		p := detail.Paths[0]
		out[prefix] = route{LocalPref: p.LocPrf, Communities: p.Community.String, Large: p.LargeCommunity.String}
	}
	return out, nil
}

// waitRoutes waits until the receiver holds exactly want, or fails after
// a minute.
func waitRoutes(t testing.TB, ctx context.Context, f *frrproc.FRR, phase string, want map[string]route) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		got, err := received(ctx, f)
		if err == nil {
			if last = cmp.Diff(want, got, cmpopts.EquateEmpty()); last == "" {
				return
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s, %s: the routes never matched (-want +got):\n%s", phase, f.Name(), strings.TrimSpace(last))
		case <-tick.C:
		}
	}
}
