package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ironlb/ironlb/frr/apply"
	"github.com/ironlb/ironlb/frr/vtyshjson"
)

// Daemons reports the FRR processes that run now, as daemon name to
// process id. A changed id means the daemon was restarted (by watchfrr,
// or with its container) and came back without its config, which
// integrated-config FRR only loads through vtysh.
type Daemons interface {
	PIDs() (map[string]string, error)
}

// Loader loads a whole config into one daemon; apply.Vtysh is one.
type Loader interface {
	Load(ctx context.Context, config []byte, daemon string) ([]byte, error)
}

// PidFiles reads the daemons' pid files in one pathspace's run folder.
type PidFiles struct {
	Dir string
}

// RunDir returns FRR's run folder of a pathspace ("" is the default one).
func RunDir(pathspace string) string {
	if pathspace == "" {
		return "/var/run/frr"
	}
	return filepath.Join("/var/run/frr", pathspace)
}

// PIDs returns the contents of every *.pid file, by daemon. watchfrr is
// left out: it holds no routing config.
func (p PidFiles) PIDs() (map[string]string, error) {
	names, err := filepath.Glob(filepath.Join(p.Dir, "*.pid"))
	if err != nil {
		return nil, fmt.Errorf("listing frr pid files: %w", err)
	}
	out := map[string]string{}
	for _, n := range names {
		daemon := strings.TrimSuffix(filepath.Base(n), ".pid")
		if daemon == "watchfrr" {
			continue
		}
		data, err := os.ReadFile(n)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a daemon stopping right now
		}
		if err != nil {
			return nil, fmt.Errorf("reading frr pid file: %w", err)
		}
		out[daemon] = strings.TrimSpace(string(data))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("listing frr pid files: none in %s", p.Dir)
	}
	return out, nil
}

// restartWatch remembers the daemons FRR was last known to run the
// config in, so a failed recovery is tried again on the next check.
type restartWatch struct {
	daemons Daemons
	known   map[string]string
}

// restarted returns the daemons whose pid changed, sorted.
func restarted(known, now map[string]string) []string {
	var out []string
	for d, pid := range now {
		if known[d] != pid {
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return out
}

// checkRestart compares the daemons with the known ones and, when some
// restarted, gives them the last desired config as FRR's start scripts
// would (policy first, through vtysh -d), then reconciles the whole
// config with frr-reload.py. frr-reload.py alone is not enough: it
// compares against the running config of all daemons, where the
// route-maps of zebra hide that a restarted bgpd lacks them.
func (s *Server) checkRestart(ctx context.Context, w *restartWatch) {
	now, err := w.daemons.PIDs()
	if err != nil {
		s.log.Debug("reading frr daemons", "error", err)
		return
	}
	if w.known == nil {
		w.known = now
		return
	}
	names := restarted(w.known, now)
	desired := s.applier.Desired()
	if len(names) == 0 || desired == nil {
		w.known = now
		return
	}
	s.log.Warn("frr daemons restarted, applying the config again", "daemons", names)
	if s.cfg.Loader != nil {
		// BFD comes with the reconcile, once the sessions are up: see
		// apply.WithoutNeighborBFD.
		first := apply.WithoutNeighborBFD(desired)
		for _, d := range names {
			if out, err := s.cfg.Loader.Load(ctx, first, d); err != nil {
				// Lines FRR warns about (a route-map used before it
				// exists) end vtysh -f non-zero too: the reconcile below
				// is the judge.
				s.log.Info("loading config into a restarted daemon", "daemon", d, "error", err, "output", apply.Redact(strings.TrimSpace(string(out))))
			}
		}
	}
	if s.cfg.Loader != nil && slices.Contains(names, "bfdd") && !slices.Contains(names, "bgpd") {
		// The running bgpd may not register its BFD sessions with the
		// new bfdd: take its BFD lines away, and the reconcile adds
		// them back (apply.NeighborBFDOff).
		if off := apply.NeighborBFDOff(desired); off != nil {
			if out, err := s.cfg.Loader.Load(ctx, off, "bgpd"); err != nil {
				s.log.Info("removing bgpd's BFD lines after a bfdd restart", "error", err, "output", apply.Redact(strings.TrimSpace(string(out))))
			}
		}
	}
	if s.cfg.Loader != nil && slices.Contains(names, "bgpd") {
		s.waitSessions(ctx)
	}
	res, err := s.applier.Reconcile(ctx)
	if err != nil {
		s.log.Warn("reapplying frr config after a restart", "error", err)
		return
	}
	w.known = maps.Clone(now)
	s.mu.Lock()
	s.lastResync = &Record{At: time.Now(), Result: res}
	s.mu.Unlock()
}

// waitSessions waits until every BGP session of the default VRF is
// Established, for at most RestoreWait: a session that stays down (a
// peer that is gone, a wrong password) must not keep BFD off for long.
func (s *Server) waitSessions(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.RestoreWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err := s.shower.Show(ctx, vtyshjson.CmdBGPNeighbors)
		if err == nil {
			ns, err := vtyshjson.ParseBGPNeighbors(out)
			if err == nil && len(ns) > 0 && !slices.ContainsFunc(ns, func(n vtyshjson.BGPNeighbor) bool { return !n.Established() }) {
				return
			}
		}
		select {
		case <-ctx.Done():
			s.log.Info("sessions not all up after a restart; adding BFD anyway", "waited", s.cfg.RestoreWait)
			return
		case <-tick.C:
		}
	}
}
