package charttest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
)

// ipAudit watches every Service change and checks, on each event, the
// two promises of the allocator: no IP is held by two Services at once
// (a duplicate), and a Service that has IPs keeps them while it exists
// (a move). A single watch sees the changes of one resource in the
// order the API server made them, so the check is exact. It also keeps
// the times at which Services got their first IPs, to measure how long
// allocation stopped.
type ipAudit struct {
	mu         sync.Mutex
	held       map[string]types.UID   // IP -> Service holding it
	ips        map[types.UID][]string // Service -> its IPs
	names      map[types.UID]string
	waiting    map[types.UID]bool // Services without IPs
	violations []string
	events     int
	// allocation pauses: the longest time Services waited while no
	// Service got an IP.
	waitStart time.Time // when the current run of waiting began
	lastAlloc time.Time
	allocs    []time.Time
	maxStall  time.Duration
	stallEnd  time.Time
}

func newIPAudit() *ipAudit {
	return &ipAudit{held: map[string]types.UID{}, ips: map[types.UID][]string{}, names: map[types.UID]string{}, waiting: map[types.UID]bool{}}
}

// watch runs the audit until ctx ends, from the empty state: it must
// start before the first Service exists.
func (a *ipAudit) watch(ctx context.Context, t *testing.T, cs kubernetes.Interface) <-chan struct{} {
	t.Helper()
	list, err := cs.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing services: %v", err)
	}
	for i := range list.Items {
		a.observe(watch.Added, &list.Items[i], time.Now())
	}
	rv := list.ResourceVersion
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			w, err := cs.CoreV1().Services("").Watch(ctx, metav1.ListOptions{ResourceVersion: rv, AllowWatchBookmarks: true})
			if err != nil {
				if ctx.Err() == nil {
					a.fail("watching services: %v", err)
				}
				return
			}
			for ev := range w.ResultChan() {
				if ev.Type == watch.Error {
					a.fail("watch error: %v", ev.Object)
					w.Stop()
					return
				}
				svc, ok := ev.Object.(*corev1.Service)
				if !ok {
					continue
				}
				rv = svc.ResourceVersion
				if ev.Type != watch.Bookmark {
					a.observe(ev.Type, svc, time.Now())
				}
			}
			w.Stop()
		}
	}()
	return done
}

func (a *ipAudit) fail(format string, args ...any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.violations = append(a.violations, fmt.Sprintf(format, args...))
}

// observe checks one event.
func (a *ipAudit) observe(typ watch.EventType, svc *corev1.Service, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events++
	uid := svc.UID
	a.names[uid] = svc.Namespace + "/" + svc.Name
	before := a.ips[uid]
	for _, ip := range before {
		delete(a.held, ip)
	}
	delete(a.ips, uid)
	if typ == watch.Deleted {
		delete(a.waiting, uid)
		a.settle(at)
		return
	}
	var now []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		now = append(now, in.IP)
	}
	slices.Sort(now)
	if len(before) > 0 && !slices.Equal(before, now) {
		a.violations = append(a.violations, fmt.Sprintf("%s moved from %v to %v (resourceVersion %s)", a.names[uid], before, now, svc.ResourceVersion))
	}
	for _, ip := range now {
		if other, ok := a.held[ip]; ok && other != uid {
			a.violations = append(a.violations, fmt.Sprintf("%s given to %s while %s holds it (resourceVersion %s)", ip, a.names[uid], a.names[other], svc.ResourceVersion))
		}
		a.held[ip] = uid
	}
	if len(now) > 0 {
		a.ips[uid] = now
	}
	switch {
	case len(now) > 0 && len(before) == 0:
		if a.waiting[uid] {
			start := a.waitStart
			if a.lastAlloc.After(start) {
				start = a.lastAlloc
			}
			if d := at.Sub(start); d > a.maxStall {
				a.maxStall, a.stallEnd = d, at
			}
		}
		delete(a.waiting, uid)
		a.lastAlloc = at
		a.allocs = append(a.allocs, at)
	case len(now) == 0 && svc.Spec.Type == corev1.ServiceTypeLoadBalancer:
		if len(a.waiting) == 0 {
			a.waitStart = at
		}
		a.waiting[uid] = true
	}
	a.settle(at)
}

// settle resets the waiting run once no Service waits.
func (a *ipAudit) settle(time.Time) {
	if len(a.waiting) == 0 {
		a.waitStart = time.Time{}
	}
}

// firstAllocAfter is when the first Service got an IP after t.
func (a *ipAudit) firstAllocAfter(t time.Time) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, at := range a.allocs {
		if at.After(t) {
			return at, true
		}
	}
	return time.Time{}, false
}

// report returns the violations so far, the number of Services waiting
// for IPs and the longest stall with its end.
func (a *ipAudit) report() (violations []string, waiting int, stall time.Duration, stallEnd time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.violations), len(a.waiting), a.maxStall, a.stallEnd
}
