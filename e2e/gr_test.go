package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/e2e/lab"
	"github.com/ironlb/ironlb/frr/vtyshjson"
)

// hopWatch samples the router's kernel route to one IP until stopped and
// counts the samples that lack a next hop.
type hopWatch struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	samples int
	missing []string // what a sample without the hop saw
}

// watchHop polls the router's kernel route to ip every 20 ms and records
// every sample in which gw is not a next hop.
func watchHop(t *testing.T, ip netip.Addr, gw string) *hopWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &hopWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			gws, err := nextHops(ctx, ip)
			if ctx.Err() != nil {
				return
			}
			w.mu.Lock()
			w.samples++
			if err != nil || !slices.Contains(gws, gw) {
				w.missing = append(w.missing, fmt.Sprintf("%s %v %v", time.Now().Format("15:04:05.000"), gws, err))
			}
			w.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { w.stop() })
	return w
}

// stop ends the watch and returns the number of samples and the ones
// without the hop.
func (w *hopWatch) stop() (int, []string) {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.samples, w.missing
}

// routerNeighbor returns the router's view of one neighbor.
func routerNeighbor(ctx context.Context, l *lab.Lab, addr string) (vtyshjson.BGPNeighbor, error) {
	ns, err := routerNeighbors(ctx, l)
	if err != nil {
		return vtyshjson.BGPNeighbor{}, err
	}
	for _, n := range ns {
		if n.Address == addr {
			return n, nil
		}
	}
	return vtyshjson.BGPNeighbor{}, fmt.Errorf("router has no neighbor %s", addr)
}

// stalePaths returns, per next hop, whether the router holds its path to
// prefix as stale (graceful restart helper keeping a restarting peer's
// routes).
func stalePaths(ctx context.Context, l *lab.Lab, prefix netip.Prefix) (map[string]bool, error) {
	out, err := l.RouterVtysh(ctx, fmt.Sprintf("show bgp ipv4 unicast %s json", prefix))
	if err != nil {
		return nil, err
	}
	var route struct {
		Paths []struct {
			Stale    bool `json:"stale"`
			Nexthops []struct {
				IP string `json:"ip"`
			} `json:"nexthops"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(out, &route); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", prefix, err)
	}
	m := map[string]bool{}
	for _, p := range route.Paths {
		for _, nh := range p.Nexthops {
			m[nh.IP] = p.Stale
		}
	}
	return m, nil
}

// testGracefulRestart restarts ilb-n1's speaker, then its bgpd, while
// the router's kernel route to a Service is watched: the next hop of
// ilb-n1 must never leave it. The lab's peers enable graceful restart;
// the router (FRR) is a graceful restart helper by default.
func testGracefulRestart(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	ip, all := serviceOnAllNodes(t, l, "gr")
	n1, _ := lab.NodeByName("ilb-n1")
	peer := n1.IPv4.String()
	waitCond(t, "BFD up to ilb-n1", func(ctx context.Context) (bool, string) {
		st, err := routerBFD(ctx, l, peer)
		return err == nil && st == "up", fmt.Sprint(st, err)
	})
	before, err := routerNeighbor(ctx, l, peer)
	if err != nil {
		t.Fatal(err)
	}

	// The harness belongs to the whole test: the speaker it restarts must
	// outlive the first subtest (its cleanup stops that speaker).
	h := newL2Harness(t, l)
	prefix := netip.PrefixFrom(ip, 32)
	t.Run("speaker killed and started again: session and routes untouched", func(t *testing.T) {
		w := watchHop(t, ip, peer)
		rib := watchRIB(t, l, prefix, peer)
		updates := followUpdates(t, l)
		h.signal(t, "ilb-n1", syscall.SIGKILL)
		h.restart(t, "ilb-n1", nil)
		// The gauge is set after each apply; a new process starts at 0.
		waitCond(t, "the restarted speaker's first apply", func(ctx context.Context) (bool, string) {
			v, err := metric(ctx, "ilb-n1", "ironlb_speaker_bgp_services_announced")
			return err == nil && v > 0, fmt.Sprint(v, err)
		})
		samples, missing := w.stop()
		if len(missing) > 0 {
			t.Errorf("%d of %d samples of the router's route lacked %s: %v", len(missing), samples, peer, missing)
		}
		after, err := routerNeighbor(ctx, l, peer)
		if err != nil {
			t.Fatal(err)
		}
		if after.ConnectionsEstablished != before.ConnectionsEstablished || after.ConnectionsDropped != before.ConnectionsDropped {
			t.Errorf("neighbor %s: established/dropped %d/%d before, %d/%d after the speaker restart: the session was reset",
				peer, before.ConnectionsEstablished, before.ConnectionsDropped, after.ConnectionsEstablished, after.ConnectionsDropped)
		}
		checkKept(t, rib, updates, peer, prefix, false)
		t.Logf("speaker restart: %d samples of the route, none without %s", samples, peer)
	})

	t.Run("bgpd killed and respawned: the router keeps the routes through graceful restart", func(t *testing.T) {
		// FRR 8.4's bfdd drops a BFD session when the bgpd that asked
		// for it dies, and the router then ends the BGP session at once
		// (unless it runs `bfd check-control-plane-failure`, which makes
		// it ignore BFD for every graceful-restart peer). So the peers
		// run without BFD here: graceful restart alone is under test.
		setPeersBFD(t, l, "")
		t.Cleanup(func() { setPeersBFD(t, l, "lab") })
		// The router keeps BFD on its side: each node's session goes
		// down when the node stops answering BFD, which may reset its BGP
		// session. Wait until that happened on every node (no BFD session
		// up at the router) and every session is back with its path, so
		// that only the bgpd kill below touches the route.
		var base vtyshjson.BGPNeighbor
		waitCond(t, "every session up without BFD and the route via all three", func(ctx context.Context) (bool, string) {
			for _, hop := range all {
				st, err := routerBFD(ctx, l, hop)
				if err == nil && st == "up" {
					return false, "BFD still up to " + hop
				}
				n, err := routerNeighbor(ctx, l, hop)
				if err != nil {
					return false, err.Error()
				}
				if !n.Established() {
					return false, fmt.Sprintf("%s: state %s", hop, n.State)
				}
				if hop == peer {
					base = n
				}
			}
			gws, err := nextHops(ctx, ip)
			return err == nil && slices.Equal(gws, all), fmt.Sprintf("hops %v %v", gws, err)
		})
		w := watchHop(t, ip, peer)
		rib := watchRIB(t, l, prefix, peer)
		updates := followUpdates(t, l)
		pidFile := "/var/run/frr/ilb-n1/bgpd.pid"
		raw, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil {
			t.Fatalf("%s: %v", pidFile, err)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("killing ilb-n1's bgpd: %v", err)
		}
		sawStale := false
		waitCond(t, "a new session with ilb-n1 and its path fresh again", func(ctx context.Context) (bool, string) {
			n, err := routerNeighbor(ctx, l, peer)
			if err != nil {
				return false, err.Error()
			}
			stale, err := stalePaths(ctx, l, prefix)
			if err != nil {
				return false, err.Error()
			}
			sawStale = sawStale || stale[peer]
			isStale, present := stale[peer]
			return n.Established() && n.ConnectionsEstablished > base.ConnectionsEstablished && present && !isStale,
				fmt.Sprintf("state %s, established %d (was %d), stale by next hop %v", n.State, n.ConnectionsEstablished, base.ConnectionsEstablished, stale)
		})
		samples, missing := w.stop()
		if len(missing) > 0 {
			t.Errorf("%d of %d samples of the router's route lacked %s during the restart: %v", len(missing), samples, peer, missing)
		}
		checkKept(t, rib, updates, peer, prefix, true)
		t.Logf("bgpd restart: %d samples of the route, none without %s; stale path seen: %v", samples, peer, sawStale)
	})
}

// checkKept stops rib and checks, from its samples of the router's BGP
// table and from the updates the router received, that the path via
// peer to prefix was never withdrawn nor absent. With restarted, the
// peer's BGP restarted: the router must have kept the path as stale
// (graceful restart) and then received it again; without, the session
// was untouched, so the path must never have been stale.
func checkKept(t *testing.T, rib *ribWatch, updates *updateLog, peer string, prefix netip.Prefix, restarted bool) {
	t.Helper()
	samples, absent, stale := rib.stop()
	if len(absent) > 0 {
		t.Errorf("%d of %d samples of the router's BGP table lacked the path via %s to %s: %v", len(absent), samples, peer, prefix, absent)
	}
	announced, withdrawn := updates.about(t, peer, prefix)
	if len(withdrawn) > 0 {
		t.Errorf("the router received withdrawals of %s from %s: %v", prefix, peer, withdrawn)
	}
	switch {
	case restarted && stale == 0:
		t.Errorf("no sample of %d saw the path via %s stale: graceful restart did not keep it", samples, peer)
	case restarted && len(announced) == 0:
		t.Errorf("the router logged no update about %s from %s after the restart (is the update log working?)", prefix, peer)
	case !restarted && stale > 0:
		t.Errorf("%d of %d samples saw the path via %s stale: the session was reset", stale, samples, peer)
	}
	t.Logf("router's BGP table: %d samples, %d stale, %d without the path via %s; updates from it about %s: %d, withdrawals: %d", samples, stale, len(absent), peer, prefix, len(announced), len(withdrawn))
}

// setPeersBFD sets the BFD profile of the lab's two router peers.
func setPeersBFD(t *testing.T, l *lab.Lab, profile string) {
	t.Helper()
	for _, name := range []string{"router-v4", "router-v6"} {
		var p v1beta2.BGPPeer
		key := client.ObjectKey{Namespace: lab.MetalLBNamespace, Name: name}
		if err := l.Kube().Get(context.Background(), key, &p); err != nil {
			t.Fatalf("reading BGPPeer %s: %v", name, err)
		}
		p.Spec.BFDProfile = profile
		if err := l.Kube().Update(context.Background(), &p); err != nil {
			t.Fatalf("setting the BFD profile of BGPPeer %s: %v", name, err)
		}
	}
}
