package lease

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDecide(t *testing.T) {
	tm := Timing{Duration: 5 * time.Second, RenewDeadline: 4 * time.Second, RetryPeriod: time.Second}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	const me = "n1"
	held := func(holder string) Record { return Record{Holder: holder, Version: "7"} }
	tests := []struct {
		name string
		in   Input
		want Decision
	}{{
		name: "not elected, never seen: nothing",
		in:   Input{Node: me, Now: t0},
		want: Decision{},
	}, {
		name: "not elected, held by another: left alone",
		in:   Input{Node: me, Now: t0, Lease: Known{Seen: true, Record: held("n2"), ObservedAt: t0}},
		want: Decision{},
	}, {
		name: "elected, never seen: read",
		in:   Input{Node: me, Elected: true, Now: t0},
		want: Decision{Action: Read},
	}, {
		name: "elected, a read failed just now: retry after the period",
		in:   Input{Node: me, Elected: true, Now: at(300 * time.Millisecond), Lease: Known{TriedAt: t0, Failed: true}},
		want: Decision{Wake: at(time.Second)},
	}, {
		name: "elected, missing: acquire (create)",
		in:   Input{Node: me, Elected: true, Now: at(time.Millisecond), Lease: Known{Seen: true, ObservedAt: t0, TriedAt: t0}},
		want: Decision{Action: Acquire},
	}, {
		name: "elected, released: acquire",
		in:   Input{Node: me, Elected: true, Now: at(time.Millisecond), Lease: Known{Seen: true, Record: Record{Version: "9"}, ObservedAt: t0, TriedAt: t0}},
		want: Decision{Action: Acquire},
	}, {
		name: "elected, held by another, seen just now: no answer, read again after the period",
		in:   Input{Node: me, Elected: true, Now: at(10 * time.Millisecond), Lease: Known{Seen: true, Record: held("n2"), ObservedAt: t0, TriedAt: t0}},
		want: Decision{Wake: at(time.Second)},
	}, {
		name: "elected, held by another, unchanged for less than the duration: read",
		in:   Input{Node: me, Elected: true, Now: at(4 * time.Second), Lease: Known{Seen: true, Record: held("n2"), ObservedAt: t0, TriedAt: at(3 * time.Second)}},
		want: Decision{Action: Read},
	}, {
		name: "elected, held by another, unchanged for the duration: acquire",
		in:   Input{Node: me, Elected: true, Now: at(5 * time.Second), Lease: Known{Seen: true, Record: held("n2"), ObservedAt: t0, TriedAt: at(4 * time.Second)}},
		want: Decision{Action: Acquire},
	}, {
		name: "elected, held by another with a longer duration: its duration counts",
		in: Input{Node: me, Elected: true, Now: at(6 * time.Second), Lease: Known{
			Seen: true, Record: Record{Holder: "n2", Version: "7", Duration: 15 * time.Second}, ObservedAt: t0, TriedAt: at(5 * time.Second),
		}},
		want: Decision{Action: Read},
	}, {
		name: "elected, held by another with a shorter duration: ours counts",
		in: Input{Node: me, Elected: true, Now: at(2 * time.Second), Lease: Known{
			Seen: true, Record: Record{Holder: "n2", Version: "7", Duration: time.Second}, ObservedAt: t0, TriedAt: at(time.Second),
		}},
		want: Decision{Action: Read},
	}, {
		name: "elected, held by another, expired but a write failed just now: wait",
		in:   Input{Node: me, Elected: true, Now: at(6 * time.Second), Lease: Known{Seen: true, Record: held("n2"), ObservedAt: t0, TriedAt: at(5500 * time.Millisecond), Failed: true}},
		want: Decision{Wake: at(6500 * time.Millisecond)},
	}, {
		name: "held, renewed just now: answer; wake to renew",
		in:   Input{Node: me, Elected: true, Now: at(10 * time.Millisecond), Lease: Known{Seen: true, Record: held(me), ObservedAt: at(5 * time.Millisecond), RenewedAt: t0, TriedAt: t0}},
		want: Decision{Answer: true, Wake: at(time.Second)},
	}, {
		name: "held, renewal due: answer and renew",
		in:   Input{Node: me, Elected: true, Now: at(time.Second), Lease: Known{Seen: true, Record: held(me), ObservedAt: t0, RenewedAt: t0, TriedAt: t0}},
		want: Decision{Answer: true, Action: Renew, Wake: at(4 * time.Second)},
	}, {
		name: "held, renewals failing, deadline not passed: answer, retry",
		in:   Input{Node: me, Elected: true, Now: at(3 * time.Second), Lease: Known{Seen: true, Record: held(me), ObservedAt: t0, RenewedAt: t0, TriedAt: at(2 * time.Second), Failed: true}},
		want: Decision{Answer: true, Action: Renew, Wake: at(4 * time.Second)},
	}, {
		name: "held, renewal failed just now, deadline near: wake at the deadline",
		in:   Input{Node: me, Elected: true, Now: at(3500 * time.Millisecond), Lease: Known{Seen: true, Record: held(me), ObservedAt: t0, RenewedAt: t0, TriedAt: at(3 * time.Second), Failed: true}},
		want: Decision{Answer: true, Wake: at(4 * time.Second)},
	}, {
		name: "held, renew deadline passed: silent, keep trying",
		in:   Input{Node: me, Elected: true, Now: at(4 * time.Second), Lease: Known{Seen: true, Record: held(me), ObservedAt: t0, RenewedAt: t0, TriedAt: at(3 * time.Second), Failed: true}},
		want: Decision{Action: Renew},
	}, {
		name: "held, deadline passed, retry not due: silent, wake to retry",
		in:   Input{Node: me, Elected: true, Now: at(4500 * time.Millisecond), Lease: Known{Seen: true, Record: held(me), ObservedAt: t0, RenewedAt: t0, TriedAt: at(4 * time.Second), Failed: true}},
		want: Decision{Wake: at(5 * time.Second)},
	}, {
		name: "named holder by a former run of this node: renew before answering",
		in:   Input{Node: me, Elected: true, Now: at(10 * time.Millisecond), Lease: Known{Seen: true, Record: held(me), ObservedAt: t0, TriedAt: t0}},
		want: Decision{Action: Renew},
	}, {
		name: "held, no longer elected, announcer still answers: silent, wait for it",
		in:   Input{Node: me, Announcing: true, Now: at(time.Second), Lease: Known{Seen: true, Record: held(me), ObservedAt: t0, RenewedAt: t0, TriedAt: t0}},
		want: Decision{},
	}, {
		name: "held, no longer elected, announcer stopped: release",
		in:   Input{Node: me, Now: at(100 * time.Millisecond), Lease: Known{Seen: true, Record: held(me), ObservedAt: t0, RenewedAt: t0, TriedAt: t0}},
		want: Decision{Action: Release},
	}, {
		name: "held, no longer elected, release failed just now: retry after the period",
		in:   Input{Node: me, Now: at(100 * time.Millisecond), Lease: Known{Seen: true, Record: held(me), ObservedAt: t0, RenewedAt: t0, TriedAt: at(50 * time.Millisecond), Failed: true}},
		want: Decision{Wake: at(1050 * time.Millisecond)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tm, tt.in)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecideNoOverlap checks the promise of the package on one clock:
// whatever a node saw of a Lease, it acquires it only after the holder's
// renew deadline, counted from the holder's last successful renewal.
func TestDecideNoOverlap(t *testing.T) {
	tm := DefaultTiming()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	// The holder sent its last renewal at t0; it landed by lag, and the
	// other node saw it after seen more.
	for _, lag := range []time.Duration{0, time.Millisecond, 500 * time.Millisecond, 3 * time.Second} {
		for _, seen := range []time.Duration{0, time.Millisecond, 2 * time.Second} {
			observed := t0.Add(lag + seen)
			holderEnd := t0.Add(tm.RenewDeadline)
			for now := observed; now.Before(observed.Add(2 * tm.Duration)); now = now.Add(10 * time.Millisecond) {
				d := Decide(tm, Input{Node: "n2", Elected: true, Now: now, Lease: Known{Seen: true, Record: Record{Holder: "n1", Version: "1"}, ObservedAt: observed}})
				h := Decide(tm, Input{Node: "n1", Elected: true, Now: now, Lease: Known{Seen: true, Record: Record{Holder: "n1", Version: "1"}, ObservedAt: t0.Add(lag), RenewedAt: t0, TriedAt: now}})
				if d.Action == Acquire && now.Before(holderEnd) {
					t.Fatalf("lag %v, seen %v: n2 acquires at %v, before n1's deadline %v", lag, seen, now.Sub(t0), tm.RenewDeadline)
				}
				if d.Action == Acquire && h.Answer {
					t.Fatalf("lag %v, seen %v: n2 acquires at %v while n1 answers", lag, seen, now.Sub(t0))
				}
			}
		}
	}
}
