package e2e

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/ironlb/ironlb/e2e/lab"
)

// Outages of TestControlPlaneFaults. Issue 13 asks for two minutes
// without the API server; etcd is restarted under a running API server.
const (
	apiServerOutage = 2 * time.Minute
	etcdOutage      = 30 * time.Second
)

// TestControlPlaneFaults takes the control plane away under a working
// data plane, with a client probing a BGP Service from ilb-cli and one
// probing a Layer 2 Service from ilb-lcli throughout: the API server
// stopped, etcd restarted under the API server, the speakers cut off
// from a running API server, and watches that expire (410 Gone) so that
// everyone lists again. No route and no session may
// be lost, no Service IP may move, no process may restart, and a Layer 2
// failover during the outage still happens. It logs the longest outage
// each client saw (BENCHMARKS.md).
func TestControlPlaneFaults(t *testing.T) {
	l := startL2Lab(t)
	h := newL2Harness(t, l)
	waitSessions(t, l)
	h.waitSettled(t)

	bgpIP, all := serviceOnAllNodes(t, l, "cp-bgp")
	l2IP := createL2Service(t, l, l2ServiceSpec{name: "cp-l2", endpoints: allNodes()})[0]
	waitOwner(t, l, "cp-l2", nil)
	env := &cpEnv{l: l, h: h, bgpIP: bgpIP, l2IP: l2IP, routes: map[netip.Addr][]string{bgpIP: all}}

	t.Run("API server stopped for two minutes", func(t *testing.T) {
		testControlPlaneGone(t, env, "kube-apiserver", apiServerOutage)
	})
	t.Run("etcd restarted under the API server", func(t *testing.T) {
		testControlPlaneGone(t, env, "etcd", etcdOutage)
	})
	t.Run("speakers cut off from the API server: the statuses follow a failover once through", func(t *testing.T) {
		testSpeakersCutOff(t, env)
	})
	t.Run("watches expire (410 Gone) and everyone lists again", func(t *testing.T) {
		testWatchesExpire(t, env)
	})
}

// cpEnv is what the control-plane fault tests share.
type cpEnv struct {
	l      *lab.Lab
	h      *l2Harness
	bgpIP  netip.Addr
	l2IP   netip.Addr
	routes map[netip.Addr][]string // the router's routes that must stay
	n      int                     // Services made after a fault
}

// before is what must not change across a fault.
type before struct {
	ips        map[string][]netip.Addr
	sessions   map[string]int64
	controller int
	speakers   map[string]int
}

func (e *cpEnv) snapshot(t *testing.T) before {
	t.Helper()
	b := before{ips: allServiceIPs(t, e.l), sessions: sessionCounts(t, e.l), speakers: map[string]int{}}
	for _, p := range e.l.Processes() {
		if p.Name == "controller" {
			b.controller = p.Pid
		}
	}
	for _, n := range lab.Nodes() {
		b.speakers[n.Name] = e.h.speaker(n.Name).pid
	}
	return b
}

// check asserts that no Service IP moved (Services in gone and made are
// left out), that no session was reset and that the controller and the
// speakers (but restarted) run with the same pids.
func (b before) check(t *testing.T, e *cpEnv, restarted string, gone, made []string) {
	t.Helper()
	want := maps.Clone(b.ips)
	got := allServiceIPs(t, e.l)
	for _, s := range gone {
		delete(want, s)
		if _, ok := got[s]; ok {
			t.Errorf("service %s is still there", s)
		}
	}
	for _, s := range made {
		delete(got, s)
	}
	if !maps.EqualFunc(want, got, slices.Equal[[]netip.Addr]) {
		t.Errorf("service IPs changed:\nbefore %v\nafter  %v", want, got)
	}
	if after := sessionCounts(t, e.l); !maps.Equal(b.sessions, after) {
		t.Errorf("router sessions were reset: established counts before %v, after %v", b.sessions, after)
	}
	if !processLive(b.controller) {
		t.Errorf("the controller (pid %d) is gone", b.controller)
	}
	for node, pid := range b.speakers {
		if node == restarted {
			continue
		}
		if now := e.h.speaker(node).pid; now != pid || !processLive(pid) {
			t.Errorf("the speaker of %s restarted or died: pid %d, was %d", node, now, pid)
		}
	}
}

// checkRoutes asserts that the router routed every watched IP over all
// its next hops in every sample.
func checkRoutes(t *testing.T, seen dataPlaneSeen) {
	t.Helper()
	if len(seen.short) > 0 {
		t.Errorf("in %d of %d samples the router lacked a next hop, e.g. %s", len(seen.short), seen.samples, strings.Join(seen.short[:min(5, len(seen.short))], "; "))
	}
	if seen.samples == 0 {
		t.Error("no sample of the router's routes")
	}
}

// testControlPlaneGone stops a control-plane process (proc) for d. Half
// way, the speaker of the Layer 2 Service's owner is killed: another
// node must take over, with no API server to tell it. Once proc is back,
// the speaker is started again, and a new Service must get an IP and be
// announced.
func testControlPlaneGone(t *testing.T, e *cpEnv, proc string, d time.Duration) {
	ctx := context.Background()
	l, h := e.l, e.h
	owner := waitOwner(t, l, "cp-l2", nil)
	waitClientReaches(t, e.l2IP, owner)
	b := e.snapshot(t)
	w := watchDataPlane(t, e.bgpIP, e.l2IP, e.routes)
	w.l2.waitAnsweredBy(t, owner, 20)

	restartIfKilled := h.restartOnFailure(t, owner)
	start := time.Now()
	if err := l.StopProcess(ctx, proc); err != nil {
		t.Fatal(err)
	}
	stopped := true
	t.Cleanup(func() {
		if stopped {
			if err := l.StartProcess(context.Background(), proc); err != nil {
				t.Error(err)
			}
		}
	})
	t.Logf("%s stopped", proc)
	time.Sleep(d / 4)
	killed := time.Now()
	restartIfKilled()
	h.signal(t, owner, syscall.SIGKILL)
	t.Logf("killed the speaker of the Layer 2 owner %s", owner)
	took := waitTakenOver(t, w.l2, owner)
	t.Logf("%s took the Layer 2 IP over", took)
	time.Sleep(time.Until(start.Add(d)))
	back := time.Now()
	stopped = false
	if err := l.StartProcess(ctx, proc); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s back after %v", proc, time.Since(start).Round(time.Millisecond))
	// Nothing changed since: the speakers catch up by themselves.
	l2Wait(t, "the ServiceL2Status of cp-l2 naming "+took+" alone", func(ctx context.Context) (bool, string) {
		owners, err := l2Owners(ctx, l, l2Namespace, "cp-l2")
		_, ok := owners[took]
		return err == nil && ok && len(owners) == 1, fmt.Sprint(owners, err)
	})
	t.Logf("the ServiceL2Status of cp-l2 named %s alone %v after %s was back", took, time.Since(back).Round(time.Millisecond), proc)

	h.restart(t, owner, nil)
	h.waitSettled(t)
	e.n++
	made := fmt.Sprintf("cp-after-%d", e.n)
	serviceOnAllNodes(t, l, made)
	waitOwner(t, l, "cp-l2", nil)
	seen := w.stop()

	b.check(t, e, owner, nil, []string{"lab/" + made})
	checkRoutes(t, seen)
	if by := answeredBy(seen.l2, start, killed); len(by) != 1 || by[owner] == 0 {
		t.Errorf("before the failover the Layer 2 probes were answered by %v, want %s alone", by, owner)
	}
	t.Logf("BGP client (ilb-cli), %s down and back: %s", proc, outageOf(seen.bgp, start, time.Time{}))
	t.Logf("L2 client (ilb-lcli), %s down, before the failover: %s", proc, outageOf(seen.l2, start, killed))
	t.Logf("L2 client (ilb-lcli), %s down, failover from %s: %s", proc, owner, outageOf(seen.l2, killed, back))
	t.Logf("L2 client (ilb-lcli), %s back, %s's speaker started again: %s", proc, owner, outageOf(seen.l2, back, time.Time{}))
}

// waitTakenOver waits until the last probes were all answered by one
// node other than old, and returns it.
func waitTakenOver(t *testing.T, p *prober, old string) string {
	t.Helper()
	var nw string
	l2Wait(t, "another node than "+old+" answering the Layer 2 probes", func(context.Context) (bool, string) {
		got := p.answers()
		slices.SortFunc(got, func(a, b probe) int { return a.sent.Compare(b.sent) })
		if len(got) < 20 {
			return false, "too few probes"
		}
		last := got[len(got)-20:]
		nw = last[0].node
		for _, r := range last {
			if r.node == "" || r.node == old || r.node != nw {
				return false, fmt.Sprintf("%q (%v)", r.node, r.err)
			}
		}
		return true, ""
	})
	return nw
}

// testWatchesExpire makes every watch of the controller and the
// speakers expire while Services change: the speakers cannot reach the
// API server (a prohibit route in their namespaces), the controller is
// stopped (SIGSTOP), a Service is created and another deleted, etcd is
// compacted and the API server restarted, so that its watch cache starts
// anew: the old resource versions are gone (410) and everyone must list
// again. They must converge on the changes without withdrawing any
// other route.
func testWatchesExpire(t *testing.T, e *cpEnv) {
	ctx := context.Background()
	l := e.l
	goneIP, _ := serviceOnAllNodes(t, l, "cp-gone")
	b := e.snapshot(t)
	cs, err := kubernetes.NewForConfig(l.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	// A watch that starts from here once the changes are made, etcd
	// compacted and the API server restarted must get 410 Gone: so do
	// the controller's and the speakers', which are as old.
	oldList, err := cs.CoreV1().Services("").List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	w := watchDataPlane(t, e.bgpIP, e.l2IP, e.routes)

	for _, n := range lab.Nodes() {
		if _, err := lab.Exec(ctx, n.Name, "ip", "route", "add", "prohibit", lab.ControlPlaneIPv4+"/32"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = lab.Exec(ctx, n.Name, "ip", "route", "del", "prohibit", lab.ControlPlaneIPv4+"/32") })
	}
	if err := syscall.Kill(b.controller, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(b.controller, syscall.SIGCONT) })
	t.Log("speakers cut off from the API server, controller stopped")

	created := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "cp-new", Annotations: map[string]string{"metallb.io/address-pool": "bgp"}},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Name: "http", Port: lab.ServicePort}},
		},
	}
	if err := l.Kube().Create(ctx, created); err != nil {
		t.Fatal(err)
	}
	if err := l.CreateEndpoints(ctx, "lab", "cp-new", allNodes()...); err != nil {
		t.Fatal(err)
	}
	if err := l.Kube().Delete(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "cp-gone"}}); err != nil {
		t.Fatal(err)
	}
	rev, err := l.CompactEtcd(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("etcd compacted at revision %d", rev)
	if err := l.StopProcess(ctx, "kube-apiserver"); err != nil {
		t.Fatal(err)
	}
	if err := l.StartProcess(ctx, "kube-apiserver"); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	if err := syscall.Kill(b.controller, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for _, n := range lab.Nodes() {
		if _, err := lab.Exec(ctx, n.Name, "ip", "route", "del", "prohibit", lab.ControlPlaneIPv4+"/32"); err != nil {
			t.Fatal(err)
		}
	}
	t.Log("API server restarted, controller and speakers let through again")
	if err := watchExpired(ctx, cs, oldList.ResourceVersion); err != nil {
		t.Fatal(err)
	}

	ips, err := l.WaitServiceIPs(ctx, "lab", "cp-new", 1)
	if err != nil {
		t.Fatal(err)
	}
	all := nodeIPv4s(allNodes()...)
	l2Wait(t, "the router routing cp-new over all nodes and cp-gone no more", func(ctx context.Context) (bool, string) {
		gws, err := nextHops(ctx, ips[0])
		gone, err2 := nextHops(ctx, goneIP)
		return err == nil && err2 == nil && slices.Equal(gws, all) && len(gone) == 0,
			fmt.Sprintf("cp-new %s via %v (%v), cp-gone %s via %v (%v)", ips[0], gws, err, goneIP, gone, err2)
	})
	waitOwner(t, l, "cp-l2", nil)
	seen := w.stop()

	b.check(t, e, "", []string{"lab/cp-gone"}, []string{"lab/cp-new"})
	checkRoutes(t, seen)
	logRelists(t, cs)
	t.Logf("BGP client (ilb-cli), watches expired: %s", outageOf(seen.bgp, time.Time{}, time.Time{}))
	t.Logf("L2 client (ilb-lcli), watches expired: %s", outageOf(seen.l2, time.Time{}, time.Time{}))
	t.Logf("cp-new routed %v after the API server was back", time.Since(back).Round(time.Millisecond))
}

// logRelists logs the API server's counts of the requests for Services
// since it started: the lists and the expired watches.
func logRelists(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	raw, err := cs.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatalf("reading the API server's metrics: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "apiserver_request_total{") && (strings.Contains(line, `resource="services"`) || strings.Contains(line, `resource="endpointslices"`)) &&
			(strings.Contains(line, `verb="LIST"`) || strings.Contains(line, `verb="WATCH"`)) {
			t.Log(line)
		}
	}
}

// watchExpired returns nil when a watch of Services from resource
// version rv is refused with 410 Gone (Expired), as the API server does
// when rv is older than its watch cache or etcd's history.
func watchExpired(ctx context.Context, cs kubernetes.Interface, rv string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	w, err := cs.CoreV1().Services("").Watch(ctx, metav1.ListOptions{ResourceVersion: rv})
	if err != nil {
		if apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
			return nil
		}
		return fmt.Errorf("watching services from resource version %s: %w", rv, err)
	}
	defer w.Stop()
	ev, ok := <-w.ResultChan()
	if !ok {
		return fmt.Errorf("watch of services from resource version %s: closed without an event", rv)
	}
	if ev.Type == watch.Error {
		if err := apierrors.FromObject(ev.Object); apierrors.IsResourceExpired(err) || apierrors.IsGone(err) {
			return nil
		}
	}
	return fmt.Errorf("watch of services from resource version %s: got a %s event, want 410 Gone", rv, ev.Type)
}

// cutOff refuses the connections from a node's namespace to the API
// server (TCP reset, as from a stopped API server) until the test ends
// or the returned function is called.
func cutOff(t *testing.T, node string) (restore func()) {
	t.Helper()
	rule := []string{"OUTPUT", "-d", lab.ControlPlaneIPv4 + "/32", "-p", "tcp", "--dport", strconv.Itoa(lab.APIServerPort), "-j", "REJECT", "--reject-with", "tcp-reset"}
	if out, err := lab.Exec(context.Background(), node, append([]string{"iptables", "-I"}, rule...)...); err != nil {
		t.Fatalf("cutting %s off: %v: %s", node, err, out)
	}
	var once sync.Once
	restore = func() {
		once.Do(func() {
			if out, err := lab.Exec(context.Background(), node, append([]string{"iptables", "-D"}, rule...)...); err != nil {
				t.Errorf("letting %s through again: %v: %s", node, err, out)
			}
		})
	}
	t.Cleanup(restore)
	return restore
}

// testSpeakersCutOff cuts every speaker off from the API server (the API
// server keeps running, so no watch expires), kills the Layer 2 owner's
// speaker and makes the new owner reconcile many times meanwhile (a
// veth pair comes and goes), each time failing to write its
// ServiceL2Status. Once let through, with nothing else changing, the
// statuses must follow by themselves: name the new owner alone.
func testSpeakersCutOff(t *testing.T, e *cpEnv) {
	l, h := e.l, e.h
	owner := waitOwner(t, l, "cp-l2", nil)
	waitClientReaches(t, e.l2IP, owner)
	b := e.snapshot(t)
	w := watchDataPlane(t, e.bgpIP, e.l2IP, e.routes)
	w.l2.waitAnsweredBy(t, owner, 20)

	// Cleanups run last first: the speaker starts again once let through.
	restartIfKilled := h.restartOnFailure(t, owner)
	var restores []func()
	for _, n := range lab.Nodes() {
		restores = append(restores, cutOff(t, n.Name))
	}
	start := time.Now()
	restartIfKilled()
	h.signal(t, owner, syscall.SIGKILL)
	took := waitTakenOver(t, w.l2, owner)
	t.Logf("%s took the Layer 2 IP over from %s while cut off", took, owner)
	const flaps = 20
	for range flaps {
		for _, verb := range [][]string{{"add", "cpflap0", "type", "veth", "peer", "name", "cpflap1"}, {"del", "cpflap0"}} {
			if out, err := lab.Exec(context.Background(), took, append([]string{"ip", "link"}, verb...)...); err != nil {
				t.Fatalf("ip link %v in %s: %v: %s", verb, took, err, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	for _, r := range restores {
		r()
	}
	back := time.Now()
	t.Logf("speakers let through again after %v", back.Sub(start).Round(time.Millisecond))
	l2Wait(t, "the ServiceL2Status of cp-l2 naming "+took+" alone", func(ctx context.Context) (bool, string) {
		owners, err := l2Owners(ctx, l, l2Namespace, "cp-l2")
		_, ok := owners[took]
		return err == nil && ok && len(owners) == 1, fmt.Sprint(owners, err)
	})
	t.Logf("the ServiceL2Status of cp-l2 named %s alone %v after the speakers were let through", took, time.Since(back).Round(time.Millisecond))

	h.restart(t, owner, nil)
	h.waitSettled(t)
	seen := w.stop()
	b.check(t, e, owner, nil, nil)
	checkRoutes(t, seen)
	t.Logf("BGP client (ilb-cli), speakers cut off: %s", outageOf(seen.bgp, start, time.Time{}))
	t.Logf("L2 client (ilb-lcli), speakers cut off, failover from %s: %s", owner, outageOf(seen.l2, start, back))
}

// restartOnFailure makes the speaker of node start again when t fails
// after the returned function was called (it marks the speaker as about
// to be killed), so that the next tests find three speakers.
func (h *l2Harness) restartOnFailure(t *testing.T, node string) (killing func()) {
	t.Helper()
	var armed bool
	t.Cleanup(func() {
		if armed && t.Failed() && !processLive(h.speaker(node).pid) {
			h.restart(t, node, nil)
		}
	})
	return func() { armed = true }
}
