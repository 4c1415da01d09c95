package e2e

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ironlb/ironlb/e2e/lab"
)

// BenchmarkL2Soak runs the lab for IRONLB_SOAK (default 10m) with both
// cores saturated by two busy processes and reports how often Layer 2
// ownership changed on any node: with no failure injected, every change
// is a false positive of the failure detection. Run it with:
//
//	go test ./e2e/ -run '^$' -bench L2Soak -benchtime 1x -timeout 30m
func BenchmarkL2Soak(b *testing.B) {
	skipUnlessLabCanRun(b)
	soak := 10 * time.Minute
	if v := os.Getenv("IRONLB_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("IRONLB_SOAK: %v", err)
		}
		soak = d
	}
	cfg := labConfig(b)
	cfg.Speakers = true
	l := startLab(b, cfg)
	ctx := b.Context()
	if _, err := l.WaitServiceIPs(ctx, "lab", "web-l2", 2); err != nil {
		b.Fatal(err)
	}
	// Let the election settle before counting.
	waitOwnerStable(b, ctx)
	before := ownershipChanges(b, ctx)

	for range 2 {
		busy := exec.Command("sh", "-c", "while :; do :; done")
		if err := busy.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { busy.Process.Kill(); busy.Wait() })
	}
	b.ResetTimer()
	select {
	case <-ctx.Done():
		b.Fatal(ctx.Err())
	case <-time.After(soak):
	}
	b.StopTimer()
	after := ownershipChanges(b, ctx)
	b.ReportMetric(after-before, "ownership-changes")
	b.ReportMetric(soak.Seconds(), "soak-s")
	b.ReportMetric(0, "ns/op")
}

// waitOwnerStable waits until the LAN client reaches web-l2.
func waitOwnerStable(b *testing.B, ctx context.Context) {
	b.Helper()
	err := lab.WaitFor(ctx, "web-l2 answering", func(ctx context.Context) (bool, error) {
		_, err := lab.HTTPGet(ctx, lab.LANClientNetns, "http://192.0.2.200:8080/")
		return err == nil, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(3 * time.Second)
}

// ownershipChanges sums ironlb_speaker_l2_ownership_changes_total over
// the speakers, read from their metrics endpoints.
func ownershipChanges(b *testing.B, ctx context.Context) float64 {
	b.Helper()
	var total float64
	for _, n := range lab.Nodes() {
		body, err := lab.HTTPGet(ctx, n.Name, "http://127.0.0.1:7474/metrics")
		if err != nil {
			b.Fatalf("metrics of %s: %v", n.Name, err)
		}
		sc := bufio.NewScanner(strings.NewReader(body))
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "ironlb_speaker_l2_ownership_changes_total") {
				continue
			}
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err == nil {
				total += v
			}
		}
	}
	return total
}
