package speaker

import (
	"testing"
	"time"

	"github.com/ironlb/ironlb/frr"
)

func TestDrainClock(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		at       time.Duration
		draining bool
		want     frr.Phase
		wantLeft time.Duration
	}
	tests := []struct {
		name  string
		delay time.Duration
		steps []step
	}{
		{name: "never draining", delay: 10 * time.Second, steps: []step{{0, false, frr.PhaseNormal, 0}, {time.Hour, false, frr.PhaseNormal, 0}}},
		{
			name: "drain then withdraw", delay: 10 * time.Second,
			steps: []step{
				{0, false, frr.PhaseNormal, 0},
				{time.Second, true, frr.PhaseGracefulShutdown, 10 * time.Second},
				{4 * time.Second, true, frr.PhaseGracefulShutdown, 7 * time.Second},
				{11 * time.Second, true, frr.PhaseWithdrawn, 0},
				{time.Hour, true, frr.PhaseWithdrawn, 0},
			},
		},
		{
			name: "uncordon restarts the clock", delay: 10 * time.Second,
			steps: []step{
				{0, true, frr.PhaseGracefulShutdown, 10 * time.Second},
				{5 * time.Second, false, frr.PhaseNormal, 0},
				{6 * time.Second, true, frr.PhaseGracefulShutdown, 10 * time.Second},
				{16 * time.Second, true, frr.PhaseWithdrawn, 0},
			},
		},
		{name: "no delay withdraws at once", delay: 0, steps: []step{{0, true, frr.PhaseWithdrawn, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := drainClock{delay: tc.delay}
			for i, s := range tc.steps {
				got, left := d.step(t0.Add(s.at), s.draining)
				if got != s.want || left != s.wantLeft {
					t.Errorf("step %d: got (%s, %v), want (%s, %v)", i, got, left, s.want, s.wantLeft)
				}
			}
		})
	}
}
