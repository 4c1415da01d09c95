package speaker

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/ironlb/ironlb/frr/agent"
)

// DefaultReadyWait bounds how long a speaker waits for its BGP sessions
// before it reports ready anyway (Config.ReadyWait).
const DefaultReadyWait = time.Minute

// readyGate is the speaker's readiness: ready once FRR runs a config the
// speaker applied and every BGP session in it is established, so that a
// rolling update of the DaemonSet takes the next node's speaker down only
// when this one announces again (ready at start, it let two nodes of
// three drain at once on real nodes). A session that does not come up
// holds it back for wait at most, counted from the first status read,
// so that a peer that is down does not stop every rollout. Once ready, it
// stays ready: readiness gates the rollout, not traffic.
type readyGate struct {
	wait time.Duration

	mu    sync.Mutex
	first time.Time // of the first status read
	ready bool
	why   string
}

// observe takes a status read from the agent at now.
func (g *readyGate) observe(st agent.Status, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ready {
		return
	}
	if g.first.IsZero() {
		g.first = now
	}
	g.why = notAnnouncing(st)
	switch {
	case g.why == "":
		g.ready = true
	case now.Sub(g.first) >= g.wait:
		g.ready, g.why = true, ""
	}
}

// notAnnouncing says why FRR does not announce the speaker's config yet:
// "" when it does.
func notAnnouncing(st agent.Status) string {
	switch {
	case st.LastApply == nil:
		return "no config applied to FRR yet"
	case st.LastApply.Result.Failure != nil:
		return "the last apply to FRR failed"
	}
	for _, s := range st.Sessions {
		if !s.Established() {
			return fmt.Sprintf("BGP session with %s is %s", s.Address, s.State)
		}
	}
	return ""
}

// isReady reports whether the gate opened.
func (g *readyGate) isReady() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ready
}

// check is the readiness check: nil once the gate opened.
func (g *readyGate) check(*http.Request) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ready {
		return nil
	}
	if g.why == "" {
		return errors.New("FRR's state not read yet")
	}
	return errors.New(g.why)
}
