package e2e

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ironlb/ironlb/e2e/lab"
)

// dataPlaneWatch watches the data plane while the control plane is
// sick: a client probing over BGP (from ilb-cli), one probing over Layer
// 2 (from ilb-lcli), and a sampler of the router's routes.
type dataPlaneWatch struct {
	bgp, l2 *prober
	routes  *routeSampler
}

// probeInterval is how often the clients of the control-plane fault
// tests probe; every probe has probeDeadline to get its answer.
const (
	probeInterval = 10 * time.Millisecond
	probeDeadline = time.Second
)

func watchDataPlane(t *testing.T, bgpIP, l2IP netip.Addr, routes map[netip.Addr][]string) *dataPlaneWatch {
	t.Helper()
	w := &dataPlaneWatch{
		bgp:    startProber(t, lab.RemoteClientNetns, serviceURL(bgpIP), probeInterval, probeDeadline),
		l2:     startProber(t, lab.LANClientNetns, serviceURL(l2IP), probeInterval, probeDeadline),
		routes: sampleRoutes(routes),
	}
	t.Cleanup(func() { w.stop() })
	return w
}

// dataPlaneSeen is what a dataPlaneWatch saw.
type dataPlaneSeen struct {
	bgp, l2 []probe
	// samples counts the router samples; short lists those in which a
	// route lacked a next hop it should have had.
	samples int
	short   []string
}

func (w *dataPlaneWatch) stop() dataPlaneSeen {
	var s dataPlaneSeen
	s.bgp, s.l2 = w.bgp.stop(), w.l2.stop()
	s.samples, s.short = w.routes.stop()
	return s
}

// outage sums up a prober's probes.
type outage struct {
	probes, lost int
	// longest is the longest time between two answered probes (by
	// sending time) with unanswered ones between them: how long the
	// client was cut off at worst; from, when it began.
	longest time.Duration
	from    time.Time
	// firstErr is the error of the first lost probe.
	firstErr error
}

func (o outage) String() string {
	if o.lost == 0 {
		return fmt.Sprintf("%d probes, none lost", o.probes)
	}
	return fmt.Sprintf("%d probes, %d lost, longest outage %v from %s (first error: %v)", o.probes, o.lost, o.longest.Round(time.Millisecond), o.from.Format("15:04:05.000"), o.firstErr)
}

// outageOf measures the probes sent in [from, to) (zero: unbounded).
// A probe reset by a node counts as lost.
func outageOf(probes []probe, from, to time.Time) outage {
	var (
		o    outage
		last time.Time
		gap  bool
	)
	for _, p := range probes {
		if p.sent.Before(from) || (!to.IsZero() && !p.sent.Before(to)) {
			continue
		}
		o.probes++
		if p.node == "" {
			if o.lost == 0 {
				o.firstErr = p.err
			}
			o.lost++
			gap = true
			continue
		}
		if gap && !last.IsZero() && p.sent.Sub(last) > o.longest {
			o.longest, o.from = p.sent.Sub(last), last
		}
		last, gap = p.sent, false
	}
	return o
}

// answeredBy returns the nodes that answered the probes sent in
// [from, to), with how many each.
func answeredBy(probes []probe, from, to time.Time) map[string]int {
	out := map[string]int{}
	for _, p := range probes {
		if p.node != "" && !p.sent.Before(from) && p.sent.Before(to) {
			out[p.node]++
		}
	}
	return out
}

// routeSampler reads the router's kernel routes to some IPs every
// 100 ms and records every sample in which one lacks a next hop it
// should have.
type routeSampler struct {
	cancel  context.CancelFunc
	done    chan struct{}
	mu      sync.Mutex
	samples int
	short   []string
}

func sampleRoutes(want map[netip.Addr][]string) *routeSampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &routeSampler{cancel: cancel, done: make(chan struct{})}
	ips := slices.SortedFunc(maps.Keys(want), netip.Addr.Compare)
	go func() {
		defer close(s.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, ip := range ips {
				gws, err := nextHops(ctx, ip)
				if ctx.Err() != nil {
					return
				}
				s.mu.Lock()
				s.samples++
				if err != nil || !slices.Equal(gws, want[ip]) {
					s.short = append(s.short, fmt.Sprintf("%s %s via %v (%v)", time.Now().Format("15:04:05.000"), ip, gws, err))
				}
				s.mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *routeSampler) stop() (int, []string) {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.samples, slices.Clone(s.short)
}

// allServiceIPs returns every Service's ingress IPs, by namespace/name.
func allServiceIPs(t *testing.T, l *lab.Lab) map[string][]netip.Addr {
	t.Helper()
	var list corev1.ServiceList
	if err := l.Kube().List(context.Background(), &list); err != nil {
		t.Fatalf("listing services: %v", err)
	}
	out := map[string][]netip.Addr{}
	for i := range list.Items {
		s := &list.Items[i]
		if ips := lab.ServiceIPs(s); len(ips) > 0 {
			out[s.Namespace+"/"+s.Name] = ips
		}
	}
	return out
}

// sessionCounts returns, per router neighbor, how many times its
// session came up.
func sessionCounts(t *testing.T, l *lab.Lab) map[string]int64 {
	t.Helper()
	ns, err := routerNeighbors(context.Background(), l)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, n := range ns {
		out[n.Address] = n.ConnectionsEstablished
	}
	return out
}
