package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ironlb/ironlb/frr/apply"
)

// Applier is what the agent needs to change FRR's config;
// *apply.Applier is one.
type Applier interface {
	Apply(ctx context.Context, desired []byte) (apply.Result, error)
	Reconcile(ctx context.Context) (apply.Result, error)
	// Desired returns the last config asked for, nil before any.
	Desired() []byte
}

// Shower runs a vtysh show command; apply.Vtysh is one.
type Shower interface {
	Show(ctx context.Context, cmd string) ([]byte, error)
}

// Config is the agent's configuration, validated by New.
type Config struct {
	// Socket is the unix socket's path; its folder must exist.
	Socket string
	// SocketMode is 0600 (default) or 0660 (for a shared group).
	SocketMode fs.FileMode
	// PeerUID is the only user whose connections are served, checked by
	// the kernel's record of the connecting process (SO_PEERCRED); any
	// other connection is logged and closed. Nil means the agent's own
	// uid, which is the speaker's when both run as the same user.
	PeerUID *uint32
	// FullResyncInterval is how often the last config is applied again
	// through frr-reload.py; 0 turns the resync off.
	FullResyncInterval time.Duration
	// Daemons, when set, is checked every RestartCheckInterval (default
	// 1s); a restarted daemon gets the last config again, through Loader
	// when set, then the whole config is reconciled.
	Daemons              Daemons
	Loader               Loader
	RestartCheckInterval time.Duration
	// RestoreWait bounds how long a restarted bgpd, or the first config,
	// runs without its BFD lines while the sessions come up. Default 30s.
	RestoreWait time.Duration
	// MaxConfigBytes bounds an /apply body. Default 64 MiB.
	MaxConfigBytes int64
	// Log receives the agent's lifecycle and apply lines. Default:
	// discard.
	Log *slog.Logger
}

// Server is the agent.
type Server struct {
	cfg     Config
	applier Applier
	shower  Shower
	log     *slog.Logger
	peerUID uint32

	mu         sync.Mutex
	lastApply  *Record
	lastResync *Record

	// applyMu orders the applies of requests and of releaseBFD; hold
	// and held belong to it (bfdhold.go).
	applyMu sync.Mutex
	hold    bfdHold
	held    []byte
}

// Record is an apply or resync with when it ended.
type Record struct {
	At     time.Time    `json:"at"`
	Result apply.Result `json:"result"`
}

// New validates cfg and returns a Server that applies through applier and
// reads status through shower.
func New(cfg Config, applier Applier, shower Shower) (*Server, error) {
	if cfg.Socket == "" {
		return nil, errors.New("agent config: socket path is empty")
	}
	if cfg.SocketMode == 0 {
		cfg.SocketMode = 0o600
	}
	if cfg.SocketMode != 0o600 && cfg.SocketMode != 0o660 {
		return nil, fmt.Errorf("agent config: socket mode %#o: want 0600 or 0660", cfg.SocketMode)
	}
	if cfg.FullResyncInterval < 0 {
		return nil, fmt.Errorf("agent config: full resync interval %v is negative", cfg.FullResyncInterval)
	}
	if cfg.RestartCheckInterval < 0 {
		return nil, fmt.Errorf("agent config: restart check interval %v is negative", cfg.RestartCheckInterval)
	}
	if cfg.RestartCheckInterval == 0 {
		cfg.RestartCheckInterval = time.Second
	}
	if cfg.RestoreWait <= 0 {
		cfg.RestoreWait = 30 * time.Second
	}
	if cfg.MaxConfigBytes <= 0 {
		cfg.MaxConfigBytes = 64 << 20
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if applier == nil || shower == nil {
		return nil, errors.New("agent config: applier and shower are required")
	}
	peerUID := uint32(os.Getuid())
	if cfg.PeerUID != nil {
		peerUID = *cfg.PeerUID
	}
	return &Server{cfg: cfg, applier: applier, shower: shower, log: cfg.Log, peerUID: peerUID}, nil
}

// Run serves on the socket until ctx ends, then shuts down and removes
// the socket. A stale socket file from an earlier run is replaced; any
// other file at the path is an error.
func (s *Server) Run(ctx context.Context) error {
	ln, err := s.listen()
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("frr agent serving", "socket", s.cfg.Socket, "peerUID", s.peerUID)

	var tick <-chan time.Time
	if s.cfg.FullResyncInterval > 0 {
		t := time.NewTicker(s.cfg.FullResyncInterval)
		defer t.Stop()
		tick = t.C
	}
	var (
		restarts <-chan time.Time
		watch    *restartWatch
	)
	if s.cfg.Daemons != nil {
		watch = &restartWatch{daemons: s.cfg.Daemons}
		s.checkRestart(ctx, watch)
		t := time.NewTicker(s.cfg.RestartCheckInterval)
		defer t.Stop()
		restarts = t.C
	}
	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-errc:
			runErr = fmt.Errorf("serving frr agent: %w", err)
			break loop
		case <-tick:
			s.resync(ctx)
		case <-restarts:
			s.checkRestart(ctx, watch)
		}
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && runErr == nil {
		runErr = fmt.Errorf("shutting down frr agent: %w", err)
	}
	if err := os.Remove(s.cfg.Socket); err != nil && !errors.Is(err, fs.ErrNotExist) && runErr == nil {
		runErr = fmt.Errorf("removing socket: %w", err)
	}
	s.log.Info("frr agent stopped", "socket", s.cfg.Socket)
	return runErr
}

func (s *Server) listen() (net.Listener, error) {
	if fi, err := os.Lstat(s.cfg.Socket); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return nil, fmt.Errorf("listening on %s: a file that is not a socket is in the way", s.cfg.Socket)
		}
		if err := os.Remove(s.cfg.Socket); err != nil {
			return nil, fmt.Errorf("removing stale socket: %w", err)
		}
	}
	// Bind in a folder only we can enter, set the mode there and move
	// the socket into place: whatever the umask, the socket is never
	// reachable with wider permissions than asked.
	dir := filepath.Dir(s.cfg.Socket)
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("socket folder: %w", err)
	}
	priv, err := os.MkdirTemp(dir, ".ilb")
	if err != nil {
		return nil, fmt.Errorf("socket folder: %w", err)
	}
	defer os.RemoveAll(priv)
	tmp := filepath.Join(priv, "s")
	ln, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", s.cfg.Socket, err)
	}
	ul := ln.(*net.UnixListener)
	ul.SetUnlinkOnClose(false) // Run removes the socket at its final path
	if err := os.Chmod(tmp, s.cfg.SocketMode); err != nil {
		ul.Close()
		return nil, fmt.Errorf("chmod socket: %w", err)
	}
	if err := os.Rename(tmp, s.cfg.Socket); err != nil {
		ul.Close()
		return nil, fmt.Errorf("moving socket into place: %w", err)
	}
	return &peerListener{Listener: ul, uid: s.peerUID, log: s.log}, nil
}

func (s *Server) resync(ctx context.Context) {
	res, err := s.applier.Reconcile(ctx)
	if res.Path == apply.PathNone {
		return // nothing applied yet
	}
	s.mu.Lock()
	s.lastResync = &Record{At: time.Now(), Result: res}
	s.mu.Unlock()
	if err != nil {
		s.log.Warn("frr full resync failed", "error", err)
	}
}
