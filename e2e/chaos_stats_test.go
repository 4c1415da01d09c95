package e2e

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestChaosOutages checks how the chaos soak cuts probes into outages and
// gives each to a fault (pure; no lab).
func TestChaosOutages(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	ok := func(ms int) probe { return probe{sent: at(ms), node: "ilb-n1"} }
	lost := func(ms int) probe { return probe{sent: at(ms), err: errors.New("timeout")} }
	faults := []chaosFault{{kind: "partition", at: at(100)}, {kind: "router", at: at(300)}}

	tests := []struct {
		name   string
		probes []probe
		want   faultOutages
	}{{
		name:   "no loss",
		probes: []probe{ok(0), ok(10), ok(200), ok(400)},
		want:   faultOutages{longest: [][]time.Duration{{0}, {0}}, before: []time.Duration{0}},
	}, {
		name: "an outage from the last answer to the next, given to the fault before it began",
		// Begins at 110 (last answer), after the partition: the
		// partition's, though it ends after the router fault began.
		probes: []probe{ok(0), ok(110), lost(120), lost(130), lost(310), ok(320)},
		want:   faultOutages{longest: [][]time.Duration{{210 * time.Millisecond}, {0}}, before: []time.Duration{0}},
	}, {
		name:   "the longest of two outages of one fault; one before any fault",
		probes: []probe{lost(0), ok(20), ok(310), lost(320), ok(330), ok(340), lost(350), lost(360), ok(390)},
		want:   faultOutages{longest: [][]time.Duration{{0}, {50 * time.Millisecond}}, before: []time.Duration{20 * time.Millisecond}},
	}, {
		// The last answer came just before the router fault began, the
		// first failure after: the router fault's, not the partition's.
		name:   "an outage belongs to the fault begun before its first failed probe",
		probes: []probe{ok(150), ok(295), lost(305), lost(315), ok(325)},
		want:   faultOutages{longest: [][]time.Duration{{0}, {30 * time.Millisecond}}, before: []time.Duration{0}},
	}, {
		name:   "an outage still running at the end lasts to the last probe",
		probes: []probe{ok(150), lost(160), lost(250)},
		want:   faultOutages{longest: [][]time.Duration{{100 * time.Millisecond}, {0}}, before: []time.Duration{0}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := outagesByFault(faults, [][]probe{tt.probes})
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(faultOutages{})); diff != "" {
				t.Errorf("outagesByFault (-want +got):\n%s", diff)
			}
		})
	}
}

// TestChaosStatsByKind checks the per-kind sums: a fault without an
// outage counts as 0 in the percentile.
func TestChaosStatsByKind(t *testing.T) {
	faults := []chaosFault{{kind: "router"}, {kind: "partition"}, {kind: "router"}, {kind: "router"}}
	fo := faultOutages{longest: [][]time.Duration{{time.Second}, {2 * time.Second}, {0}, {3 * time.Second}}}
	got := statsByKind(faults, fo, 1)
	want := [][]kindStats{
		{{kind: "partition", count: 1, longest: 2 * time.Second, p99: 2 * time.Second, hit: 1}},
		{{kind: "router", count: 3, longest: 3 * time.Second, p99: 3 * time.Second, hit: 2}},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(kindStats{})); diff != "" {
		t.Errorf("statsByKind (-want +got):\n%s", diff)
	}
	if got := percentile([]time.Duration{4, 1, 3, 2}, 0.5); got != 2 {
		t.Errorf("median of 1..4 = %v, want 2", got)
	}
}
