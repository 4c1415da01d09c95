package leakcheck

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// recorder is a testing.TB that keeps cleanups and errors.
type recorder struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Cleanup(f func())          { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(f string, a ...any) { r.errors = append(r.errors, fmt.Sprintf(f, a...)) }

func (r *recorder) end() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func leaky(stop chan struct{}) { <-stop }

func TestCheck(t *testing.T) {
	r := &recorder{TB: t}
	check(r, 50*time.Millisecond)
	stop := make(chan struct{})
	go leaky(stop)
	r.end()
	close(stop)
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "leakcheck.leaky") {
		t.Errorf("errors = %q, want one naming leakcheck.leaky", r.errors)
	}

	r = &recorder{TB: t}
	check(r, 5*time.Second)
	done := make(chan struct{})
	go func() { close(done) }()
	<-done
	r.end()
	if len(r.errors) != 0 {
		t.Errorf("errors = %q, want none", r.errors)
	}
}
