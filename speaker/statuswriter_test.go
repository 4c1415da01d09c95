package speaker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/frr"
)

// recordingWrites records the states written and fails the first fail
// writes.
type recordingWrites struct {
	mu      sync.Mutex
	fail    int
	written []statusState
	done    chan struct{} // receives after each write
	block   chan struct{} // when set, each write waits for it
	started chan struct{} // when set, receives as each write starts
}

func (r *recordingWrites) write(_ context.Context, s statusState) error {
	if r.started != nil {
		r.started <- struct{}{}
	}
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	defer func() {
		r.mu.Unlock()
		r.done <- struct{}{}
	}()
	if r.fail > 0 {
		r.fail--
		return errors.New("conflict")
	}
	r.written = append(r.written, s)
	return nil
}

func startWriter(t *testing.T, rec *recordingWrites) *statusWriter {
	w := newStatusWriter(rec.write, slog.New(slog.DiscardHandler))
	w.retry = time.Millisecond
	w.gap = 0
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return w
}

func waitWrites(t *testing.T, rec *recordingWrites, n int) {
	t.Helper()
	for range n {
		select {
		case <-rec.done:
		case <-time.After(30 * time.Second):
			t.Fatal("no write")
		}
	}
}

func TestStatusWriterLatestWins(t *testing.T) {
	rec := &recordingWrites{done: make(chan struct{}, 16), block: make(chan struct{}), started: make(chan struct{}, 16)}
	w := startWriter(t, rec)
	a := []frr.ServicePeers{{Service: "ns/a", Peers: []string{"p"}}}
	b := []frr.ServicePeers{{Service: "ns/b", Peers: []string{"p"}}}
	w.submit(statusState{phase: frr.PhaseNormal, bgp: a})
	// The first write is under way (blocked); the next two wait, and the
	// second replaces the first, keeping its BGP statuses.
	<-rec.started
	w.submit(statusState{phase: frr.PhaseNormal, bgp: b})
	w.submit(statusState{phase: frr.PhaseGracefulShutdown})
	close(rec.block)
	waitWrites(t, rec, 2)
	want := []statusState{{phase: frr.PhaseNormal, bgp: a}, {phase: frr.PhaseGracefulShutdown, bgp: b}}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if diff := cmp.Diff(want, rec.written, cmp.AllowUnexported(statusState{})); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
}

func TestStatusWriterRetries(t *testing.T) {
	rec := &recordingWrites{fail: 2, done: make(chan struct{}, 16)}
	w := startWriter(t, rec)
	a := []frr.ServicePeers{{Service: "ns/a", Peers: []string{"p"}}}
	w.submit(statusState{phase: frr.PhaseNormal, bgp: a})
	waitWrites(t, rec, 3)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if diff := cmp.Diff([]statusState{{phase: frr.PhaseNormal, bgp: a}}, rec.written, cmp.AllowUnexported(statusState{})); diff != "" {
		t.Errorf("writes after two failures (-want +got):\n%s", diff)
	}
}

// TestStatusWriterKeepsGap checks that writes are at least the gap apart,
// the states submitted meanwhile coalescing into the next.
func TestStatusWriterKeepsGap(t *testing.T) {
	rec := &recordingWrites{done: make(chan struct{}, 16)}
	w := newStatusWriter(rec.write, slog.New(slog.DiscardHandler))
	w.gap = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	w.submit(statusState{phase: frr.PhaseNormal})
	waitWrites(t, rec, 1)
	w.submit(statusState{phase: frr.PhaseGracefulShutdown})
	w.submit(statusState{phase: frr.PhaseWithdrawn})
	select {
	case <-rec.done:
		t.Fatal("a second write within the gap")
	case <-time.After(200 * time.Millisecond):
	}
	w.mu.Lock()
	pending := w.pending
	w.mu.Unlock()
	if pending == nil || pending.phase != frr.PhaseWithdrawn {
		t.Errorf("pending = %+v, want the latest state, withdrawn", pending)
	}
}
