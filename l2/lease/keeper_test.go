package lease

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/internal/testenv"
	"github.com/ironlb/ironlb/l2/election"
)

// answers records which nodes answer for which IP, as the keepers apply
// them, and fails the test when two answer for one IP at once.
type answers struct {
	t  *testing.T
	mu sync.Mutex
	by map[netip.Addr]map[string]bool
	// log lists every change, "node+ip" or "node-ip".
	log []string
}

func (a *answers) apply(node string) func(election.Assignment) {
	return func(as election.Assignment) {
		a.mu.Lock()
		defer a.mu.Unlock()
		now := map[netip.Addr]bool{}
		for _, t := range as.Owned {
			now[t.IP] = true
		}
		for ip, nodes := range a.by {
			if nodes[node] && !now[ip] {
				delete(nodes, node)
				a.log = append(a.log, node+"-"+ip.String())
			}
		}
		for ip := range now {
			if a.by[ip] == nil {
				a.by[ip] = map[string]bool{}
			}
			if !a.by[ip][node] {
				a.by[ip][node] = true
				a.log = append(a.log, node+"+"+ip.String())
			}
			if len(a.by[ip]) > 1 {
				a.t.Errorf("two nodes answer for %s at once: %v (changes: %v)", ip, a.by[ip], a.log)
			}
		}
	}
}

func (a *answers) holder(ip netip.Addr) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for n := range a.by[ip] {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// cut is a Store that fails every call while it is cut, as for a node
// that cannot reach the API server.
type cut struct {
	Store
	off atomic.Bool
}

var errCut = errors.New("api server unreachable")

func (c *cut) err() error {
	if c.off.Load() {
		return errCut
	}
	return nil
}
func (c *cut) Get(ctx context.Context, ip netip.Addr) (Record, error) {
	if err := c.err(); err != nil {
		return Record{}, err
	}
	return c.Store.Get(ctx, ip)
}
func (c *cut) Acquire(ctx context.Context, ip netip.Addr, last Record) (Record, error) {
	if err := c.err(); err != nil {
		return Record{}, err
	}
	return c.Store.Acquire(ctx, ip, last)
}
func (c *cut) Renew(ctx context.Context, ip netip.Addr, last Record) (Record, error) {
	if err := c.err(); err != nil {
		return Record{}, err
	}
	return c.Store.Renew(ctx, ip, last)
}
func (c *cut) Release(ctx context.Context, ip netip.Addr, last Record) (Record, error) {
	if err := c.err(); err != nil {
		return Record{}, err
	}
	return c.Store.Release(ctx, ip, last)
}

// TestKeeper runs two nodes' keepers against a real API server and
// checks that one IP is never answered for by both: a planned move
// (release), a holder cut off from the API server while both are
// elected (expiry takeover), and the IP's Service going away (cleanup).
func TestKeeper(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	const ns = "ironlb-keeper"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	tm := Timing{Duration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 200 * time.Millisecond}
	ip := netip.MustParseAddr("192.0.2.10")
	rec := &answers{t: t, by: map[netip.Addr]map[string]bool{}}
	type node struct {
		k     *Keeper
		store *cut
	}
	start := func(name string) node {
		store := &cut{Store: &Client{Reader: env.Client, Writer: env.Client, Namespace: ns, Node: name, Duration: tm.Duration}}
		k, err := NewKeeper(KeeperConfig{
			Node: name, Store: store, Timing: tm, Apply: rec.apply(name),
			// The announcer stops at once here.
			Announcing: func() []netip.Addr { return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = k.Run(runCtx) }()
		t.Cleanup(func() { cancel(); <-done })
		return node{k: k, store: store}
	}
	n1, n2 := start("n1"), start("n2")
	elect := func(n node, name string, on bool) {
		as := election.Assignment{Node: name}
		if on {
			as.Owned = []election.Target{{IP: ip}}
		}
		n.k.Update(as, []netip.Addr{ip})
	}
	waitHolder := func(want string) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for !slices.Equal(rec.holder(ip), []string{want}) {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s to answer for %s; answering: %v", want, ip, rec.holder(ip))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	elect(n1, "n1", true)
	elect(n2, "n2", false)
	waitHolder("n1")

	// Planned move: n1 releases, n2 takes it.
	elect(n2, "n2", true)
	elect(n1, "n1", false)
	waitHolder("n2")
	if n1.k.Releasing() {
		t.Errorf("n1 still has a lease to release after n2 took it")
	}

	// n2 is cut off from the API server while both are elected (a
	// partitioned LAN): n2 stops answering, n1 takes over after expiry.
	n2.store.off.Store(true)
	elect(n1, "n1", true)
	waitHolder("n1")
	n2.store.off.Store(false)

	// n2 is back and still elected, but n1 holds it; the election then
	// moves it to n2 again.
	elect(n1, "n1", false)
	waitHolder("n2")

	// The Service goes: n2 stops answering and the Lease is deleted.
	n1.k.Update(election.Assignment{Node: "n1"}, []netip.Addr{})
	n2.k.Update(election.Assignment{Node: "n2"}, []netip.Addr{})
	deadline := time.Now().Add(time.Minute)
	for {
		var l coordinationv1.Lease
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: Name(ip)}, &l)
		if err != nil && client.IgnoreNotFound(err) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the lease of a gone IP is still there (%v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := rec.holder(ip); len(got) != 0 {
		t.Errorf("nodes answering for a gone IP: %v", got)
	}
}
