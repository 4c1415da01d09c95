package announcer

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/ironlb/ironlb/l2/election"
	"github.com/ironlb/ironlb/l2/iface"
)

const node = "n1"

var cmpOpts = cmp.Options{cmpopts.EquateEmpty(), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })}

func link(name string, index int) iface.Link {
	return iface.Link{Name: name, Index: index, HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, byte(index)}, Up: true, Carrier: true}
}

func target(ip string, ifaces ...string) election.Target {
	return election.Target{IP: netip.MustParseAddr(ip), Interfaces: ifaces}
}

func owns(ts ...election.Target) election.Assignment {
	return election.Assignment{Node: node, Owned: ts}
}

// run starts an Announcer with a fake opener inside a synctest bubble;
// stop ends it and checks that Run returned nil.
func run(t *testing.T, cfg Config) (a *Announcer, o *fakeOpener, stop func()) {
	t.Helper()
	o = newFakeOpener()
	cfg.Node, cfg.Opener = node, o
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewPedanticRegistry()
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return a, o, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	}
}

func at(ip string, offsets ...time.Duration) []announcement {
	var out []announcement
	for _, d := range offsets {
		out = append(out, announcement{IP: netip.MustParseAddr(ip), At: d})
	}
	return out
}

const ms = time.Millisecond

func TestGainAnnouncesInBursts(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	synctest.Test(t, func(t *testing.T) {
		a, o, stop := run(t, Config{})
		defer stop()
		a.SetLinks([]iface.Link{link("eth0", 2), link("eth1", 3), link("docker0", 4)})
		a.Update(owns(target("192.0.2.1"), target("2001:db8::1", "eth1")))
		synctest.Wait()
		want := map[string][]string{"eth0/arp": {"192.0.2.1"}, "eth1/arp": {"192.0.2.1"}, "eth1/ndp": {"2001:db8::1"}}
		if diff := cmp.Diff(want, o.live()); diff != "" {
			t.Errorf("responders (-want +got):\n%s", diff)
		}

		time.Sleep(time.Minute)
		synctest.Wait()
		burst := []time.Duration{0, 100 * ms, 500 * ms, time.Second, 2 * time.Second}
		for name, ip := range map[string]string{"eth0/arp": "192.0.2.1", "eth1/arp": "192.0.2.1", "eth1/ndp": "2001:db8::1"} {
			if diff := cmp.Diff(at(ip, burst...), o.current(name).takeAnnounced(), cmpOpts); diff != "" {
				t.Errorf("%s announcements (-want +got):\n%s", name, diff)
			}
		}

		// A second IP on eth0 gets a burst of its own, now.
		a.Update(owns(target("192.0.2.1"), target("192.0.2.2", "eth0"), target("2001:db8::1", "eth1")))
		time.Sleep(time.Minute)
		synctest.Wait()
		if diff := cmp.Diff(at("192.0.2.2", 60*time.Second, 60*time.Second+100*ms, 60*time.Second+500*ms, 61*time.Second, 62*time.Second), o.current("eth0/arp").takeAnnounced(), cmpOpts); diff != "" {
			t.Errorf("eth0/arp announcements (-want +got):\n%s", diff)
		}
		if got := o.current("eth1/arp").takeAnnounced(); len(got) != 0 {
			t.Errorf("eth1/arp announced %v again", got)
		}
		if got := o.opens("eth0/arp"); got != 1 {
			t.Errorf("eth0/arp opened %d times, want 1", got)
		}
	})
}

func TestRefresh(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	synctest.Test(t, func(t *testing.T) {
		a, o, stop := run(t, Config{Burst: []time.Duration{0, time.Second}, Refresh: 30 * time.Second})
		defer stop()
		a.SetLinks([]iface.Link{link("eth0", 2)})
		a.Update(owns(target("192.0.2.1")))
		time.Sleep(62 * time.Second)
		synctest.Wait()
		want := at("192.0.2.1", 0, time.Second, 31*time.Second, 61*time.Second)
		if diff := cmp.Diff(want, o.current("eth0/arp").takeAnnounced(), cmpOpts); diff != "" {
			t.Errorf("announcements (-want +got):\n%s", diff)
		}
	})
}

func TestLossAndCarrier(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	synctest.Test(t, func(t *testing.T) {
		var statuses [][]IPStatus
		a, o, stop := run(t, Config{OnStatus: func(s []IPStatus) { statuses = append(statuses, s) }})
		defer stop()
		eth0, eth1 := link("eth0", 2), link("eth1", 3)
		a.SetLinks([]iface.Link{eth0, eth1})
		a.Update(owns(target("192.0.2.1"), target("192.0.2.2", "eth1")))
		synctest.Wait()

		// eth1 loses its carrier: its IPs are given up there.
		eth1.Carrier = false
		a.SetLinks([]iface.Link{eth0, eth1})
		synctest.Wait()
		if diff := cmp.Diff(map[string][]string{"eth0/arp": {"192.0.2.1"}}, o.live()); diff != "" {
			t.Errorf("responders after carrier loss (-want +got):\n%s", diff)
		}
		// The carrier comes back: a new responder, a new burst.
		eth1.Carrier = true
		a.SetLinks([]iface.Link{eth0, eth1})
		synctest.Wait()
		if got := o.current("eth1/arp").takeAnnounced(); len(got) != 2 {
			t.Errorf("after the carrier came back eth1/arp announced %v, want both IPs at once", got)
		}
		// The node loses an IP: nobody answers for it any more.
		a.Update(owns(target("192.0.2.2", "eth1")))
		synctest.Wait()
		if diff := cmp.Diff(map[string][]string{"eth1/arp": {"192.0.2.2"}}, o.live()); diff != "" {
			t.Errorf("responders after losing 192.0.2.1 (-want +got):\n%s", diff)
		}

		wantStatuses := [][]IPStatus{
			{{IP: netip.MustParseAddr("192.0.2.1"), Interfaces: []string{"eth0", "eth1"}}, {IP: netip.MustParseAddr("192.0.2.2"), Interfaces: []string{"eth1"}}},
			{{IP: netip.MustParseAddr("192.0.2.1"), Interfaces: []string{"eth0"}}, {IP: netip.MustParseAddr("192.0.2.2")}},
			{{IP: netip.MustParseAddr("192.0.2.1"), Interfaces: []string{"eth0", "eth1"}}, {IP: netip.MustParseAddr("192.0.2.2"), Interfaces: []string{"eth1"}}},
			{{IP: netip.MustParseAddr("192.0.2.2"), Interfaces: []string{"eth1"}}},
		}
		if diff := cmp.Diff(wantStatuses, statuses, cmpOpts); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantStatuses[3], a.Status(), cmpOpts); diff != "" {
			t.Errorf("Status (-want +got):\n%s", diff)
		}
	})
}

func TestHandover(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	synctest.Test(t, func(t *testing.T) {
		a, o, stop := run(t, Config{HandoverGrace: 3 * time.Second})
		defer stop()
		a.SetLinks([]iface.Link{link("eth0", 2)})
		a.Update(owns(target("192.0.2.1")))
		synctest.Wait()

		// The node is cordoned: it keeps the IP it announces for the
		// grace period, and does not start the one it did not announce.
		a.Update(election.Assignment{Node: node, Handover: []election.Target{target("192.0.2.1"), target("192.0.2.9")}})
		synctest.Wait()
		if diff := cmp.Diff(map[string][]string{"eth0/arp": {"192.0.2.1"}}, o.live()); diff != "" {
			t.Errorf("responders during the handover (-want +got):\n%s", diff)
		}
		want := []IPStatus{{IP: netip.MustParseAddr("192.0.2.1"), Interfaces: []string{"eth0"}, Handover: true}}
		if diff := cmp.Diff(want, a.Status(), cmpOpts); diff != "" {
			t.Errorf("Status during the handover (-want +got):\n%s", diff)
		}
		start := time.Now()
		for len(o.live()) > 0 {
			time.Sleep(100 * ms)
			synctest.Wait()
		}
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("handed over after %v, want the grace period of 3s", got)
		}
		// Owning it again starts a new announcement.
		a.Update(owns(target("192.0.2.1")))
		synctest.Wait()
		if diff := cmp.Diff(map[string][]string{"eth0/arp": {"192.0.2.1"}}, o.live()); diff != "" {
			t.Errorf("responders after owning again (-want +got):\n%s", diff)
		}
	})
}

func TestResponderFailures(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	synctest.Test(t, func(t *testing.T) {
		var logs bytes.Buffer
		reg := prometheus.NewPedanticRegistry()
		a, o, stop := run(t, Config{Registerer: reg, Logger: slog.New(slog.NewTextHandler(&logs, nil)), RetryMin: time.Second, RetryMax: 4 * time.Second})
		defer stop()
		o.failures["eth0/arp"] = 3
		a.SetLinks([]iface.Link{link("eth0", 2)})
		a.Update(owns(target("192.0.2.1")))
		// Opens fail at 0s, 1s and 3s; the one at 7s works.
		start := time.Now()
		for o.opens("eth0/arp") == 0 {
			time.Sleep(100 * ms)
			synctest.Wait()
		}
		if got := time.Since(start); got != 7*time.Second {
			t.Errorf("opened after %v, want 7s (backoff 1s, 2s, 4s)", got)
		}
		o.current("eth0/arp").takeAnnounced()

		// Run fails: the responder is opened again after the backoff,
		// which starts over since it ran long enough.
		time.Sleep(time.Minute)
		o.current("eth0/arp").fail <- errors.New("network is down")
		synctest.Wait()
		if diff := cmp.Diff(map[string][]string{}, o.live()); diff != "" {
			t.Errorf("responders after the failure (-want +got):\n%s", diff)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if diff := cmp.Diff(map[string][]string{"eth0/arp": {"192.0.2.1"}}, o.live()); diff != "" {
			t.Errorf("responders after the backoff (-want +got):\n%s", diff)
		}
		if got := o.current("eth0/arp").takeAnnounced(); len(got) == 0 {
			t.Error("the reopened responder announced nothing")
		}
		if got := gather(t, reg)[`ironlb_l2_responder_failures_total{iface="eth0",protocol="arp"}`]; got != 4 {
			t.Errorf("failures = %v, want 4", got)
		}
		if !strings.Contains(logs.String(), "network is down") || !strings.Contains(logs.String(), "node=n1") {
			t.Errorf("logs lack the failure or the node:\n%s", logs.String())
		}
	})
}

func TestMetrics(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewPedanticRegistry()
		a, o, stop := run(t, Config{Registerer: reg, Burst: []time.Duration{0, time.Second}})
		defer stop()
		a.SetLinks([]iface.Link{link("eth0", 2)})
		a.Update(owns(target("192.0.2.1"), target("2001:db8::1")))
		time.Sleep(time.Minute)
		synctest.Wait()
		// A solicitation answered, and an ARP request whose answer could
		// not be sent.
		o.current("eth0/ndp").hooks.OnRequest(netip.MustParseAddr("2001:db8::1"))
		o.current("eth0/ndp").hooks.OnAnswer(netip.MustParseAddr("2001:db8::1"))
		o.current("eth0/arp").hooks.OnRequest(netip.MustParseAddr("192.0.2.1"))
		want := map[string]float64{
			`ironlb_l2_announced_ips{iface="eth0",protocol="arp"}`:                            1,
			`ironlb_l2_announced_ips{iface="eth0",protocol="ndp"}`:                            1,
			`ironlb_l2_announcements_total{iface="eth0",ip="192.0.2.1",protocol="arp"}`:       2,
			`ironlb_l2_announcements_total{iface="eth0",ip="2001:db8::1",protocol="ndp"}`:     2,
			`ironlb_l2_requests_answered_total{iface="eth0",ip="2001:db8::1",protocol="ndp"}`: 1,
			`metallb_layer2_requests_received{ip="192.0.2.1"}`:                                1,
			`metallb_layer2_requests_received{ip="2001:db8::1"}`:                              1,
			`metallb_layer2_responses_sent{ip="2001:db8::1"}`:                                 1,
			`metallb_layer2_gratuitous_sent{ip="192.0.2.1"}`:                                  2,
			`metallb_layer2_gratuitous_sent{ip="2001:db8::1"}`:                                2,
		}
		if diff := cmp.Diff(want, gather(t, reg)); diff != "" {
			t.Errorf("metrics (-want +got):\n%s", diff)
		}
	})
}

func TestUpdateOfAnotherNode(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	synctest.Test(t, func(t *testing.T) {
		a, o, stop := run(t, Config{})
		defer stop()
		a.SetLinks([]iface.Link{link("eth0", 2)})
		a.Update(election.Assignment{Node: "n2", Owned: []election.Target{target("192.0.2.1")}})
		synctest.Wait()
		if got := o.live(); len(got) != 0 {
			t.Errorf("responders = %v, want none", got)
		}
	})
}

func TestNewErrors(t *testing.T) {
	o := newFakeOpener()
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "no opener", cfg: Config{}},
		{name: "bad exclude", cfg: Config{Opener: o, Exclude: []string{"["}}},
		{name: "empty burst", cfg: Config{Opener: o, Burst: []time.Duration{}}},
		{name: "descending burst", cfg: Config{Opener: o, Burst: []time.Duration{time.Second, 0}}},
		{name: "negative refresh", cfg: Config{Opener: o, Refresh: -time.Second}},
		{name: "backoff", cfg: Config{Opener: o, RetryMin: time.Minute, RetryMax: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil {
				t.Error("New: no error")
			}
		})
	}
	reg := prometheus.NewPedanticRegistry()
	if _, err := New(Config{Opener: o, Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Opener: o, Registerer: reg}); err == nil {
		t.Error("New registering the metrics twice: no error")
	}
}

// gather returns every sample of a registry as name{labels} -> value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	return out
}

// TestReannounce: after a merge of the membership, the node announces
// every IP it owns again with a full burst, but not those it only hands
// over, and nothing when it owns nothing.
// TestReclaimedIPAnnouncedAgain: an IP handed over and owned again
// before the grace period ended gets a burst anew. Its responder kept
// it, so it is no gain, but the clients may have followed the node it
// went to; with the handover's burst dropped nothing else would bring
// them back (a full e2e run: no gratuitous ARP from the owner after a
// partition healed).
func TestReclaimedIPAnnouncedAgain(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	synctest.Test(t, func(t *testing.T) {
		burst := []time.Duration{0, time.Second}
		a, o, stop := run(t, Config{HandoverGrace: 10 * time.Second, Burst: burst})
		defer stop()
		a.SetLinks([]iface.Link{link("eth0", 2)})
		a.Update(owns(target("192.0.2.1")))
		time.Sleep(1500 * ms)
		synctest.Wait()
		a.Update(election.Assignment{Node: node, Handover: []election.Target{target("192.0.2.1")}})
		time.Sleep(1500 * ms)
		synctest.Wait()
		a.Update(owns(target("192.0.2.1")))
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if diff := cmp.Diff(at("192.0.2.1", 0, time.Second, 3*time.Second, 4*time.Second), o.current("eth0/arp").takeAnnounced(), cmpOpts); diff != "" {
			t.Errorf("announcements (-want +got):\n%s", diff)
		}
	})
}

// TestHandoverEndsTheBurst: an IP handed over in the middle of its
// burst is answered for the grace period but announced no more: the new
// owner's announcements alone move the clients, instead of both nodes
// taking turns (seen on real nodes: a speaker that re-announced after a
// member came back, then drained, flipped the LAN client's neighbor entry
// between itself and the new owner every second).
func TestHandoverEndsTheBurst(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	synctest.Test(t, func(t *testing.T) {
		burst := []time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second}
		a, o, stop := run(t, Config{HandoverGrace: 10 * time.Second, Burst: burst})
		defer stop()
		a.SetLinks([]iface.Link{link("eth0", 2)})
		a.Update(owns(target("192.0.2.1")))
		time.Sleep(1500 * ms)
		synctest.Wait()
		a.Update(election.Assignment{Node: node, Handover: []election.Target{target("192.0.2.1")}})
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if diff := cmp.Diff(at("192.0.2.1", 0, time.Second), o.current("eth0/arp").takeAnnounced(), cmpOpts); diff != "" {
			t.Errorf("announcements (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string][]string{"eth0/arp": {"192.0.2.1"}}, o.live()); diff != "" {
			t.Errorf("responders during the handover (-want +got):\n%s", diff)
		}
	})
}

func TestReannounce(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	synctest.Test(t, func(t *testing.T) {
		a, o, stop := run(t, Config{HandoverGrace: time.Hour})
		defer stop()
		a.SetLinks([]iface.Link{link("eth0", 2)})
		a.Update(owns(target("192.0.2.1"), target("192.0.2.9"), target("2001:db8::1")))
		time.Sleep(time.Minute)
		synctest.Wait()
		o.current("eth0/arp").takeAnnounced()
		o.current("eth0/ndp").takeAnnounced()

		// 192.0.2.9 moves away: handed over, still answered, not
		// announced again.
		a.Update(election.Assignment{Node: node, Owned: []election.Target{target("192.0.2.1"), target("2001:db8::1")}, Handover: []election.Target{target("192.0.2.9")}})
		a.Reannounce()
		time.Sleep(time.Minute)
		synctest.Wait()
		offsets := func(base time.Duration) []time.Duration {
			return []time.Duration{base, base + 100*ms, base + 500*ms, base + time.Second, base + 2*time.Second}
		}
		if diff := cmp.Diff(at("192.0.2.1", offsets(time.Minute)...), o.current("eth0/arp").takeAnnounced(), cmpOpts); diff != "" {
			t.Errorf("eth0/arp announcements (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(at("2001:db8::1", offsets(time.Minute)...), o.current("eth0/ndp").takeAnnounced(), cmpOpts); diff != "" {
			t.Errorf("eth0/ndp announcements (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string][]string{"eth0/arp": {"192.0.2.1", "192.0.2.9"}, "eth0/ndp": {"2001:db8::1"}}, o.live()); diff != "" {
			t.Errorf("responders (-want +got):\n%s", diff)
		}

		// Owning nothing, there is nothing to announce.
		a.Update(election.Assignment{Node: node})
		synctest.Wait()
		a.Reannounce()
		time.Sleep(time.Minute)
		synctest.Wait()
		if diff := cmp.Diff(map[string][]string{}, o.live()); diff != "" {
			t.Errorf("responders owning nothing (-want +got):\n%s", diff)
		}
	})
}
