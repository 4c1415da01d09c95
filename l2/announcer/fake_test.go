package announcer

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/ironlb/ironlb/l2/iface"
)

// fakeResponder records what the Announcer asks of it. Its times are
// those of the synctest bubble.
type fakeResponder struct {
	name  string // "eth0/arp"
	hooks Hooks
	fail  chan error // Run returns what is sent here

	mu        sync.Mutex
	owned     []netip.Addr
	announced []announcement
	running   bool
}

type announcement struct {
	IP netip.Addr
	At time.Duration // since the test's start
}

func (r *fakeResponder) Run(ctx context.Context) error {
	r.mu.Lock()
	r.running = true
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running = false
		r.mu.Unlock()
	}()
	select {
	case <-ctx.Done():
		return nil
	case err := <-r.fail:
		return err
	}
}

func (r *fakeResponder) SetOwned(ips []netip.Addr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.owned = slices.Clone(ips)
	return nil
}

func (r *fakeResponder) Announce(ip netip.Addr) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.announced = append(r.announced, announcement{IP: ip, At: time.Since(epoch)})
	return nil
}

// epoch is where the synctest clock starts.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func (r *fakeResponder) takeAnnounced() []announcement {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.announced
	r.announced = nil
	return a
}

// fakeOpener opens fakeResponders and keeps them by "iface/protocol".
type fakeOpener struct {
	mu sync.Mutex
	// opened lists every responder ever opened, in order.
	opened []*fakeResponder
	// failures makes the next n opens of a name fail.
	failures map[string]int
}

func newFakeOpener() *fakeOpener { return &fakeOpener{failures: map[string]int{}} }

func (o *fakeOpener) Open(link iface.Link, proto Protocol, hooks Hooks) (Responder, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	name := link.Name + "/" + string(proto)
	if o.failures[name] > 0 {
		o.failures[name]--
		return nil, errors.New("operation not permitted")
	}
	r := &fakeResponder{name: name, hooks: hooks, fail: make(chan error, 1)}
	o.opened = append(o.opened, r)
	return r, nil
}

// live returns the running responders: name -> owned IPs.
func (o *fakeOpener) live() map[string][]string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string][]string{}
	for _, r := range o.opened {
		r.mu.Lock()
		if r.running {
			var ips []string
			for _, ip := range r.owned {
				ips = append(ips, ip.String())
			}
			out[r.name] = ips
		}
		r.mu.Unlock()
	}
	return out
}

// current returns the last responder opened under a name.
func (o *fakeOpener) current(name string) *fakeResponder {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := len(o.opened) - 1; i >= 0; i-- {
		if o.opened[i].name == name {
			return o.opened[i]
		}
	}
	panic(fmt.Sprintf("no responder %s was opened", name))
}

func (o *fakeOpener) opens(name string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, r := range o.opened {
		if r.name == name {
			n++
		}
	}
	return n
}
