package apply

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// VTY is what Applier needs from FRR.
type VTY interface {
	// Exec runs script (config commands as Diff writes them, without
	// `configure terminal`) in one session (of vtysh, or of the daemons'
	// vty sockets) and stops at the first command FRR refuses, returning
	// an error that carries FRR's message. When show is not empty and
	// every command went through, it runs show in the same session and
	// returns its output.
	Exec(ctx context.Context, script []byte, show string) ([]byte, error)
	// Reload makes config the whole running configuration
	// (frr-reload.py --reload) and returns what the tool printed.
	Reload(ctx context.Context, config []byte) ([]byte, error)
}

// Options tune an Applier.
type Options struct {
	// Log receives one line per apply (debug for the fast path). Default:
	// discard.
	Log *slog.Logger
	// SkipVerify makes the fast path trust Exec's report that every
	// command was accepted instead of reading `show running-config`
	// back. It saves the time FRR takes to print its config (with 10k
	// networks about 14 ms through vtysh, 5 ms through VtySock) and
	// leaves silent divergence to Reconcile.
	SkipVerify bool
}

// Applier applies desired configs to one FRR. Its methods may be called
// from several goroutines; applies run one at a time.
type Applier struct {
	vty  VTY
	log  *slog.Logger
	opts Options

	mu       sync.Mutex
	want     []byte  // last desired config asked for
	tried    bool    // an apply has run
	applied  *Config // what FRR runs, as far as we know; nil: unknown
	lastText []byte  // text of applied
}

// New returns an Applier that talks to FRR through vty.
func New(vty VTY, opts Options) *Applier {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Applier{vty: vty, log: log, opts: opts}
}

// Apply makes desired the running config: through the fast path when the
// last apply succeeded, else (or when the fast path fails) through the
// full path. A failed apply returns an *Error; its Failure is in the
// Result too.
func (a *Applier) Apply(ctx context.Context, desired []byte) (Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	start := time.Now()
	res, err := a.apply(ctx, desired)
	res.Duration = time.Since(start)
	a.logResult(res)
	return res, err
}

// Desired returns a copy of the last config Apply was asked for, or nil
// before the first Apply.
func (a *Applier) Desired() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return bytes.Clone(a.want)
}

// Reconcile applies the last desired config again through the full path,
// to repair anything that changed FRR's config behind the Applier's back.
// Before the first Apply it does nothing.
func (a *Applier) Reconcile(ctx context.Context) (Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	start := time.Now()
	if a.want == nil {
		return Result{Path: PathNone}, nil
	}
	res, err := a.full(ctx, a.want, "resync")
	res.Duration = time.Since(start)
	a.logResult(res)
	return res, err
}

func (a *Applier) apply(ctx context.Context, desired []byte) (Result, error) {
	if len(bytes.TrimSpace(desired)) == 0 {
		f := newFailure(StageDiff, "desired config is empty")
		return Result{Failure: f}, &Error{*f}
	}
	a.want = bytes.Clone(desired)
	switch {
	case !a.tried:
		a.tried = true
		return a.full(ctx, a.want, "first apply")
	case a.applied == nil:
		return a.full(ctx, a.want, "previous apply failed")
	case bytes.Equal(desired, a.lastText):
		return Result{Path: PathNone}, nil
	}
	cfg := Parse(a.want)
	delta := Diff(a.applied, cfg)
	if len(delta.Script) == 0 {
		a.applied, a.lastText = cfg, a.want
		return Result{Path: PathNone}, nil
	}
	fail := a.fast(ctx, delta)
	if fail == nil {
		a.applied, a.lastText = cfg, a.want
		return Result{Path: PathFast, Commands: delta.Commands}, nil
	}
	a.log.Warn("frr fast apply failed, reloading in full", "stage", fail.Stage, "message", fail.Message)
	prev, prevText := a.applied, a.lastText
	res, err := a.full(ctx, a.want, "fast path failed")
	res.FastFailure = fail
	res.Commands = delta.Commands
	if err != nil {
		// The desired config is bad, and the fast path may have applied
		// part of it: go back to the last good one.
		if _, rbErr := a.vty.Reload(ctx, prevText); rbErr == nil {
			a.applied, a.lastText = prev, prevText
			res.RolledBack = true
		}
	}
	return res, err
}

// fast sends the delta and checks it; it returns nil on success.
func (a *Applier) fast(ctx context.Context, delta Delta) *Failure {
	show := "show running-config"
	if a.opts.SkipVerify {
		show = ""
	}
	out, err := a.vty.Exec(ctx, delta.Script, show)
	if err != nil {
		return newFailure(StageVtysh, errText(err, out))
	}
	if a.opts.SkipVerify {
		return nil
	}
	lines := make(map[string]bool, len(delta.Checks))
	for _, c := range delta.Checks {
		lines[c.Line] = true
	}
	keep := func(line string) bool { return lines[line] || hasSeq(line) }
	if failed := Verify(parseShown(out, keep), delta.Checks); len(failed) > 0 {
		return newFailure(StageVerify, describeChecks(failed))
	}
	return nil
}

func (a *Applier) full(ctx context.Context, desired []byte, reason string) (Result, error) {
	res := Result{Path: PathFull, Reason: reason}
	out, err := a.vty.Reload(ctx, desired)
	if err != nil {
		a.applied, a.lastText = nil, nil
		res.Failure = newFailure(StageReload, errText(err, out))
		return res, &Error{*res.Failure}
	}
	a.applied, a.lastText = Parse(desired), desired
	return res, nil
}

func (a *Applier) logResult(res Result) {
	attrs := []any{"path", res.Path, "duration", res.Duration}
	if res.Reason != "" {
		attrs = append(attrs, "reason", res.Reason)
	}
	if res.Commands > 0 {
		attrs = append(attrs, "commands", res.Commands)
	}
	switch {
	case res.Failure != nil:
		// The caller gets the error; log only that an apply happened.
		a.log.Debug("frr apply failed", attrs...)
	case res.Path == PathFull:
		a.log.Info("frr config applied", attrs...)
	default:
		a.log.Debug("frr config applied", attrs...)
	}
}

// errText is the error's text, with the tool's output when the error does
// not carry it already.
func errText(err error, out []byte) string {
	msg := err.Error()
	o := strings.TrimSpace(string(out))
	if o != "" && !strings.Contains(msg, o) {
		msg += ": " + o
	}
	return msg
}

func describeChecks(failed []Check) string {
	var b strings.Builder
	const max = 10
	for i, c := range failed {
		if i == max {
			fmt.Fprintf(&b, "; and %d more", len(failed)-max)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		state := "missing"
		if !c.Present {
			state = "still present"
		}
		ctx := strings.Join(c.Context, " > ")
		if ctx == "" {
			ctx = "top level"
		}
		fmt.Fprintf(&b, "%s: %q %s", ctx, c.Line, state)
	}
	return b.String()
}
