package testenv

import (
	"testing"
	"time"
)

// Eventually waits for cond to hold and fails the test when it does not
// within a minute. The bound only keeps a broken component from hanging
// the test: tests assert behaviour, not speed. cond returns whether it
// holds and, when not, what it saw, for the failure message.
func Eventually(t testing.TB, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	last := ""
	for time.Now().Before(deadline) {
		ok, seen := cond()
		if ok {
			return
		}
		last = seen
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waiting for %s; last seen:\n%s", what, last)
}
