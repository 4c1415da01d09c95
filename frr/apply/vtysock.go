package apply

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// VtySock is a VTY that sends scripts straight to the FRR daemons' vty
// sockets (RUNDIR/DAEMON.vty), over one connection per daemon that it
// keeps open between calls, instead of starting vtysh each time. It sends
// each command to the daemons vtysh would send it to (see plan; FRR 8.4's
// vtysh, or FRR 10's when mgmtd runs), in vtysh's order, and stops at the
// first command a daemon refuses.
//
// What it cannot dispatch the way vtysh does goes to its fallback VTY
// unchanged: scripts with commands plan does not know, show commands
// other than `show running-config`, and pathspaces running a daemon other
// than mgmtd, zebra, bgpd, staticd, bfdd and watchfrr. Reload always goes to the
// fallback.
//
// A connection that fails is closed and made again at the next Exec; the
// first command of an Exec on a connection made earlier is retried once
// on a new one, so a daemon's restart costs one reconnect, not a failed
// apply. Its methods may be called from several goroutines; Execs over
// the sockets run one at a time.
type VtySock struct {
	runDir   string
	fallback VTY
	log      *slog.Logger

	mu    sync.Mutex
	conns map[string]*vtyConn // by daemon name
}

// VtySockConfig configures a VtySock.
type VtySockConfig struct {
	// Pathspace is the FRR pathspace (-N); empty for the default one.
	Pathspace string
	// RunDir holds the daemons' vty sockets. Default: /var/run/frr, and
	// /var/run/frr/PATHSPACE with a pathspace.
	RunDir string
	// Fallback runs what the sockets do not (see VtySock). Default:
	// Vtysh{Pathspace: Pathspace}.
	Fallback VTY
	// Log receives debug lines on fallbacks and reconnects. Default:
	// discard.
	Log *slog.Logger
}

// NewVtySock returns a VtySock; it connects on the first Exec.
func NewVtySock(cfg VtySockConfig) *VtySock {
	s := &VtySock{runDir: cfg.RunDir, fallback: cfg.Fallback, log: cfg.Log, conns: map[string]*vtyConn{}}
	if s.runDir == "" {
		s.runDir = filepath.Join("/var/run/frr", cfg.Pathspace)
	}
	if s.fallback == nil {
		s.fallback = Vtysh{Pathspace: cfg.Pathspace}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// showRunning is the one show command Exec runs over the sockets: each
// daemon of the script prints its own part of the running config.
const showRunning = "show running-config"

// Exec implements VTY: it enters config mode in every daemon the script
// concerns, sends each command to its daemons, leaves config mode, and
// runs show (`show running-config`) in the same daemons. The output is
// what the daemons printed, in that order. A refused command ends the
// script; the error names the daemon and carries its message. After any
// error the connections are closed, which takes the daemons out of
// config mode as vtysh's exit does.
func (s *VtySock) Exec(ctx context.Context, script []byte, show string) ([]byte, error) {
	steps, session, err := s.prepare(script, show)
	var unsupported *unsupportedError
	if errors.As(err, &unsupported) {
		s.log.Debug("frr script sent through the fallback", "reason", unsupported.Error())
		return s.fallback.Exec(ctx, script, show)
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, err := s.exec(ctx, steps, session, show)
	if err != nil {
		// Like vtysh -c, which exits at the first error: closing takes
		// the daemons out of config mode, whatever node they stand in,
		// and the next Exec starts on new connections.
		s.closeAll()
	}
	return out, err
}

// Reload implements VTY through the fallback.
func (s *VtySock) Reload(ctx context.Context, config []byte) ([]byte, error) {
	return s.fallback.Reload(ctx, config)
}

// Close closes the connections; a later Exec opens them again.
func (s *VtySock) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeAll()
}

// prepare plans the script and binds its steps to the daemons that run.
// An *unsupportedError sends the script to the fallback.
func (s *VtySock) prepare(script []byte, show string) ([]step, daemonSet, error) {
	if show != "" && show != showRunning {
		return nil, 0, &unsupportedError{reason: fmt.Sprintf("show command %q", show)}
	}
	steps, err := plan(script)
	if err != nil {
		return nil, 0, err
	}
	if len(steps) == 0 {
		return nil, 0, &unsupportedError{reason: "empty script"}
	}
	running, err := s.running()
	if err != nil {
		return nil, 0, err
	}
	var session daemonSet
	for i, st := range steps {
		to := st.to
		switch {
		case running&mgmtd != 0 && st.to10 != 0:
			to = st.to10
		case running&mgmtd != 0:
			to = to.forMgmtd()
		}
		// Like vtysh: a command of several daemons goes to those of them
		// that run, one of a single daemon fails when it does not run.
		want := to
		to &= running
		if to == 0 {
			return nil, 0, fmt.Errorf("sending %q: %s not running (no socket in %s)",
				Redact(st.cmd), strings.Join(want.names(), ", "), s.runDir)
		}
		steps[i].to = to
		session |= to
	}
	return steps, session, nil
}

// running returns the daemons with a vty socket in the run folder.
func (s *VtySock) running() (daemonSet, error) {
	ents, err := os.ReadDir(s.runDir)
	if err != nil {
		return 0, fmt.Errorf("listing frr vty sockets: %w", err)
	}
	var set daemonSet
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".vty")
		if !ok || e.Type()&os.ModeSocket == 0 {
			continue
		}
		switch d := daemonNamed(name); {
		case d != 0:
			set |= d
		case slices.Contains(passiveDaemons, name):
		default:
			return 0, &unsupportedError{reason: name + " runs, and its commands are not known"}
		}
	}
	return set, nil
}

// exec runs the planned steps; s.mu is held.
func (s *VtySock) exec(ctx context.Context, steps []step, session daemonSet, show string) ([]byte, error) {
	var out bytes.Buffer
	names := session.names()
	for _, d := range names {
		if err := s.enter(ctx, d, &out); err != nil {
			return out.Bytes(), err
		}
	}
	for _, st := range steps {
		for _, d := range st.to.names() {
			if err := s.run(ctx, d, st.cmd, &out); err != nil {
				return out.Bytes(), err
			}
		}
		if !st.resync {
			continue
		}
		// vtysh does this after every exit back to the config node.
		for _, d := range names {
			for _, cmd := range []string{"end", "configure terminal"} {
				if err := s.run(ctx, d, cmd, &out); err != nil {
					return out.Bytes(), err
				}
			}
		}
	}
	for _, d := range names {
		if err := s.run(ctx, d, "end", &out); err != nil {
			return out.Bytes(), err
		}
	}
	if show == "" {
		return out.Bytes(), nil
	}
	for _, d := range names {
		if err := s.run(ctx, d, show, &out); err != nil {
			return out.Bytes(), err
		}
		if out.Len() > 0 && out.Bytes()[out.Len()-1] != '\n' {
			out.WriteByte('\n')
		}
	}
	return out.Bytes(), nil
}

// enter puts daemon d into config mode, connecting first when needed. On
// a connection made by an earlier Exec it retries once on a new one: the
// daemon may have restarted since.
func (s *VtySock) enter(ctx context.Context, d string, out *bytes.Buffer) error {
	if c := s.conns[d]; c != nil {
		text, status, err := c.do(ctx, "configure terminal")
		if err == nil {
			out.Write(text)
			return checkStatus(d, "configure terminal", status, text)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("entering config mode in %s: %w", d, err)
		}
		s.log.Debug("frr vty connection lost, reconnecting", "daemon", d, "error", err)
		s.drop(d)
	}
	if err := s.dial(ctx, d); err != nil {
		return err
	}
	return s.run(ctx, d, "configure terminal", out)
}

// dial connects to daemon d and moves the connection to the enable node.
func (s *VtySock) dial(ctx context.Context, d string) error {
	var dialer net.Dialer
	nc, err := dialer.DialContext(ctx, "unix", filepath.Join(s.runDir, d+".vty"))
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", d, err)
	}
	s.conns[d] = &vtyConn{c: nc, r: bufio.NewReaderSize(nc, 64<<10)}
	var discard bytes.Buffer
	if err := s.run(ctx, d, "enable", &discard); err != nil {
		s.drop(d)
		return err
	}
	return nil
}

// run sends one command to daemon d, adds its output to out, and returns
// an error when the exchange fails or the daemon refuses the command.
func (s *VtySock) run(ctx context.Context, d, cmd string, out *bytes.Buffer) error {
	c := s.conns[d]
	if c == nil {
		return fmt.Errorf("sending %q to %s: not connected", Redact(cmd), d)
	}
	text, status, err := c.do(ctx, cmd)
	if err != nil {
		return fmt.Errorf("sending %q to %s: %w", Redact(cmd), d, err)
	}
	out.Write(text)
	return checkStatus(d, cmd, status, text)
}

func (s *VtySock) drop(d string) {
	if c := s.conns[d]; c != nil {
		c.c.Close()
		delete(s.conns, d)
	}
}

func (s *VtySock) closeAll() error {
	var errs []error
	for d, c := range s.conns {
		if err := c.c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing vty connection to %s: %w", d, err))
		}
		delete(s.conns, d)
	}
	return errors.Join(errs...)
}

// refusedError is a command a daemon answered with a status other than
// success. Its text holds the daemon's message.
type refusedError struct {
	daemon string
	cmd    string
	status byte
	msg    string
}

func (e *refusedError) Error() string {
	msg := e.msg
	if msg == "" {
		msg = "no message"
	}
	// The message first: Redact masks a line from the word "password" on.
	return fmt.Sprintf("%s: %s (%s, command %q)", e.daemon, msg, statusText(e.status), Redact(e.cmd))
}

// checkStatus turns a refusal into a *refusedError. CMD_WARNING counts as
// a refusal too, which is stricter than vtysh -c (it goes on after one):
// FRR commands return it when they did not take effect as well as with a
// mere remark, and the fast path cannot tell which. Being strict costs a
// full reload at worst.
func checkStatus(d, cmd string, status byte, text []byte) error {
	if status == cmdSuccess {
		return nil
	}
	return &refusedError{daemon: d, cmd: cmd, status: status, msg: Redact(strings.TrimSpace(string(text)))}
}

// vtyConn is one connection to a daemon.
type vtyConn struct {
	c net.Conn
	r *bufio.Reader
}

// do sends cmd and reads the reply, giving up when ctx ends. After an
// error the connection is out of step and must be closed.
func (c *vtyConn) do(ctx context.Context, cmd string) ([]byte, byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	deadline, _ := ctx.Deadline() // zero: none
	if err := c.c.SetDeadline(deadline); err != nil {
		return nil, 0, err
	}
	// A deadline in the past interrupts a blocked write or read.
	stop := context.AfterFunc(ctx, func() { _ = c.c.SetDeadline(time.Unix(1, 0)) })
	err := writeCommand(c.c, cmd)
	var (
		text   []byte
		status byte
	)
	if err == nil {
		text, status, err = readReply(c.r)
	}
	if !stop() {
		// ctx ended: the deadline is (or is about to be) in the past.
		return nil, 0, context.Cause(ctx)
	}
	if err != nil && ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	return text, status, err
}
