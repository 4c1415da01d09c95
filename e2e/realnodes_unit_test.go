package e2e

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestInFlightAtChange(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 16, 7, 15, 759e6, time.UTC)
	reset := probe{sent: t0, err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
	timeout := probe{sent: t0, err: &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}}
	tests := []struct {
		name    string
		lost    probe
		changes []time.Time
		want    bool
	}{
		{name: "no change", want: false},
		{name: "a timeout at a change", lost: timeout, changes: []time.Time{t0.Add(time.Millisecond)}, want: false},
		{name: "change 1 ms after sending", changes: []time.Time{t0.Add(time.Millisecond)}, want: true},
		{name: "change at the deadline", changes: []time.Time{t0.Add(upgradeProbeDeadline)}, want: true},
		{name: "change before sending", changes: []time.Time{t0.Add(-time.Millisecond)}, want: false},
		{name: "change after the deadline", changes: []time.Time{t0.Add(upgradeProbeDeadline + time.Millisecond)}, want: false},
		{name: "one of several", changes: []time.Time{t0.Add(-time.Minute), t0.Add(300 * time.Millisecond), t0.Add(time.Minute)}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lost := reset
			if tt.lost.err != nil {
				lost = tt.lost
			}
			if got := inFlightAtChange(lost, tt.changes); got != tt.want {
				t.Errorf("inFlightAtChange = %v, want %v", got, tt.want)
			}
		})
	}
}
