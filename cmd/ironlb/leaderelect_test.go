package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/internal/leader"
)

func TestLeaderElectionFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		want    leader.Config
		wantErr string
	}{
		{name: "defaults", args: []string{"-leader-elect"}, want: leader.Config{LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}},
		{name: "shorter", args: []string{"-leader-elect", "-leader-elect-lease-duration=6s", "-leader-elect-renew-deadline=4s", "-leader-elect-retry-period=500ms"},
			want: leader.Config{LeaseDuration: 6 * time.Second, RenewDeadline: 4 * time.Second, RetryPeriod: 500 * time.Millisecond}},
		{name: "renew deadline past the lease", args: []string{"-leader-elect", "-leader-elect-renew-deadline=20s"}, wantErr: "renew deadline 20s must be shorter than the lease duration 15s"},
		{name: "lease in fractions of a second", args: []string{"-leader-elect", "-leader-elect-lease-duration=12500ms"}, wantErr: "lease duration 12.5s must be a whole number of seconds"},
		{name: "not checked without election", args: []string{"-leader-elect-renew-deadline=20s"},
			want: leader.Config{LeaseDuration: 15 * time.Second, RenewDeadline: 20 * time.Second, RetryPeriod: 2 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseControllerFlags(tc.args, io.Discard)
			if tc.wantErr != "" {
				var ee *exitError
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &ee) || ee.code != 2 {
					t.Fatalf("parseControllerFlags() = %v, want exit code 2 with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, c.election); d != "" {
				t.Errorf("election timing (-want +got):\n%s", d)
			}
		})
	}
}
