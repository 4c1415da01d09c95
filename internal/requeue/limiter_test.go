package requeue

import (
	"testing"
	"time"
)

// TestLimiterCapsDelay: a reconcile that kept failing (the API server
// away) waits at most MaxDelay; the first retries stay quick, and a
// success (Forget) starts over.
func TestLimiterCapsDelay(t *testing.T) {
	tests := []struct {
		name     string
		failures int
		want     time.Duration
	}{
		{name: "first failure", failures: 1, want: FirstDelay},
		{name: "second failure", failures: 2, want: 2 * FirstDelay},
		{name: "a minute of failures", failures: 14, want: MaxDelay},
		{name: "two minutes of failures", failures: 15, want: MaxDelay},
		{name: "many failures", failures: 40, want: MaxDelay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Limiter[string]()
			var got time.Duration
			for range tt.failures {
				got = l.When("svc")
			}
			// The bucket (100 at once) adds nothing below 100 calls.
			if got != tt.want {
				t.Errorf("delay after %d failures: got %v, want %v", tt.failures, got, tt.want)
			}
			if n := l.NumRequeues("svc"); n != tt.failures {
				t.Errorf("NumRequeues: got %d, want %d", n, tt.failures)
			}
			l.Forget("svc")
			if got := l.When("svc"); got != FirstDelay {
				t.Errorf("delay after Forget: got %v, want %v", got, FirstDelay)
			}
		})
	}
}
