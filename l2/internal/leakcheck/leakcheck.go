package leakcheck

import (
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// Check records the goroutines running now and, when the test ends,
// fails it if others are still running after a grace period. Do not use
// it in parallel tests.
func Check(t testing.TB) {
	t.Helper()
	check(t, 5*time.Second)
}

func check(t testing.TB, grace time.Duration) {
	before := ids(stacks())
	t.Cleanup(func() {
		var leaked []string
		deadline := time.Now().Add(grace)
		for {
			leaked = leaked[:0]
			for _, g := range stacks() {
				if !slices.Contains(before, id(g)) && !ignored(g) {
					leaked = append(leaked, g)
				}
			}
			if len(leaked) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(leaked) > 0 {
			t.Errorf("%d goroutines leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	})
}

// stacks returns the stack of every goroutine but the calling one.
func stacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	all := strings.Split(strings.TrimSpace(string(buf)), "\n\n")
	return all[1:] // the first is the caller
}

func id(stack string) string {
	first, _, _ := strings.Cut(stack, " [")
	return first
}

func ids(all []string) []string {
	out := make([]string, len(all))
	for i, g := range all {
		out[i] = id(g)
	}
	return out
}

// ignored are goroutines that the test framework or the runtime
// started.
func ignored(stack string) bool {
	_, creator, ok := strings.Cut(stack, "\ncreated by ")
	return ok && (strings.HasPrefix(creator, "testing.") || strings.HasPrefix(creator, "runtime."))
}
