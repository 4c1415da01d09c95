package leader

import (
	"testing"
	"time"
)

func TestWaitBeforeGet(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	held := seen{raw: []byte(`{"holderIdentity":"a"}`), holder: "a", duration: 15 * time.Second, at: t0}
	tests := []struct {
		name string
		s    seen
		ok   bool
		now  time.Time
		want time.Duration
	}{
		{name: "nothing seen yet: read at once", s: seen{}, ok: false, now: t0, want: 0},
		{name: "held by another, just renewed", s: held, ok: true, now: t0, want: 15 * time.Second},
		{name: "held by another, renewed 14.5s ago", s: held, ok: true, now: t0.Add(14500 * time.Millisecond), want: 500 * time.Millisecond},
		{name: "held by another, ran out just now", s: held, ok: true, now: t0.Add(15 * time.Second), want: 0},
		{name: "held by another, ran out long ago", s: held, ok: true, now: t0.Add(time.Hour), want: 0},
		{name: "held by self", s: seen{holder: "me", duration: 15 * time.Second, at: t0}, ok: true, now: t0, want: 0},
		{name: "released", s: seen{holder: "", duration: time.Second, at: t0}, ok: true, now: t0, want: 0},
		{name: "no duration", s: seen{holder: "a", at: t0}, ok: true, now: t0, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := waitBeforeGet(tc.s, tc.ok, "me", tc.now); got != tc.want {
				t.Errorf("waitBeforeGet() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestExpired(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	raw := []byte(`{"holderIdentity":"a","renewTime":"2026-12-03T11:59:59.123456Z"}`)
	renewed := []byte(`{"holderIdentity":"a","renewTime":"2026-12-03T12:00:01.123456Z"}`)
	held := seen{raw: raw, holder: "a", duration: 15 * time.Second, at: t0}
	tests := []struct {
		name string
		s    seen
		read []byte
		now  time.Time
		want bool
	}{
		{name: "same record a lease duration later", s: held, read: raw, now: t0.Add(15 * time.Second), want: true},
		{name: "same record, much later", s: held, read: raw, now: t0.Add(time.Hour), want: true},
		{name: "same record, not yet", s: held, read: raw, now: t0.Add(15*time.Second - time.Millisecond), want: false},
		{name: "renewed since it was seen", s: held, read: renewed, now: t0.Add(time.Hour), want: false},
		{name: "held by self", s: seen{raw: raw, holder: "me", duration: 15 * time.Second, at: t0}, read: raw, now: t0.Add(time.Hour), want: false},
		{name: "released: nothing to take over", s: seen{raw: raw, duration: time.Second, at: t0}, read: raw, now: t0.Add(time.Hour), want: false},
		{name: "nothing seen", s: seen{}, read: raw, now: t0.Add(time.Hour), want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := expired(tc.s, tc.read, "me", tc.now); got != tc.want {
				t.Errorf("expired() = %v, want %v", got, tc.want)
			}
		})
	}
}
