package apply

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// recorder is a VTY that records the calls and keeps a simulated running
// config.
type recorder struct {
	running   *Config
	calls     []string // "exec: SHOW" or "reload"
	scripts   []string
	execErr   error
	reloadErr error // fails every reload
	failNext  int   // fails the next reloads
	stale     bool  // show returns the config from before the script
}

func (r *recorder) Exec(_ context.Context, script []byte, show string) ([]byte, error) {
	r.calls = append(r.calls, "exec: "+show)
	r.scripts = append(r.scripts, string(script))
	if r.execErr != nil {
		return []byte("% Unknown command: neighbor 192.0.2.2 password s3cret"), r.execErr
	}
	before := r.running
	next, err := simulate(r.running, script)
	if err != nil {
		return nil, err
	}
	r.running = next
	if show == "" {
		return nil, nil
	}
	if r.stale {
		return before.Bytes(), nil
	}
	return append([]byte("Building configuration...\n\nCurrent configuration:\n"), next.Bytes()...), nil
}

func (r *recorder) Reload(_ context.Context, config []byte) ([]byte, error) {
	r.calls = append(r.calls, "reload")
	if r.failNext > 0 {
		r.failNext--
		return []byte("line 3: % Unknown command: frobnicate"), errors.New("exit status 1")
	}
	if r.reloadErr != nil {
		return []byte("line 3: % Unknown command: neighbor 192.0.2.2 password s3cret"), r.reloadErr
	}
	r.running = Parse(config)
	return nil, nil
}

func newRecorder() *recorder { return &recorder{running: Parse(nil)} }

var withNetwork = strings.Replace(base, "    network 198.51.100.10/32\n", "    network 198.51.100.10/32\n    network 198.51.100.11/32\n", 1)

func TestApplierPaths(t *testing.T) {
	ctx := t.Context()
	boom := errors.New("exit status 1")
	for _, tc := range []struct {
		name      string
		setup     func(*recorder)
		opts      Options
		applies   []string
		want      Result // of the last apply, without Duration
		wantErr   Stage  // "" for none
		wantCalls []string
	}{
		{
			name:      "first apply is full",
			applies:   []string{base},
			want:      Result{Path: PathFull, Reason: "first apply"},
			wantCalls: []string{"reload"},
		},
		{
			name:      "unchanged config does nothing",
			applies:   []string{base, base},
			want:      Result{Path: PathNone},
			wantCalls: []string{"reload"},
		},
		{
			name:      "cosmetic change does nothing",
			applies:   []string{base, strings.ReplaceAll(base, "  ", " ")},
			want:      Result{Path: PathNone},
			wantCalls: []string{"reload"},
		},
		{
			name:      "change goes the fast path and is verified",
			applies:   []string{base, withNetwork},
			want:      Result{Path: PathFast, Commands: 1},
			wantCalls: []string{"reload", "exec: show running-config"},
		},
		{
			name:      "skip verify shows nothing",
			opts:      Options{SkipVerify: true},
			applies:   []string{base, withNetwork},
			want:      Result{Path: PathFast, Commands: 1},
			wantCalls: []string{"reload", "exec: "},
		},
		{
			name:    "vtysh failure falls back to full",
			setup:   func(r *recorder) { r.execErr = boom },
			applies: []string{base, withNetwork},
			want: Result{Path: PathFull, Reason: "fast path failed", Commands: 1,
				FastFailure: &Failure{Stage: StageVtysh, Message: "exit status 1: % Unknown command: neighbor 192.0.2.2 password <redacted>"}},
			wantCalls: []string{"reload", "exec: show running-config", "reload"},
		},
		{
			name:    "verify mismatch falls back to full",
			setup:   func(r *recorder) { r.stale = true },
			applies: []string{base, withNetwork},
			want: Result{Path: PathFull, Reason: "fast path failed", Commands: 1,
				FastFailure: &Failure{Stage: StageVerify, Message: `router bgp 64512 > address-family ipv4 unicast: "network 198.51.100.11/32" missing`}},
			wantCalls: []string{"reload", "exec: show running-config", "reload"},
		},
		{
			name:    "both paths fail: rolled back",
			setup:   func(r *recorder) { r.execErr = boom; r.failNext = 1 },
			applies: []string{base, withNetwork},
			want: Result{Path: PathFull, Reason: "fast path failed", Commands: 1, RolledBack: true,
				FastFailure: &Failure{Stage: StageVtysh, Message: "exit status 1: % Unknown command: neighbor 192.0.2.2 password <redacted>"},
				Failure:     &Failure{Stage: StageReload, Message: "exit status 1: line 3: % Unknown command: frobnicate"}},
			wantErr:   StageReload,
			wantCalls: []string{"reload", "exec: show running-config", "reload", "reload"},
		},
		{
			name:    "reload failure is an error",
			setup:   func(r *recorder) { r.reloadErr = boom },
			applies: []string{base},
			want: Result{Path: PathFull, Reason: "first apply",
				Failure: &Failure{Stage: StageReload, Message: "exit status 1: line 3: % Unknown command: neighbor 192.0.2.2 password <redacted>"}},
			wantErr:   StageReload,
			wantCalls: []string{"reload"},
		},
		{
			name:      "empty config is refused",
			applies:   []string{" \n"},
			want:      Result{Failure: &Failure{Stage: StageDiff, Message: "desired config is empty"}},
			wantErr:   StageDiff,
			wantCalls: nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRecorder()
			a := New(r, tc.opts)
			var res Result
			var err error
			for i, d := range tc.applies {
				if i == len(tc.applies)-1 && tc.setup != nil {
					tc.setup(r)
				}
				res, err = a.Apply(ctx, []byte(d))
				if i < len(tc.applies)-1 && err != nil {
					t.Fatalf("apply %d: %v", i, err)
				}
			}
			res.Duration = 0
			if diff := cmp.Diff(tc.want, res); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			var ae *Error
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("err = %v, want none", err)
			case tc.wantErr != "" && (!errors.As(err, &ae) || ae.Stage != tc.wantErr):
				t.Errorf("err = %v, want an *Error at stage %s", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantCalls, r.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestApplierRecoversAndReconciles(t *testing.T) {
	ctx := t.Context()
	r := newRecorder()
	a := New(r, Options{})

	res, err := a.Reconcile(ctx)
	if err != nil || res.Path != PathNone || len(r.calls) != 0 {
		t.Fatalf("Reconcile before any apply = %+v, %v, calls %v; want nothing done", res, err, r.calls)
	}

	r.reloadErr = errors.New("exit status 1")
	if _, err := a.Apply(ctx, []byte(base)); err == nil {
		t.Fatal("want the failing reload's error")
	}
	r.reloadErr = nil
	res, err = a.Apply(ctx, []byte(base))
	if err != nil || res.Path != PathFull || res.Reason != "previous apply failed" {
		t.Fatalf("apply after a failure = %+v, %v; want a full apply", res, err)
	}
	res, err = a.Reconcile(ctx)
	if err != nil || res.Path != PathFull || res.Reason != "resync" {
		t.Fatalf("Reconcile = %+v, %v; want a full resync", res, err)
	}
	res, err = a.Apply(ctx, []byte(withNetwork))
	if err != nil || res.Path != PathFast {
		t.Fatalf("apply after Reconcile = %+v, %v; want the fast path", res, err)
	}
	if diff := cmp.Diff(flatten(Parse([]byte(withNetwork))), flatten(r.running)); diff != "" {
		t.Errorf("simulated FRR differs from desired (-want +got):\n%s", diff)
	}
}
