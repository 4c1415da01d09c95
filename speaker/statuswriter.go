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
type statusWriter struct {
	write func(ctx context.Context, s statusState) error
	log   *slog.Logger
	retry time.Duration

	mu      sync.Mutex
	pending *statusState
	kick    chan struct{}
}

// statusState is what one reconcile wants the status objects to say.
type statusState struct {
	phase frr.Phase
	// bgp is nil when BGP mode is off or the reconcile did not get as far
	// as an apply: the ServiceBGPStatus objects are then left as they are.
	bgp map[serviceRef][]string
}

func newStatusWriter(write func(context.Context, statusState) error, log *slog.Logger) *statusWriter {
	return &statusWriter{write: write, log: log, retry: time.Second, kick: make(chan struct{}, 1)}
}

// submit hands over the state of a reconcile. A pending one without BGP
// statuses keeps the BGP statuses of the one it replaces.
func (w *statusWriter) submit(s statusState) {
	w.mu.Lock()
	if s.bgp == nil && w.pending != nil {
		s.bgp = w.pending.bgp
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
		w.mu.Lock()
		s := w.pending
		w.pending = nil
		w.mu.Unlock()
		if s == nil {
			continue
		}
		if err := w.write(ctx, *s); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			w.log.Warn("writing status objects, trying again", "error", err)
			w.mu.Lock()
			if w.pending == nil {
				w.pending = s
			} else if w.pending.bgp == nil {
				w.pending.bgp = s.bgp
			}
			w.mu.Unlock()
			retry = time.After(w.retry)
		}
	}
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every
// node writes its own statuses.
func (w *statusWriter) NeedLeaderElection() bool { return false }
