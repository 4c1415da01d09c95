package speaker

import (
	"testing"
	"time"
)

func TestDrainClock(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		at       time.Duration
		draining bool
		want     phase
		wantLeft time.Duration
	}
	tests := []struct {
		name  string
		delay time.Duration
		steps []step
	}{
		{name: "never draining", delay: 10 * time.Second, steps: []step{{0, false, phaseNormal, 0}, {time.Hour, false, phaseNormal, 0}}},
		{
			name: "drain then withdraw", delay: 10 * time.Second,
			steps: []step{
				{0, false, phaseNormal, 0},
				{time.Second, true, phaseGracefulShutdown, 10 * time.Second},
				{4 * time.Second, true, phaseGracefulShutdown, 7 * time.Second},
				{11 * time.Second, true, phaseWithdrawn, 0},
				{time.Hour, true, phaseWithdrawn, 0},
			},
		},
		{
			name: "uncordon restarts the clock", delay: 10 * time.Second,
			steps: []step{
				{0, true, phaseGracefulShutdown, 10 * time.Second},
				{5 * time.Second, false, phaseNormal, 0},
				{6 * time.Second, true, phaseGracefulShutdown, 10 * time.Second},
				{16 * time.Second, true, phaseWithdrawn, 0},
			},
		},
		{name: "no delay withdraws at once", delay: 0, steps: []step{{0, true, phaseWithdrawn, 0}}},
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
