package iface

import (
	"context"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/ironlb/ironlb/l2/internal/netnstest"
)

// latest keeps the last list a Watcher reported.
type latest struct {
	mu    sync.Mutex
	links []Link
	calls int
}

func (l *latest) set(links []Link) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.links, l.calls = links, l.calls+1
}

func (l *latest) get(name string) (Link, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range l.links {
		if k.Name == name {
			return k, true
		}
	}
	return Link{}, false
}

func TestNewWatcherErrors(t *testing.T) {
	if _, err := NewWatcher(Config{}); err == nil {
		t.Error("NewWatcher without OnChange: no error")
	}
	if _, err := NewWatcher(Config{OnChange: func([]Link) {}, Rescan: -1}); err == nil {
		t.Error("NewWatcher with a negative Rescan: no error")
	}
}

// TestWatcher follows links in a namespace of its own: carrier loss,
// enslaving and deletion are reported without a rescan.
func TestWatcher(t *testing.T) {
	ns := netnstest.New(t, "ilbt-l2-iface")
	ns.Exec(t, "ip", "link", "add", "vA", "address", "02:00:00:00:01:0a", "type", "veth", "peer", "name", "vB")
	ns.Exec(t, "ip", "link", "set", "vA", "up")
	ns.Exec(t, "ip", "link", "set", "vB", "up")
	ns.Exec(t, "ip", "link", "add", "vC", "type", "veth", "peer", "name", "vD")
	ns.Exec(t, "ip", "link", "set", "vD", "up")
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })

	var got latest
	h := ns.Handle()
	// A rescan interval far beyond the test: changes must come from the
	// subscription.
	w, err := NewWatcher(Config{OnChange: got.set, Namespace: &h, Rescan: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	usable := func(name string) func() bool {
		return func() bool {
			l, ok := got.get(name)
			return ok && Check(l, []string{name}, nil) == Usable
		}
	}
	reason := func(name string, want Reason) func() bool {
		return func() bool {
			l, ok := got.get(name)
			return ok && Check(l, []string{name}, nil) == want
		}
	}
	netnstest.Eventually(t, "vA usable", usable("vA"))
	netnstest.Eventually(t, "vC reported down", reason("vC", Down))

	ns.Exec(t, "ip", "link", "set", "vB", "down")
	netnstest.Eventually(t, "vA loses its carrier", reason("vA", NoCarrier))
	ns.Exec(t, "ip", "link", "set", "vB", "up")
	netnstest.Eventually(t, "vA gets its carrier back", usable("vA"))

	ns.Exec(t, "ip", "link", "set", "vC", "up")
	netnstest.Eventually(t, "vC usable", usable("vC"))
	ns.Exec(t, "ip", "link", "add", "br0", "type", "bridge")
	ns.Exec(t, "ip", "link", "set", "vC", "master", "br0")
	netnstest.Eventually(t, "vC enslaved", reason("vC", Enslaved))

	ns.Exec(t, "ip", "link", "del", "vA")
	netnstest.Eventually(t, "vA gone", func() bool { _, ok := got.get("vA"); return !ok })
}
