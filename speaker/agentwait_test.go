package speaker_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/frr/apply"
	"github.com/ironlb/ironlb/internal/testenv"
	"github.com/ironlb/ironlb/speaker"
)

// startingAgent is an FRR agent whose socket is not there for its first
// attempts, as in a speaker pod whose FRR container is still starting.
type startingAgent struct {
	next speaker.FRR

	mu      sync.Mutex
	refused int
}

func (a *startingAgent) Apply(ctx context.Context, desired []byte) (apply.Result, error) {
	a.mu.Lock()
	if a.refused < 3 {
		a.refused++
		a.mu.Unlock()
		return apply.Result{}, fmt.Errorf("applying frr config through the agent: %w", agent.ErrNotListening)
	}
	a.mu.Unlock()
	return a.next.Apply(ctx, desired)
}

// errorRecorder is a slog handler that keeps the messages logged at
// error level.
type errorRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (h *errorRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h *errorRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Message)
	return nil
}
func (h *errorRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorRecorder) WithGroup(string) slog.Handler      { return h }

func (h *errorRecorder) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.msgs...)
}

// TestSpeakerWaitsForAStartingAgent: the speaker starts before the FRR
// container's agent listens; it applies once the agent is there and logs
// no error meanwhile (seen on real nodes: `kubectl logs -c speaker` began
// with "applying frr.conf" errors at every install).
func TestSpeakerWaitsForAStartingAgent(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	seedBGP(t, env.Client, nil)
	errs := &errorRecorder{}
	var starting *startingAgent
	frr := startSpeaker(t, env, func(c *speaker.Config) {
		starting = &startingAgent{next: c.FRR}
		c.FRR = starting
		c.Log = slog.New(errs)
		c.SessionInterval = time.Hour
	})
	testenv.Eventually(t, "a config with the peer, once the agent listens", func() (bool, string) {
		return strings.Contains(frr.last(), "neighbor 192.0.2.1 remote-as 64500"), frr.last()
	})
	starting.mu.Lock()
	refused := starting.refused
	starting.mu.Unlock()
	if refused != 3 {
		t.Errorf("the agent refused %d applies, want 3", refused)
	}
	if got := errs.all(); len(got) > 0 {
		t.Errorf("errors logged while waiting for the agent: %q", got)
	}
}
