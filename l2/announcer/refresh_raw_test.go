package announcer

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mdlayher/arp"

	"github.com/ironlb/ironlb/l2/election"
	"github.com/ironlb/ironlb/l2/iface"
	"github.com/ironlb/ironlb/l2/internal/netnstest"
)

// arpCounter counts the gratuitous ARPs for one IP that a peer receives
// on one link.
type arpCounter struct {
	mu sync.Mutex
	n  int
}

func (c *arpCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// countGratuitous reads the ARP packets arriving on dev in ns until the
// test ends, counting those that announce ip (sender and target ip).
func countGratuitous(t *testing.T, ns *netnstest.NS, dev string, ip netip.Addr) *arpCounter {
	t.Helper()
	ifi := ns.Interface(t, dev)
	var c *arp.Client
	if err := ns.Do(func() error {
		var err error
		c, err = arp.Dial(ifi)
		return err
	}); err != nil {
		t.Fatalf("listening for ARP on %s: %v", dev, err)
	}
	out := &arpCounter{}
	var closed atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			p, _, err := c.Read()
			if err != nil {
				if closed.Load() || errors.Is(err, net.ErrClosed) {
					return
				}
				continue // not an ARP packet arp can parse
			}
			if p.SenderIP == ip && p.TargetIP == ip {
				out.mu.Lock()
				out.n++
				out.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		closed.Store(true)
		c.Close()
		<-done
	})
	return out
}

// TestRawSocketsRefreshAndExcludeNames announces an IP on two links of
// a namespace with real sockets: the peer keeps receiving gratuitous
// ARPs on the first at the Refresh interval, after a one-packet burst,
// and none on the second, whose name ExcludeNames matches although the
// assignment names it.
func TestRawSocketsRefreshAndExcludeNames(t *testing.T) {
	a := netnstest.New(t, "ilbt-l2-ref-a")
	b := netnstest.New(t, "ilbt-l2-ref-b")
	netnstest.Veth(t, a, "va", "02:00:00:00:0a:05", nil, b, "vb", "02:00:00:00:0b:05", []string{"192.0.2.2/24"})
	netnstest.Veth(t, a, "vx", "02:00:00:00:0a:06", nil, b, "vy", "02:00:00:00:0b:06", []string{"198.51.100.2/24"})
	ip := netip.MustParseAddr("192.0.2.100")
	onVB := countGratuitous(t, b, "vb", ip)
	onVY := countGratuitous(t, b, "vy", ip)

	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	statuses := make(chan []IPStatus, 64)
	ann, err := New(Config{
		Node:         node,
		Opener:       nsSockets{a, log},
		Logger:       log,
		Exclude:      []string{},
		ExcludeNames: []*regexp.Regexp{regexp.MustCompile("x")},
		Burst:        []time.Duration{0},
		Refresh:      100 * time.Millisecond,
		OnStatus:     func(s []IPStatus) { statuses <- s },
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
	errs := make(chan error, 2)
	for _, run := range []func(context.Context) error{ann.Run, w.Run} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil {
				errs <- err
			}
		}()
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("Run: %v", err)
		}
	})

	ann.Update(election.Assignment{Node: node, Owned: []election.Target{{IP: ip, Interfaces: []string{"va", "vx"}}}})
	var last []IPStatus
	netnstest.Eventually(t, "the IP announced on va", func() bool {
		for {
			select {
			case last = <-statuses:
			default:
				return len(last) == 1 && len(last[0].Interfaces) == 1 && last[0].Interfaces[0] == "va"
			}
		}
	})
	// One packet is the burst; every further one is a refresh.
	netnstest.Eventually(t, "five gratuitous ARPs on vb", func() bool { return onVB.count() >= 5 })
	if n := onVY.count(); n != 0 {
		t.Errorf("the peer got %d gratuitous ARPs on vy, the link of the excluded vx; want 0", n)
	}
	if got := ann.Status(); len(got) != 1 || len(got[0].Interfaces) != 1 || got[0].Interfaces[0] != "va" {
		t.Errorf("status %+v, want the IP on va only", got)
	}
}
