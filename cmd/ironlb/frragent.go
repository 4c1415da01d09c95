package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/frr/apply"
)

// frrAgentConfig is everything `ironlb frr-agent` is told by its flags.
type frrAgentConfig struct {
	socket             string
	socketMode         fs.FileMode
	peerUID            int // -1: the agent's own uid
	pathspace          string
	fullResyncInterval time.Duration
	restartCheck       time.Duration
	vtysh              string
	frrReload          string
	logLevel           slog.Level
	pprofAddr          string
}

func parseFRRAgentFlags(args []string, stderr io.Writer) (frrAgentConfig, error) {
	c := frrAgentConfig{}
	fs := flag.NewFlagSet("frr-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.socket, "socket", "", "unix socket to serve on, in a volume shared with the speaker (required)")
	groupRW := fs.Bool("socket-group", false, "make the socket 0660 instead of 0600, for a speaker of the same group (set -peer-uid to the speaker's uid)")
	fs.IntVar(&c.peerUID, "peer-uid", -1, "serve only connections from processes of this uid, the speaker's; -1 is the agent's own uid")
	fs.StringVar(&c.pathspace, "pathspace", "", "FRR pathspace (vtysh -N); empty for the default one")
	fs.DurationVar(&c.fullResyncInterval, "full-resync-interval", 5*time.Minute, "how often to reapply the last config through frr-reload.py (0 disables)")
	fs.DurationVar(&c.restartCheck, "restart-check-interval", time.Second, "how often to look for restarted FRR daemons (pid files), which get the last config again (0 disables)")
	fs.StringVar(&c.vtysh, "vtysh", "/usr/bin/vtysh", "vtysh binary")
	fs.StringVar(&c.frrReload, "frr-reload", "/usr/lib/frr/frr-reload.py", "frr-reload.py script")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.pprofAddr, "pprof-addr", "", "address of Go's /debug/pprof endpoints, for profiling (empty disables)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, &exitError{code: 2, err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, &exitError{code: 2, err: fmt.Errorf("-log-level: %w", err)}
	}
	if c.socket == "" {
		return c, &exitError{code: 2, err: errors.New("-socket is required")}
	}
	if c.fullResyncInterval < 0 {
		return c, &exitError{code: 2, err: fmt.Errorf("-full-resync-interval %v is negative", c.fullResyncInterval)}
	}
	if c.restartCheck < 0 {
		return c, &exitError{code: 2, err: fmt.Errorf("-restart-check-interval %v is negative", c.restartCheck)}
	}
	if c.peerUID < -1 || c.peerUID > math.MaxUint32 {
		return c, &exitError{code: 2, err: fmt.Errorf("-peer-uid %d: want a uid, or -1 for the agent's own", c.peerUID)}
	}
	c.socketMode = 0o600
	if *groupRW {
		c.socketMode = 0o660
	}
	return c, nil
}

func runFRRAgent(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
	c, err := parseFRRAgentFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))
	vty := apply.Vtysh{Pathspace: c.pathspace, VtyshPath: c.vtysh, ReloadPath: c.frrReload}
	// Deltas go straight to the daemons' vty sockets; vtysh stays for
	// reloads, show commands and what the sockets cannot dispatch.
	sock := apply.NewVtySock(apply.VtySockConfig{Pathspace: c.pathspace, Fallback: vty, Log: log})
	defer sock.Close()
	applier := apply.New(sock, apply.Options{Log: log})
	cfg := agent.Config{
		Socket:             c.socket,
		SocketMode:         c.socketMode,
		PeerUID:            peerUID(c.peerUID),
		FullResyncInterval: c.fullResyncInterval,
		Log:                log,
	}
	if c.restartCheck > 0 {
		cfg.Daemons = agent.PidFiles{Dir: agent.RunDir(c.pathspace)}
		cfg.Loader = vty
		cfg.RestartCheckInterval = c.restartCheck
	}
	srv, err := agent.New(cfg, applier, vty)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if c.pprofAddr != "" {
		stop, err := servePprof(c.pprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	return srv.Run(ctx)
}

// peerUID is the agent's PeerUID for the -peer-uid flag's value.
func peerUID(flag int) *uint32 {
	if flag < 0 {
		return nil
	}
	return new(uint32(flag))
}

// servePprof serves Go's profiling endpoints on addr until stop is
// called.
func servePprof(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening for pprof on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serving pprof", "addr", addr, "error", err)
		}
	}()
	return func() { srv.Close() }, nil
}
