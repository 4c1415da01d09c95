package announcer

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/ironlb/ironlb/l2/election"
	"github.com/ironlb/ironlb/l2/iface"
	"github.com/ironlb/ironlb/l2/internal/netnstest"
)

// tWriter logs to the test.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// nsSockets opens raw-socket responders inside a test namespace.
type nsSockets struct {
	ns  *netnstest.NS
	log *slog.Logger
}

func (o nsSockets) Open(link iface.Link, proto Protocol, hooks Hooks) (r Responder, err error) {
	if derr := o.ns.Do(func() error {
		r, err = Sockets{Logger: o.log}.Open(link, proto, hooks)
		return nil
	}); derr != nil {
		return nil, derr
	}
	return r, err
}

// TestRawSockets wires an iface.Watcher to an Announcer with real
// sockets in a namespace of its own: the peer namespace resolves the
// IPs to the announcer's link; when the link loses its carrier the IPs
// are given up, and when it comes back the gratuitous announcements
// move the peer's entries to it again.
func TestRawSockets(t *testing.T) {
	const (
		macA     = "02:00:00:00:0a:03"
		macB     = "02:00:00:00:0b:03"
		staleMAC = "02:00:00:00:00:97"
	)
	a := netnstest.New(t, "ilbt-l2-ann-a")
	b := netnstest.New(t, "ilbt-l2-ann-b")
	netnstest.Veth(t, a, "va", macA, nil, b, "vb", macB, []string{"192.0.2.2/24", "2001:db8:0:1::2/64"})
	netnstest.Eventually(t, "a link-local address on va", func() bool {
		return strings.Contains(a.Exec(t, "ip", "-6", "addr", "show", "dev", "va", "scope", "link"), "fe80::")
	})
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })

	var (
		mu       sync.Mutex
		statuses = make(chan []IPStatus, 64)
	)
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ann, err := New(Config{
		Node:     node,
		Opener:   nsSockets{a, log},
		Logger:   log,
		OnStatus: func(s []IPStatus) { statuses <- s },
	})
	if err != nil {
		t.Fatal(err)
	}
	h := a.Handle()
	w, err := iface.NewWatcher(iface.Config{Namespace: &h, OnChange: ann.SetLinks})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, run := range []func(context.Context) error{ann.Run, w.Run} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil {
				mu.Lock()
				defer mu.Unlock()
				t.Errorf("Run: %v", err)
			}
		}()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })

	v4, v6 := netip.MustParseAddr("192.0.2.100"), netip.MustParseAddr("2001:db8:0:1::100")
	// veth names are excluded by default: the advertisement names va.
	ann.Update(election.Assignment{Node: node, Owned: []election.Target{
		{IP: v4, Interfaces: []string{"va"}},
		{IP: v6, Interfaces: []string{"va"}},
	}})
	waitStatus := func(what string, ok func([]IPStatus) bool) {
		t.Helper()
		netnstest.Eventually(t, what, func() bool {
			for {
				select {
				case s := <-statuses:
					if ok(s) {
						return true
					}
				default:
					return false
				}
			}
		})
	}
	announced := func(s []IPStatus) bool {
		return len(s) == 2 && len(s[0].Interfaces) == 1 && len(s[1].Interfaces) == 1
	}
	waitStatus("both IPs announced on va", announced)

	for _, ip := range []netip.Addr{v4, v6} {
		b.SendUDP(t, ip)
		netnstest.Eventually(t, "the peer resolves "+ip.String(), func() bool {
			n, ok := b.Neighbor(t, "vb", ip.String())
			return ok && n.LLAddr == macA
		})
	}

	// The peer end goes down: va loses its carrier, the IPs are given up.
	b.Exec(t, "ip", "link", "set", "vb", "down")
	waitStatus("both IPs without an interface", func(s []IPStatus) bool {
		return len(s) == 2 && len(s[0].Interfaces) == 0 && len(s[1].Interfaces) == 0
	})

	// Meanwhile the peer learns other addresses for them; the carrier
	// comes back and the announcements move the entries back.
	for _, ip := range []netip.Addr{v4, v6} {
		b.Exec(t, "ip", "neigh", "replace", ip.String(), "lladdr", staleMAC, "dev", "vb", "nud", "stale")
		if n, _ := b.Neighbor(t, "vb", ip.String()); n.LLAddr != staleMAC {
			t.Fatalf("peer entry for %s = %+v, want lladdr %s", ip, n, staleMAC)
		}
	}
	b.Exec(t, "ip", "link", "set", "vb", "up")
	waitStatus("both IPs announced on va again", announced)
	for _, ip := range []netip.Addr{v4, v6} {
		netnstest.Eventually(t, "the peer's entry for "+ip.String()+" moves back to "+macA, func() bool {
			n, ok := b.Neighbor(t, "vb", ip.String())
			return ok && n.LLAddr == macA
		})
	}
}
