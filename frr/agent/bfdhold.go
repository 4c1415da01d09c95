package agent

import (
	"context"
	"time"

	"github.com/ironlb/ironlb/frr/apply"
)

// The agent's first config goes to FRR without its `neighbor X bfd`
// lines, and they follow once the BGP sessions are up (or RestoreWait
// passed). A first config without such lines ends the wait at once.
// A bgpd that gets them with the neighbors registers each BFD
// session before the BGP session is up; FRR replaces that BFD session
// once the BGP session is up, the replaced one reports Down, and bgpd
// ends the fresh session with Cease/BFD Down: one reset of every session
// of a node whose FRR starts. (The restart of a daemon takes the same
// way: see checkRestart.) Until the lines follow, every config asked
// for is applied without them; the last one is applied whole.

// bfdHold tells where the agent is in that sequence.
type bfdHold int

const (
	bfdHoldFirst   bfdHold = iota // no config applied yet
	bfdHoldWaiting                // applied without BFD; sessions coming up
	bfdHoldDone                   // configs are applied whole
)

// applyConfig applies config, without its neighbor BFD lines while they
// are held back, and starts the wait for the sessions at the first
// config that has such lines.
func (s *Server) applyConfig(ctx context.Context, config []byte) (apply.Result, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	switch {
	case s.hold == bfdHoldDone:
		return s.applier.Apply(ctx, config)
	case s.hold == bfdHoldFirst && apply.NeighborBFDOff(config) == nil:
		// Nothing to hold back. The sessions start without BFD, and BFD
		// lines that come later find them up: no more parsing of every
		// config to look for them.
		res, err := s.applier.Apply(ctx, config)
		if err == nil {
			s.hold = bfdHoldDone
		}
		return res, err
	}
	// releaseBFD applies the last config asked for, whole: with or
	// without BFD lines.
	s.held = config
	res, err := s.applier.Apply(ctx, apply.WithoutNeighborBFD(config))
	if s.hold == bfdHoldFirst && err == nil {
		s.hold = bfdHoldWaiting
		go s.releaseBFD()
	}
	return res, err
}

// releaseBFD waits for the sessions and applies the last config asked
// for, whole.
func (s *Server) releaseBFD() {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RestoreWait+applyTimeout)
	defer cancel()
	s.waitSessions(ctx)
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.hold = bfdHoldDone
	res, err := s.applier.Apply(ctx, s.held)
	s.held = nil
	if err != nil {
		s.log.Warn("adding the BFD lines of the first config", "error", err)
	} else {
		s.log.Info("BGP sessions up: BFD lines added", "path", res.Path)
	}
	s.mu.Lock()
	s.lastApply = &Record{At: time.Now(), Result: res}
	s.mu.Unlock()
}
