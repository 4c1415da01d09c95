package speaker

import "time"

// phase is where a node is in announcing: announcing normally, moving
// traffic away before a planned departure, or withdrawn.
type phase int

const (
	phaseNormal phase = iota
	// phaseGracefulShutdown re-announces everything with the
	// GRACEFUL_SHUTDOWN community so routers prefer other nodes.
	phaseGracefulShutdown
	// phaseWithdrawn announces nothing.
	phaseWithdrawn
)

func (p phase) String() string {
	switch p {
	case phaseGracefulShutdown:
		return "GracefulShutdown"
	case phaseWithdrawn:
		return "Withdrawn"
	}
	return "Normal"
}

// drainClock tracks a planned departure (node cordoned or excluded, or
// the speaker told to stop). It is a pure state machine: the caller
// passes the time.
type drainClock struct {
	delay time.Duration
	// since is when the current drain began; zero when not draining.
	since time.Time
}

// step returns the phase at now, given whether a planned departure is
// under way, and how long until the phase changes by itself (0: never).
func (d *drainClock) step(now time.Time, draining bool) (phase, time.Duration) {
	if !draining {
		d.since = time.Time{}
		return phaseNormal, 0
	}
	if d.since.IsZero() {
		d.since = now
	}
	if left := d.since.Add(d.delay).Sub(now); left > 0 {
		return phaseGracefulShutdown, left
	}
	return phaseWithdrawn, 0
}
