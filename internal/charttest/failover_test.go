package charttest

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/internal/testenv"
)

// failoverArgs adds controller arguments to TestControllerFailoverUnderChurn,
// to measure other leader election timings.
var failoverArgs = flag.String("failover-args", "", "extra `ironlb controller` arguments for TestControllerFailoverUnderChurn (e.g. -leader-elect-retry-period=1s)")

// TestControllerFailoverUnderChurn runs the chart's two controller
// replicas and kills the leader (SIGKILL) in the middle of 1,000 Service
// creates and 600 deletes. At no event may an IP be held by two Services
// or a Service's IP change; every Service ends with an IP. It logs how
// long allocation stopped (BENCHMARKS.md), which it does not assert; it
// asserts that the survivor took over when it saw the lease run out.
func TestControllerFailoverUnderChurn(t *testing.T) {
	rs := newReplicaSet(t, strings.Fields(*failoverArgs)...)
	rs.start(t)
	rs.start(t)
	first := rs.leader(t)
	audit := newIPAudit()
	ctx, cancel := context.WithCancel(context.Background())
	watching := audit.watch(ctx, t, rs.clientset(t))
	defer func() { cancel(); <-watching }()

	var killed time.Time
	churn(t, rs.env.Client, 0, 1000, 400, 500, func() {
		first.signal(t, syscall.SIGKILL)
		killed = time.Now()
	})
	allAllocated(t, rs.env.Client, audit)
	second := rs.leader(t)
	if second == first {
		t.Fatalf("%s still leads after SIGKILL", first.name)
	}
	noViolations(t, audit)

	lease := rs.lease(t)
	_, _, stall, stallEnd := audit.report()
	next, _ := audit.firstAllocAfter(killed.Add(100 * time.Millisecond))
	// The survivor took over when its watch of the Lease said the lease
	// ran out, not at a later poll (which it falls back to when it cannot
	// watch the Lease, e.g. without the chart's RBAC for it).
	ranOut, followed := second.logTime("leader lease ran out")
	if !followed {
		t.Errorf("%s took the Lease without seeing the lease run out: it polled", second.name)
	}
	acquired, _ := second.logTime("Successfully acquired lease")
	workers, _ := second.logTime("Starting workers")
	loaded, _ := second.logTime("configuration loaded")
	ms := func(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }
	t.Logf("lease %ds: longest allocation stall %v (ended %v after the SIGKILL); after the SIGKILL: lease ran out %v, taken %v, controllers started %v, configuration loaded %v, first allocation %v; %d events audited",
		*lease.Spec.LeaseDurationSeconds, ms(stall), ms(stallEnd.Sub(killed)), ms(ranOut.Sub(killed)), ms(acquired.Sub(killed)), ms(workers.Sub(killed)), ms(loaded.Sub(killed)), ms(next.Sub(killed)), audit.events)
}

// TestControllerPausedLeaderWritesNothing stops the leader (SIGSTOP, as a
// frozen VM or node would) in the middle of Service creates, until the
// other replica has taken over and given every Service an IP, then lets
// it run again (SIGCONT). The old leader's cache and allocations are
// stale by then: it must write nothing before it learns it lost the
// lease, so no IP may be duplicated or moved.
func TestControllerPausedLeaderWritesNothing(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t)
	rs.start(t)
	rs.start(t)
	first := rs.leader(t)
	audit := newIPAudit()
	ctx, cancel := context.WithCancel(context.Background())
	watching := audit.watch(ctx, t, rs.clientset(t))
	defer func() { cancel(); <-watching }()

	churn(t, rs.env.Client, 0, 300, 0, 150, func() { first.signal(t, syscall.SIGSTOP) })
	var second *replica
	eventually(t, "another replica to lead", func() (bool, string) {
		for _, r := range rs.all {
			if r != first && r.leading() {
				second = r
				return true, ""
			}
		}
		return false, "no other replica leads"
	})
	allAllocated(t, rs.env.Client, audit)

	first.signal(t, syscall.SIGCONT)
	eventually(t, first.name+" to exit after losing the lease", func() (bool, string) {
		return first.exited(), "running"
	})
	// What the old leader did after it woke up is in the audit once the
	// new leader has settled again.
	churn(t, rs.env.Client, 300, 310, 0, -1, nil)
	allAllocated(t, rs.env.Client, audit)
	noViolations(t, audit)
	t.Logf("%s refused %d writes after it woke up", first.name, strings.Count(first.logs.String(), "leader lease not held"))
	if second.exited() {
		t.Errorf("%s, the new leader, exited", second.name)
	}
}

// TestControllerGracefulStopHandsOver stops the leader as the kubelet
// does (SIGTERM): it must release the Lease before it exits, so that the
// other replica takes over at once instead of after the lease duration.
func TestControllerGracefulStopHandsOver(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t)
	rs.start(t)
	rs.start(t)
	first := rs.leader(t)
	holder := *rs.lease(t).Spec.HolderIdentity

	stopped := time.Now()
	first.signal(t, syscall.SIGTERM)
	eventually(t, first.name+" to exit", func() (bool, string) { return first.exited(), "running" })
	if !first.cmd.ProcessState.Success() {
		t.Errorf("%s did not exit cleanly on SIGTERM: %v", first.name, first.cmd.ProcessState)
	}
	if got := rs.lease(t).Spec.HolderIdentity; got != nil && *got == holder {
		t.Errorf("the Lease still names %s (%s) after it exited: not released", first.name, holder)
	}

	svc := churnService(0)
	if err := rs.env.Client.Create(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	eventually(t, "an IP for the Service", func() (bool, string) {
		var s corev1.Service
		if err := rs.env.Client.Get(context.Background(), client.ObjectKeyFromObject(svc), &s); err != nil {
			return false, err.Error()
		}
		return len(s.Status.LoadBalancer.Ingress) == 1, fmt.Sprint(s.Status.LoadBalancer.Ingress)
	})
	t.Logf("a Service created after SIGTERM to the leader got its IP %v after the SIGTERM", time.Since(stopped).Round(10*time.Millisecond))
	if second := rs.leader(t); second == first {
		t.Errorf("%s still leads", first.name)
	}
}

// TestControllerRestartListsInPages restarts the controller while the API
// server, without its watch cache, gives the new process the Services in
// pages of 500 and Services keep coming and going: the new controller
// must see them all before it allocates, so no IP moves or is given twice.
func TestControllerRestartListsInPages(t *testing.T) {
	t.Parallel()
	rs := newReplicaSetOn(t, testenv.Options{NoWatchCache: true})
	first := rs.start(t)
	rs.leader(t)
	audit := newIPAudit()
	ctx, cancel := context.WithCancel(context.Background())
	cs := rs.clientset(t)
	watching := audit.watch(ctx, t, cs)
	defer func() { cancel(); <-watching }()

	churn(t, rs.env.Client, 0, 700, 0, -1, nil)
	allAllocated(t, rs.env.Client, audit)
	// An informer's first list (resourceVersion 0, limit 500) comes in pages.
	page, err := cs.CoreV1().Services("").List(ctx, metav1.ListOptions{ResourceVersion: "0", Limit: 500})
	if err != nil || page.Continue == "" {
		t.Fatalf("the API server does not page lists (continue %q): %v", page.Continue, err)
	}

	first.signal(t, syscall.SIGTERM)
	eventually(t, first.name+" to exit", func() (bool, string) { return first.exited(), "running" })
	rs.start(t)
	churn(t, rs.env.Client, 700, 760, 100, -1, nil)
	rs.leader(t)
	allAllocated(t, rs.env.Client, audit)
	noViolations(t, audit)
}
