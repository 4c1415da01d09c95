package e2e

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/e2e/lab"
)

// routerFRR restarts the router's FRR (ilb-rtr): the lab's supervisor
// first, then the ones it started itself.
type routerFRR struct {
	l     *lab.Lab
	proc  labProcess
	cmd   *exec.Cmd
	gone  <-chan struct{}
	owner testing.TB
}

// newRouterFRR returns a restarter of the router's FRR; the FRR it
// starts is stopped when owner ends.
func newRouterFRR(owner testing.TB, l *lab.Lab) *routerFRR {
	r := &routerFRR{l: l, owner: owner}
	owner.Cleanup(r.stopStarted)
	return r
}

// stop ends the router's FRR (SIGTERM to the supervisor, which stops
// its daemons) and waits until it is gone.
func (r *routerFRR) stop(t testing.TB) {
	t.Helper()
	if r.cmd == nil {
		r.proc = stopLabProcess(t, r.l, lab.RouterNetns+"-frr", syscall.SIGTERM)
		return
	}
	r.stopStarted()
}

func (r *routerFRR) stopStarted() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.gone:
	case <-time.After(15 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.gone
	}
	r.cmd = nil
}

// start starts the router's FRR again, with the lab's configuration,
// and waits until it has it.
func (r *routerFRR) start(t testing.TB) {
	t.Helper()
	r.cmd, r.gone = spawn(r.owner, r.proc)
	waitCond(t, "the router's FRR running its configuration", func(ctx context.Context) (bool, string) {
		out, err := r.l.RouterVtysh(ctx, "show running-config")
		return err == nil && strings.Contains(string(out), fmt.Sprintf("router bgp %d", lab.RouterAS)), fmt.Sprint(err)
	})
}

// routeTable is the router's kernel routes to Service IPs: the sorted
// next hops by IP.
type routeTable map[netip.Addr][]string

func (rt routeTable) String() string {
	var b strings.Builder
	for _, ip := range slices.SortedFunc(maps.Keys(rt), netip.Addr.Compare) {
		fmt.Fprintf(&b, "%s via %v; ", ip, rt[ip])
	}
	return b.String()
}

// routerRoutes reads the router's kernel routes to ips.
func routerRoutes(ctx context.Context, ips []netip.Addr) (routeTable, error) {
	rt := routeTable{}
	for _, ip := range ips {
		gws, err := nextHops(ctx, ip)
		if err != nil {
			return nil, err
		}
		rt[ip] = gws
	}
	return rt, nil
}

// fullECMP reports whether every route of rt has one next hop per node:
// the nodes' IPv4 addresses for IPv4, three (global or link-local) for
// IPv6.
func fullECMP(rt routeTable) bool {
	all := nodeIPv4s("ilb-n1", "ilb-n2", "ilb-n3")
	for ip, gws := range rt {
		if ip.Is4() && !slices.Equal(gws, all) || ip.Is6() && len(gws) != len(all) {
			return false
		}
	}
	return len(rt) > 0
}

// routerRestartServices makes dual-stack Services with endpoints on every
// node (ETP Cluster) and returns their IPs once the router routes each
// over every node.
func routerRestartServices(t testing.TB, l *lab.Lab, names ...string) []netip.Addr {
	t.Helper()
	var ips []netip.Addr
	for _, name := range names {
		ips = append(ips, newService(t, l, name, dualStack)...)
		if err := l.CreateEndpoints(t.Context(), "lab", name, "ilb-n1", "ilb-n2", "ilb-n3"); err != nil {
			t.Fatal(err)
		}
	}
	waitCond(t, "full ECMP to every Service", func(ctx context.Context) (bool, string) {
		rt, err := routerRoutes(ctx, ips)
		return err == nil && fullECMP(rt), fmt.Sprint(rt, err)
	})
	return ips
}

// speakerSessions returns, per node, its sessions as its SpeakerStatus
// reports them.
func speakerSessions(ctx context.Context, l *lab.Lab) (map[string][]v1beta1.BGPSession, error) {
	var list v1beta1.SpeakerStatusList
	if err := l.Kube().List(ctx, &list, client.InNamespace(lab.MetalLBNamespace)); err != nil {
		return nil, err
	}
	out := map[string][]v1beta1.BGPSession{}
	for _, st := range list.Items {
		out[st.Status.Node] = st.Status.Sessions
	}
	return out, nil
}

// sessionsUpSince reports whether every node reports its two sessions
// Established, each having come up more often than in before (nil: at
// least once).
func sessionsUpSince(now, before map[string][]v1beta1.BGPSession) (bool, string) {
	var seen []string
	ok := len(now) == len(lab.Nodes())
	for _, n := range lab.Nodes() {
		ss := now[n.Name]
		if len(ss) != 2 {
			ok = false
		}
		for _, s := range ss {
			seen = append(seen, fmt.Sprintf("%s:%s=%s/%d", n.Name, s.Peer, s.State, s.EstablishedTransitions))
			if s.State != "Established" {
				ok = false
			}
			for _, b := range before[n.Name] {
				if b.Peer == s.Peer && s.EstablishedTransitions <= b.EstablishedTransitions {
					ok = false
				}
			}
		}
	}
	return ok, strings.Join(seen, " ")
}

// TestRouterRestart stops the router's FRR and starts it again, as a
// router reboot or an FRR upgrade on it does, with BFD and graceful
// restart as the lab sets them. The router comes back with no routes:
// every session must come up again by itself, every Service route come
// back with every node as a next hop (both families), and every
// speaker's SpeakerStatus show its sessions Established again.
func TestRouterRestart(t *testing.T) {
	l := startSpeakerLab(t)
	waitSessions(t, l)
	ips := routerRestartServices(t, l, "rr-a", "rr-b")
	before, err := routerRoutes(t.Context(), ips)
	if err != nil {
		t.Fatal(err)
	}
	var sessions map[string][]v1beta1.BGPSession
	waitCond(t, "every speaker reporting its sessions Established", func(ctx context.Context) (bool, string) {
		var err error
		sessions, err = speakerSessions(ctx, l)
		if err != nil {
			return false, err.Error()
		}
		return sessionsUpSince(sessions, nil)
	})

	r := newRouterFRR(t, l)
	r.stop(t)
	waitCond(t, "the routes gone with the router's FRR", func(ctx context.Context) (bool, string) {
		rt, err := routerRoutes(ctx, ips)
		if err != nil {
			return false, err.Error()
		}
		for _, gws := range rt {
			if len(gws) > 0 {
				return false, rt.String()
			}
		}
		return true, ""
	})
	r.start(t)

	waitSessions(t, l)
	waitCond(t, "every Service route back with every node as next hop", func(ctx context.Context) (bool, string) {
		rt, err := routerRoutes(ctx, ips)
		return err == nil && fullECMP(rt), fmt.Sprint(rt, err)
	})
	after, err := routerRoutes(t.Context(), ips)
	if err != nil {
		t.Fatal(err)
	}
	// IPv6 next hops may be link-local: only their count is stable.
	for ip, gws := range before {
		if ip.Is4() && !slices.Equal(after[ip], gws) || len(after[ip]) != len(gws) {
			t.Errorf("route to %s: next hops %v before the restart, %v after", ip, gws, after[ip])
		}
	}
	waitCond(t, "every speaker reporting its sessions Established again", func(ctx context.Context) (bool, string) {
		now, err := speakerSessions(ctx, l)
		if err != nil {
			return false, err.Error()
		}
		return sessionsUpSince(now, sessions)
	})
}

// BenchmarkRouterRestart measures how long the lab takes to recover from
// a restart of the router's FRR: from the moment it is started again
// (with no routes) until the router routes every Service IP (two
// dual-stack Services: four routes) over every node again, with BFD and
// graceful restart as the lab sets them. The route is read every few
// milliseconds (one `ip route` per IP, so the time carries that much
// polling error).
//
//	go test ./e2e/ -run '^$' -bench BenchmarkRouterRestart -benchtime=5x -timeout 30m
func BenchmarkRouterRestart(b *testing.B) {
	l := startSpeakerLab(b)
	ips := routerRestartServices(b, l, "rr-a", "rr-b")
	r := newRouterFRR(b, l)
	var ds []time.Duration
	for range b.N {
		waitCond(b, "full ECMP before the restart", func(ctx context.Context) (bool, string) {
			rt, err := routerRoutes(ctx, ips)
			return err == nil && fullECMP(rt), fmt.Sprint(rt, err)
		})
		r.stop(b)
		start := time.Now()
		r.start(b)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		for {
			rt, err := routerRoutes(ctx, ips)
			if err == nil && fullECMP(rt) {
				break
			}
			if ctx.Err() != nil {
				cancel()
				b.Fatalf("no full ECMP 3 minutes after the router's restart: %v %v", rt, err)
			}
		}
		cancel()
		ds = append(ds, time.Since(start))
		b.Logf("router restart: full ECMP after %v", ds[len(ds)-1].Round(time.Millisecond))
	}
	reportPercentiles(b, "ecmp", ds)
	b.ReportMetric(0, "ns/op")
}
