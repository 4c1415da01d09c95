package leader

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// ErrNotHeld says that this replica may no longer hold the lease.
var ErrNotHeld = errors.New("leader lease not held")

// Guard tells whether this replica still holds the lease, by its own
// clock: it holds it for validFor (the renew deadline) after it started
// its last successful write of a Lease record naming itself. Another
// replica takes the lease over only a full lease duration after it saw
// that record, which it cannot see before the write started; so while
// the guard holds, no other replica leads, with the difference between
// the lease duration and the renew deadline to spare for writes in
// flight. Time is Go's monotonic clock, which keeps running while the
// process is stopped.
type Guard struct {
	validFor time.Duration
	mu       sync.Mutex
	until    time.Time
}

// NewGuard returns a guard that holds for validFor after each renewal.
func NewGuard(validFor time.Duration) *Guard {
	return &Guard{validFor: validFor}
}

// Held returns nil while the lease is held, else an error wrapping
// ErrNotHeld.
func (g *Guard) Held() error {
	g.mu.Lock()
	until := g.until
	g.mu.Unlock()
	if until.IsZero() {
		return fmt.Errorf("%w: never acquired or released", ErrNotHeld)
	}
	if late := time.Since(until); late >= 0 {
		return fmt.Errorf("%w: last renewed more than %v ago", ErrNotHeld, g.validFor+late)
	}
	return nil
}

// wrote records the outcome of a write of record started at start.
func (g *Guard) wrote(record resourcelock.LeaderElectionRecord, identity string, start time.Time, err error) {
	if err != nil {
		// A failed renewal changes nothing: the last good one still
		// bounds how long the lease is held.
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if record.HolderIdentity == identity {
		g.until = start.Add(g.validFor)
	} else {
		g.until = time.Time{}
	}
}

// Lock wraps l so that its writes move the guard.
func (g *Guard) Lock(l resourcelock.Interface) resourcelock.Interface {
	return &guardedLock{Interface: l, g: g}
}

// guardedLock is a resource lock whose successful writes move a Guard.
type guardedLock struct {
	resourcelock.Interface
	g *Guard
}

func (l *guardedLock) Create(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	start := time.Now()
	err := l.Interface.Create(ctx, r)
	l.g.wrote(r, l.Identity(), start, err)
	return err
}

func (l *guardedLock) Update(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	start := time.Now()
	err := l.Interface.Update(ctx, r)
	l.g.wrote(r, l.Identity(), start, err)
	return err
}
