package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// probe is one HTTP request of a prober.
type probe struct {
	sent time.Time
	// node answered; "" when the probe got no answer.
	node string
	err  error
}

// reset reports a probe whose connection a node reset: its packets
// went to another node half way, as the IP moved. The IP was reachable.
func (p probe) reset() bool { return errors.Is(p.err, syscall.ECONNRESET) }

// prober sends an HTTP request on a new connection from a namespace
// every interval, each with a deadline, and records who answered.
type prober struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	probes []probe
}

// proberWorkers bounds the requests in flight: interval 10ms with a 1s
// deadline needs 100.
const proberWorkers = 128

// startProber starts probing url from the namespace ns.
func startProber(tb testing.TB, ns, url string, interval, deadline time.Duration) *prober {
	tb.Helper()
	host := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	h, err := netns.GetFromName(ns)
	if err != nil {
		tb.Fatalf("opening netns %s: %v", ns, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &prober{cancel: cancel}
	jobs := make(chan time.Time, proberWorkers)
	ready := make(chan error, proberWorkers)
	for range proberWorkers {
		p.wg.Go(func() { p.worker(ctx, h, host, deadline, jobs, ready) })
	}
	for range proberWorkers {
		if err := <-ready; err != nil {
			cancel()
			p.wg.Wait()
			h.Close()
			tb.Fatalf("prober: %v", err)
		}
	}
	h.Close()
	p.wg.Go(func() {
		defer close(jobs)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				select {
				case jobs <- now:
				default:
					p.record(probe{sent: now, err: errors.New("no free worker")})
				}
			}
		}
	})
	return p
}

func (p *prober) record(r probe) {
	p.mu.Lock()
	p.probes = append(p.probes, r)
	p.mu.Unlock()
}

// worker runs on an OS thread of its own inside the namespace, so that
// its sockets are made there.
func (p *prober) worker(ctx context.Context, h netns.NsHandle, host string, deadline time.Duration, jobs <-chan time.Time, ready chan<- error) {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		ready <- err
		return
	}
	defer orig.Close()
	if err := netns.Set(h); err != nil {
		runtime.UnlockOSThread()
		ready <- err
		return
	}
	ready <- nil
	for sent := range jobs {
		if ctx.Err() != nil {
			continue // drain
		}
		node, err := probeOnce(host, sent.Add(deadline))
		p.record(probe{sent: sent, node: node, err: err})
	}
	if netns.Set(orig) == nil {
		runtime.UnlockOSThread()
	} // otherwise the thread ends with the goroutine
}

// probeOnce makes one request on a new connection and returns the body.
func probeOnce(host string, deadline time.Time) (string, error) {
	d := net.Dialer{Deadline: deadline}
	c, err := d.Dial("tcp", host)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(deadline)
	if _, err := io.WriteString(c, "GET / HTTP/1.0\r\nHost: "+host+"\r\n\r\n"); err != nil {
		return "", err
	}
	resp, err := io.ReadAll(c)
	if err != nil {
		return "", err
	}
	_, body, ok := bytes.Cut(resp, []byte("\r\n\r\n"))
	if !ok || !bytes.HasPrefix(resp, []byte("HTTP/1.")) || !bytes.Contains(resp[:bytes.IndexByte(resp, '\n')+1], []byte(" 200 ")) {
		return "", fmt.Errorf("bad answer %q", resp)
	}
	return strings.TrimSpace(string(body)), nil
}

// stop ends probing and returns the probes sorted by sending time.
func (p *prober) stop() []probe {
	p.cancel()
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	slices.SortFunc(p.probes, func(a, b probe) int { return a.sent.Compare(b.sent) })
	return slices.Clone(p.probes)
}

// answers returns the probes so far, unsorted.
func (p *prober) answers() []probe {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.probes)
}

// waitAnsweredBy waits until the last n probes were all answered by
// node.
func (p *prober) waitAnsweredBy(tb testing.TB, node string, n int) {
	tb.Helper()
	l2Wait(tb, fmt.Sprintf("%d probes in a row answered by %s", n, node), func(context.Context) (bool, string) {
		got := p.answers()
		slices.SortFunc(got, func(a, b probe) int { return a.sent.Compare(b.sent) })
		if len(got) < n {
			return false, fmt.Sprintf("%d probes", len(got))
		}
		for _, r := range got[len(got)-n:] {
			if r.node != node {
				return false, fmt.Sprintf("%q (%v)", r.node, r.err)
			}
		}
		return true, ""
	})
}

// failover sums up probes around a change of owner.
type failover struct {
	// lost probes got no answer at all; reset ones were cut off as the
	// IP moved under a connection.
	lost, reset int
	// gap is from the last probe the old owner answered to the first
	// the new one answered, by sending time.
	gap time.Duration
	// takeover is from the event to the first probe the new owner
	// answered.
	takeover time.Duration
	// firstErr is the error of the first lost probe.
	firstErr error
}

func summarize(probes []probe, oldOwner, newOwner string, event time.Time) (failover, error) {
	var (
		f                 failover
		lastOld, firstNew time.Time
	)
	for _, r := range probes {
		switch r.node {
		case oldOwner:
			if firstNew.IsZero() {
				lastOld = r.sent
			}
		case newOwner:
			if firstNew.IsZero() {
				firstNew = r.sent
			}
		case "":
			if r.reset() {
				f.reset++
				continue
			}
			f.lost++
			if f.firstErr == nil {
				f.firstErr = r.err
			}
		default:
			return f, fmt.Errorf("probe sent at %s answered by %q, neither %s nor %s", r.sent.Format(time.StampMicro), r.node, oldOwner, newOwner)
		}
	}
	if lastOld.IsZero() || firstNew.IsZero() {
		return f, fmt.Errorf("no answer from the old owner %s (%v) or the new one %s (%v)", oldOwner, lastOld, newOwner, firstNew)
	}
	f.gap = firstNew.Sub(lastOld)
	f.takeover = firstNew.Sub(event)
	return f, nil
}
