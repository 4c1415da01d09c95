package certs_test

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock whose time moves only when the test sets it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
	// registered counts After calls, so a test can wait for the Manager
	// to go back to sleep after a sync.
	registered int
	changed    chan struct{}
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	return &fakeClock{now: now, changed: make(chan struct{}, 1)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.registered++
	if d <= 0 {
		ch <- c.now
	} else {
		c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	}
	select {
	case c.changed <- struct{}{}:
	default:
	}
	return ch
}

// Set moves the clock to t and fires the waiters that are due.
func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- t
	}
	c.waiters = kept
}

func (c *fakeClock) Registered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.registered
}

// WaitRegistered waits until After has been called n times in all, which
// means the Manager finished the sync before it.
func (c *fakeClock) WaitRegistered(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for c.Registered() < n {
		select {
		case <-c.changed:
		case <-deadline:
			t.Fatalf("the manager did not go back to sleep (After called %d times, want %d)", c.Registered(), n)
		}
	}
}

// NextWake is when the earliest waiter fires; zero if none.
func (c *fakeClock) NextWake() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first time.Time
	for _, w := range c.waiters {
		if first.IsZero() || w.at.Before(first) {
			first = w.at
		}
	}
	return first
}
