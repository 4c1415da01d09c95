package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/e2e/lab"
	"github.com/ironlb/ironlb/l2/lease"
)

// TestL2Lease runs the lab's speakers with --l2-ownership=lease and
// checks, from the LAN client and the speakers' own metrics, that an IP
// is answered by its Lease holder, moves when the holder fails, and is
// never announced by two nodes at once, also while the holder's LAN
// port is off the switch (which also cuts it off from the API server:
// in the lab the speakers reach it over the LAN, at ilb-cp).
func TestL2Lease(t *testing.T) {
	l := startL2LabWith(t, "--l2-ownership=lease")
	h := newL2Harness(t, l)
	h.waitSettled(t)
	// The lab's own Layer 2 Service goes, so that the speakers'
	// announcement gauges count the test's Service alone.
	if err := l.Kube().Delete(t.Context(), &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "web-l2"}}); err != nil {
		t.Fatalf("deleting the lab's Layer 2 Service: %v", err)
	}
	ip := createL2Service(t, l, l2ServiceSpec{name: "l2-lease", endpoints: allNodes()})[0]

	t.Run("the Lease holder answers", func(t *testing.T) {
		owner := waitOwner(t, l, "l2-lease", nil)
		waitLeaseHolder(t, l, ip, owner)
		for _, n := range lab.Nodes() {
			want := 0.0
			if n.Name == owner {
				want = 1
			}
			waitAnnounces(t, n.Name, want)
		}
		waitClientReaches(t, ip, owner)
		waitNeighbor(t, ip, linkMAC(t, owner, lab.LANLink))
	})
	t.Run("SIGKILL of the holder's speaker: another node takes over once the Lease expired", func(t *testing.T) {
		old := waitOwner(t, l, "l2-lease", nil)
		w := watchAnnouncers(t)
		h.signal(t, old, syscall.SIGKILL)
		nw := waitOwner(t, l, "l2-lease", func(n string) bool { return n != old })
		waitLeaseHolder(t, l, ip, nw)
		waitNeighbor(t, ip, linkMAC(t, nw, lab.LANLink))
		waitClientReaches(t, ip, nw)
		// Back: the election ranks it first again; the stand-in releases
		// the Lease and it takes it.
		h.restart(t, old, nil)
		h.waitSettled(t)
		waitOwner(t, l, "l2-lease", func(n string) bool { return n == old })
		waitLeaseHolder(t, l, ip, old)
		waitClientReaches(t, ip, old)
		w.stop(t)
	})
	t.Run("the holder's LAN port off the switch: it goes quiet before another node answers", func(t *testing.T) {
		old := waitOwner(t, l, "l2-lease", nil)
		waitAnnounces(t, old, 1)
		w := watchAnnouncers(t)
		port := switchPort(old)
		if _, err := lab.Exec(t.Context(), lab.SwitchNetns, "ip", "link", "set", port, "nomaster"); err != nil {
			t.Fatal(err)
		}
		healed := false
		heal := func() {
			if healed {
				return
			}
			healed = true
			if _, err := lab.Exec(context.Background(), lab.SwitchNetns, "ip", "link", "set", port, "master", lab.Bridge); err != nil {
				t.Errorf("putting %s back on the bridge: %v", port, err)
			}
		}
		t.Cleanup(heal)
		// The isolated node cannot renew: it stops answering.
		waitAnnounces(t, old, 0)
		nw := waitOwner(t, l, "l2-lease", func(n string) bool { return n != old })
		waitLeaseHolder(t, l, ip, nw)
		waitClientReaches(t, ip, nw)
		heal()
		h.waitSettled(t)
		waitOwner(t, l, "l2-lease", func(n string) bool { return n == old })
		waitLeaseHolder(t, l, ip, old)
		waitClientReaches(t, ip, old)
		w.stop(t)
	})
	t.Run("the Service goes: its Lease is deleted", func(t *testing.T) {
		var svc netip.Addr
		t.Run("while it exists, its owner holds the Lease", func(t *testing.T) {
			svc = createL2Service(t, l, l2ServiceSpec{name: "l2-lease-gone", endpoints: allNodes()})[0]
			owner := waitOwner(t, l, "l2-lease-gone", nil)
			waitLeaseHolder(t, l, svc, owner)
		}) // its cleanup deletes the Service
		if !svc.IsValid() {
			t.FailNow()
		}
		l2Wait(t, "the lease of "+svc.String()+" deleted", func(ctx context.Context) (bool, string) {
			var obj coordinationv1.Lease
			err := l.Kube().Get(ctx, client.ObjectKey{Namespace: lab.MetalLBNamespace, Name: lease.Name(svc)}, &obj)
			return err != nil && client.IgnoreNotFound(err) == nil, fmt.Sprint(err)
		})
	})
}

// waitLeaseHolder waits until the Lease of ip names node as holder.
func waitLeaseHolder(tb testing.TB, l *lab.Lab, ip netip.Addr, node string) {
	tb.Helper()
	l2Wait(tb, "the lease of "+ip.String()+" held by "+node, func(ctx context.Context) (bool, string) {
		var obj coordinationv1.Lease
		if err := l.Kube().Get(ctx, client.ObjectKey{Namespace: lab.MetalLBNamespace, Name: lease.Name(ip)}, &obj); err != nil {
			return false, err.Error()
		}
		if obj.Spec.HolderIdentity == nil {
			return false, "no holder"
		}
		return *obj.Spec.HolderIdentity == node, *obj.Spec.HolderIdentity
	})
}

// announced reads how many IPv4 Service IPs a node's speaker answers
// ARP for on the LAN link.
func announced(ctx context.Context, node string) (float64, error) {
	body, err := lab.HTTPGet(ctx, node, "http://127.0.0.1:7474/metrics")
	if err != nil {
		return 0, err
	}
	want := fmt.Sprintf(`ironlb_l2_announced_ips{iface=%q,protocol="arp"} `, lab.LANLink)
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, want); ok {
			var f float64
			_, err := fmt.Sscan(v, &f)
			return f, err
		}
	}
	return 0, nil // no responder on the link
}

// waitAnnounces waits until a node answers ARP for n IPs.
func waitAnnounces(tb testing.TB, node string, n float64) {
	tb.Helper()
	l2Wait(tb, fmt.Sprintf("%s answering ARP for %v IPs", node, n), func(ctx context.Context) (bool, string) {
		v, err := announced(ctx, node)
		return err == nil && v == n, fmt.Sprintf("%v, %v", v, err)
	})
}

// announcerWatch reads every node's announced IPs at once, again and
// again, and records every round in which two nodes answered at the
// same time. The test's only Service holds one IPv4 address.
type announcerWatch struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	rounds int
	both   []string
}

func watchAnnouncers(tb testing.TB) *announcerWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &announcerWatch{cancel: cancel, done: make(chan struct{})}
	tb.Cleanup(func() { cancel(); <-w.done })
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			var (
				wg  sync.WaitGroup
				mu  sync.Mutex
				yes []string
			)
			for _, n := range lab.Nodes() {
				wg.Go(func() {
					rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
					defer cancel()
					if v, err := announced(rctx, n.Name); err == nil && v > 0 {
						mu.Lock()
						yes = append(yes, n.Name)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			w.mu.Lock()
			w.rounds++
			if len(yes) > 1 {
				w.both = append(w.both, fmt.Sprintf("%s: %v", time.Now().Format("15:04:05.000"), yes))
			}
			w.mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return w
}

// stop ends the watch and fails tb if two nodes ever answered at once.
func (w *announcerWatch) stop(tb testing.TB) {
	tb.Helper()
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	tb.Logf("%d rounds of reading every speaker's announcements", w.rounds)
	if len(w.both) > 0 {
		tb.Errorf("two nodes answered ARP for the IP at once in %d of %d rounds: %v", len(w.both), w.rounds, w.both)
	}
}
