package leader

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// slowLock is a lock whose writes take a while and may fail.
type slowLock struct {
	took time.Duration
	err  error
}

func (l *slowLock) Get(context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	return nil, nil, errors.New("not used")
}
func (l *slowLock) Create(context.Context, resourcelock.LeaderElectionRecord) error {
	time.Sleep(l.took)
	return l.err
}
func (l *slowLock) Update(context.Context, resourcelock.LeaderElectionRecord) error {
	time.Sleep(l.took)
	return l.err
}
func (l *slowLock) RecordEvent(string) {}
func (l *slowLock) Identity() string   { return "me" }
func (l *slowLock) Describe() string   { return "test/lease" }

func TestGuard(t *testing.T) {
	me := resourcelock.LeaderElectionRecord{HolderIdentity: "me"}
	released := resourcelock.LeaderElectionRecord{}
	tests := []struct {
		name string
		// steps run in order on a lock whose writes take 1s.
		steps func(l resourcelock.Interface, inner *slowLock)
		want  bool
	}{
		{name: "never acquired", steps: func(resourcelock.Interface, *slowLock) {}, want: false},
		{name: "acquired by create", steps: func(l resourcelock.Interface, _ *slowLock) {
			_ = l.Create(t.Context(), me)
		}, want: true},
		{name: "renewed 8s ago (write started 9s ago)", steps: func(l resourcelock.Interface, _ *slowLock) {
			_ = l.Update(t.Context(), me)
			time.Sleep(8 * time.Second)
		}, want: true},
		{name: "write started 10s ago: not held, though it ended 9s ago", steps: func(l resourcelock.Interface, _ *slowLock) {
			_ = l.Update(t.Context(), me)
			time.Sleep(9 * time.Second)
		}, want: false},
		{name: "failed renewals keep the last good one", steps: func(l resourcelock.Interface, inner *slowLock) {
			_ = l.Update(t.Context(), me)
			inner.err = errors.New("timeout")
			_ = l.Update(t.Context(), me)
			_ = l.Update(t.Context(), me)
			time.Sleep(6 * time.Second)
		}, want: true},
		{name: "failed renewals past the deadline", steps: func(l resourcelock.Interface, inner *slowLock) {
			_ = l.Update(t.Context(), me)
			inner.err = errors.New("timeout")
			for range 9 {
				_ = l.Update(t.Context(), me)
			}
		}, want: false},
		{name: "released", steps: func(l resourcelock.Interface, _ *slowLock) {
			_ = l.Update(t.Context(), me)
			_ = l.Update(t.Context(), released)
		}, want: false},
		{name: "another holder written", steps: func(l resourcelock.Interface, _ *slowLock) {
			_ = l.Update(t.Context(), me)
			_ = l.Update(t.Context(), resourcelock.LeaderElectionRecord{HolderIdentity: "other"})
		}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				inner := &slowLock{took: time.Second}
				g := NewGuard(10 * time.Second)
				tc.steps(g.Lock(inner), inner)
				err := g.Held()
				if got := err == nil; got != tc.want {
					t.Errorf("Held() = %v, want held %v", err, tc.want)
				}
				if err != nil && !errors.Is(err, ErrNotHeld) {
					t.Errorf("Held() = %v, not an ErrNotHeld", err)
				}
			})
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "defaults", cfg: Config{DefaultLeaseDuration, DefaultRenewDeadline, DefaultRetryPeriod}},
		{name: "short", cfg: Config{4 * time.Second, 3 * time.Second, 500 * time.Millisecond}},
		{name: "fraction of a second", cfg: Config{1500 * time.Millisecond, time.Second, 100 * time.Millisecond}, wantErr: "lease duration 1.5s must be a whole number of seconds"},
		{name: "zero lease", cfg: Config{0, 0, time.Second}, wantErr: "lease duration 0s must be a whole number"},
		{name: "renew deadline not shorter", cfg: Config{10 * time.Second, 10 * time.Second, 2 * time.Second}, wantErr: "renew deadline 10s must be shorter than the lease duration 10s"},
		{name: "retry too long", cfg: Config{15 * time.Second, 10 * time.Second, 9 * time.Second}, wantErr: "renew deadline 10s must be longer than 1.2 times the retry period 9s"},
		{name: "no retry", cfg: Config{15 * time.Second, 10 * time.Second, 0}, wantErr: "retry period 0s must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}
