package e2e

import (
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/ironlb/ironlb/e2e/lab"
)

// BenchmarkL2Failover measures, from the LAN client, how a Layer 2
// Service moves off its owner. The client makes an HTTP request on a
// new connection every 10ms (1s deadline); each case moves the Service
// and restores the node, once per iteration:
//
//	sigkill   the owner's speaker is killed (SIGKILL)
//	linkdown  the owner's LAN link loses its carrier
//	handover  the owner's speaker is told to stop (SIGTERM), while the
//	          client also forgets its neighbor entry every 50ms
//
// Metrics, over the iterations: takeover-p50/p99/max-ms, from the event
// to the first probe the new owner answered; gap-p50/p99/max-ms, from
// the last probe the old owner answered to the first the new one did
// (the old node keeps serving after SIGKILL of its speaker, so the gap
// is small there); lost/op, probes without an answer; reset/op, probes
// whose connection was reset as the IP moved under it.
//
//	go test ./e2e/ -run '^$' -bench 'BenchmarkL2Failover$' -benchtime=20x -timeout 60m
func BenchmarkL2Failover(b *testing.B) { benchL2Failover(b) }

// BenchmarkL2FailoverLease is BenchmarkL2Failover with the speakers'
// --l2-ownership=lease (default lease timing: 5s duration, 4s renew
// deadline, 1s retry period): a node that fails is replaced once its
// Lease expired, a node that stops releases its Leases.
//
//	go test ./e2e/ -run '^$' -bench 'BenchmarkL2FailoverLease$' -benchtime=10x -timeout 60m
func BenchmarkL2FailoverLease(b *testing.B) { benchL2Failover(b, "--l2-ownership=lease") }

// benchL2Failover runs BenchmarkL2Failover's cases with these flags for
// every speaker.
func benchL2Failover(b *testing.B, speakerArgs ...string) {
	l := startL2LabWith(b, speakerArgs...)
	h := newL2Harness(b, l)
	h.waitSettled(b)
	ip := createL2Service(b, l, l2ServiceSpec{name: "l2-bench", endpoints: allNodes()})[0]

	type cause struct {
		name string
		// do moves the Service off owner; beforeStop runs before the
		// probes are counted; restore brings owner back.
		do func(b *testing.B, owner string) (beforeStop, restore func())
	}
	for _, c := range []cause{
		{"sigkill", func(b *testing.B, owner string) (func(), func()) {
			h.signal(b, owner, syscall.SIGKILL)
			return func() {}, func() { h.restart(b, owner, nil) }
		}},
		{"linkdown", func(b *testing.B, owner string) (func(), func()) {
			setSwitchPort(b, switchPort(owner), "down")
			return func() {}, func() { setSwitchPort(b, switchPort(owner), "up") }
		}},
		{"handover", func(b *testing.B, owner string) (func(), func()) {
			stopFlush := flushNeighbors(ip)
			h.signal(b, owner, syscall.SIGTERM)
			return stopFlush, func() { h.restart(b, owner, nil) }
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var (
				takeovers, gaps []time.Duration
				lost, reset     int
			)
			owner := waitOwner(b, l, "l2-bench", nil)
			for range b.N {
				waitClientReaches(b, ip, owner)
				p := startProber(b, lab.LANClientNetns, serviceURL(ip), 10*time.Millisecond, time.Second)
				p.waitAnsweredBy(b, owner, 20)
				event := time.Now()
				beforeStop, restore := c.do(b, owner)
				nw := waitOwner(b, l, "l2-bench", func(n string) bool { return n != owner })
				p.waitAnsweredBy(b, nw, 30)
				beforeStop()
				f, err := summarize(p.stop(), owner, nw, event)
				if err != nil {
					b.Fatal(err)
				}
				takeovers, gaps = append(takeovers, f.takeover), append(gaps, f.gap)
				lost, reset = lost+f.lost, reset+f.reset
				if f.lost > 0 {
					b.Logf("%s: %d probes lost, first: %v", c.name, f.lost, f.firstErr)
				}
				restore()
				h.waitSettled(b)
				// All three live again: the first-ranked node wins the IP
				// back.
				waitOwner(b, l, "l2-bench", func(n string) bool { return n == owner })
			}
			reportPercentiles(b, "takeover", takeovers)
			reportPercentiles(b, "gap", gaps)
			b.ReportMetric(float64(lost)/float64(b.N), "lost/op")
			b.ReportMetric(float64(reset)/float64(b.N), "reset/op")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// reportPercentiles reports the 50th and 99th percentiles and the
// maximum of ds in milliseconds.
func reportPercentiles(b *testing.B, name string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(at(0.50)), name+"-p50-ms")
	b.ReportMetric(ms(at(0.99)), name+"-p99-ms")
	b.ReportMetric(ms(s[len(s)-1]), name+"-max-ms")
	b.Logf("%s over %d: %v", name, len(s), s)
}
