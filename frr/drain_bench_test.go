package frr

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/internal/frrproc"
)

// BenchmarkDrainReachesPeer measures how long a drain takes to show at an
// eBGP peer: from the start of the reload that puts GRACEFUL_SHUTDOWN on
// the speaker's outbound route-map entry to the peer holding the route
// with it. "rendered" is the config as Build and the template write it
// (bgp route-map delay-timer 1); "frr-default" is the same without that
// line, so bgpd waits its default 5 s before it applies the changed
// entry. It runs as root only, with real FRRs in two namespaces.
func BenchmarkDrainReachesPeer(b *testing.B) {
	for _, bc := range []struct {
		name  string
		timer bool
	}{{"rendered", true}, {"frr-default", false}} {
		b.Run(bc.name, func(b *testing.B) { benchDrain(b, bc.timer) })
	}
}

func benchDrain(b *testing.B, timer bool) {
	frrproc.SkipUnlessRoot(b)
	ctx := b.Context()
	nsS, nsTor := testNetns(b, ctx, "ilbt-drn-s-"), testNetns(b, ctx, "ilbt-drn-tor-")
	if err := frrproc.Veth(ctx, nsS, "to-tor", "192.0.2.5/30", nsTor, "to-speaker", "192.0.2.6/30"); err != nil {
		b.Fatal(err)
	}
	fast := func(p *config.Peer) { p.HoldTime, p.KeepaliveTime, p.ConnectTime = dur("9s"), dur("3s"), dur("1s") }
	m := &config.Model{
		Pools:             []config.Pool{mkPool(b, "pool-a", "198.51.100.0/24")},
		Peers:             []config.Peer{mkPeer("tor", "192.0.2.6", 64512, 64513, fast)},
		BGPAdvertisements: []config.BGPAdvertisement{mkAdv("all", []string{"pool-a"})},
	}
	c := cluster(m, mkSvc("shop/web", "pool-a", "198.51.100.10"))
	r := newTestRenderer(b)
	render := func(phase Phase) []byte {
		cfg, err := Build(c, node1, BuildOptions{Phase: phase, RouterID: addr("192.0.2.5")})
		if err != nil {
			b.Fatal(err)
		}
		out, err := r.Render(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if !timer {
			out = bytes.Replace(out, []byte("bgp route-map delay-timer 1\n"), nil, 1)
		}
		return out
	}
	normal, drain := render(PhaseNormal), render(PhaseGracefulShutdown)
	speaker := frrproc.StartTest(b, frrproc.Config{Netns: nsS, InitialConfig: normal})
	tor := frrproc.StartTest(b, frrproc.Config{Netns: nsTor, InitialConfig: receiverConfig(64513, "192.0.2.6", "192.0.2.5")})
	plain := map[string]route{"198.51.100.10/32": {}}
	shut := map[string]route{"198.51.100.10/32": {LocalPref: ptr[uint32](0), Communities: "graceful-shutdown"}}
	waitRoutes(b, ctx, tor, "normal", plain)

	var took []time.Duration
	for b.Loop() {
		start := time.Now()
		applyConfig(b, ctx, speaker, drain)
		waitRoutes(b, ctx, tor, "graceful shutdown", shut)
		took = append(took, time.Since(start))
		b.StopTimer()
		applyConfig(b, ctx, speaker, normal)
		waitRoutes(b, ctx, tor, "normal again", plain)
		b.StartTimer()
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)-1].Milliseconds()), "max-ms/drain")
	b.ReportMetric(float64(took[0].Milliseconds()), "min-ms/drain")
}
