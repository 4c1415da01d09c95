package speaker

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ironlb/ironlb/frr"
)

// statusWriter writes the node's status objects (ServiceBGPStatus per
// Service, SpeakerStatus) away from the reconcile: they are API writes,
// several per reconcile, and with thousands of Services they took most of
// each reconcile's time, so a new Service's route waited for the status
// writes of the previous one. The latest state wins: a write still
// waiting is replaced by a newer one, and a failed one is tried again.
//
// Writes are at least gap apart: every apply changes the SpeakerStatus
// (its lastApply), and while Services keep coming, a write per reconcile
// on every node loaded the API server that the next Service's IP and
// endpoints go through.
type statusWriter struct {
	write func(ctx context.Context, s statusState) error
	log   *slog.Logger
	retry time.Duration
	gap   time.Duration

	mu      sync.Mutex
	pending *statusState
	kick    chan struct{}
	// last is when the last write started; only Start uses it.
	last time.Time
}

// statusState is what one reconcile wants the status objects to say.
type statusState struct {
	phase frr.Phase
	// bgp lists the Services announced and their peers (frr.Config's
	// Announced, not empty when nothing is). It is nil when BGP mode is
	// off or the reconcile did not get as far as an apply: the
	// ServiceBGPStatus objects are then left as they are.
	bgp []frr.ServicePeers
	// router is what the node's FRRNodeState is to say; nil when the
	// node router is off.
	router *routerState
}

func newStatusWriter(write func(context.Context, statusState) error, log *slog.Logger) *statusWriter {
	return &statusWriter{write: write, log: log, retry: time.Second, gap: 500 * time.Millisecond, kick: make(chan struct{}, 1)}
}

// submit hands over the state of a reconcile. A pending one without BGP
// statuses keeps the BGP statuses of the one it replaces.
func (w *statusWriter) submit(s statusState) {
	w.mu.Lock()
	if s.bgp == nil && w.pending != nil {
		s.bgp = w.pending.bgp
	}
	if s.router == nil && w.pending != nil {
		s.router = w.pending.router
	}
	w.pending = &s
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Start writes until ctx ends; it implements manager.Runnable.
func (w *statusWriter) Start(ctx context.Context) error {
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-w.kick:
		case <-retry:
		}
		retry = nil
		if !w.pause(ctx) {
			return nil
		}
		w.mu.Lock()
		s := w.pending
		w.pending = nil
		w.mu.Unlock()
		if s == nil {
			continue
		}
		w.last = time.Now()
		if err := w.write(ctx, *s); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.log.Warn("writing status objects, trying again", "error", err)
			w.mu.Lock()
			if w.pending == nil {
				w.pending = s
			} else {
				if w.pending.bgp == nil {
					w.pending.bgp = s.bgp
				}
				if w.pending.router == nil {
					w.pending.router = s.router
				}
			}
			w.mu.Unlock()
			retry = time.After(w.retry)
		}
	}
}

// pause waits out the gap after the last write; false when ctx ended.
func (w *statusWriter) pause(ctx context.Context) bool {
	wait := time.Until(w.last.Add(w.gap))
	if wait <= 0 {
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every
// node writes its own statuses.
func (w *statusWriter) NeedLeaderElection() bool { return false }
