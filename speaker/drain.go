package speaker

import (
	"time"

	"github.com/ironlb/ironlb/frr"
)

// drainClock tracks a planned departure (node excluded by label,
// cordoned when cordons drain, or the speaker told to stop). It is a
// pure state machine: the caller passes the time.
type drainClock struct {
	delay time.Duration
	// since is when the current drain began; zero when not draining.
	since time.Time
}

// step returns the phase at now, given whether a planned departure is
// under way, and how long until the phase changes by itself (0: never).
func (d *drainClock) step(now time.Time, draining bool) (frr.Phase, time.Duration) {
	if !draining {
		d.since = time.Time{}
		return frr.PhaseNormal, 0
	}
	if d.since.IsZero() {
		d.since = now
	}
	if left := d.since.Add(d.delay).Sub(now); left > 0 {
		return frr.PhaseGracefulShutdown, left
	}
	return frr.PhaseWithdrawn, 0
}
