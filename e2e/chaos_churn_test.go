package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/e2e/lab"
)

// chaosNamespace holds the Services the chaos soak creates and deletes.
const chaosNamespace = "chaos"

// Bounds of the number of churned Services: below min one is always
// created, above max one is always deleted, between the two a coin
// decides. The lab's l2 pool has 51 IPv4 addresses.
const (
	churnMin = 8
	churnMax = 24
)

// churner creates or deletes a Service every second, in the lab's bgp
// and l2 pools, each with a backend on every node.
type churner struct {
	l   *lab.Lab
	rng *rand.Rand
	ips *ipTracker
	n   int
	// live are the churned Services by name; noEndpoints those whose
	// endpoints are still to be made (the API server was away); unsure
	// those whose create failed, which may exist all the same.
	live        []string
	noEndpoints map[string]bool
	unsure      []string
	creates     int
	deletes     int
	failed      int
}

func newChurner(l *lab.Lab, seed uint64, ips *ipTracker) *churner {
	return &churner{l: l, rng: rand.New(rand.NewPCG(seed, 1)), ips: ips, noEndpoints: map[string]bool{}}
}

// run changes one Service every second until ctx ends.
func (c *churner) run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := c.step(ctx); err != nil && ctx.Err() == nil {
			c.failed++
		}
	}
}

// step makes the endpoints still missing, then creates or deletes one
// Service.
func (c *churner) step(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for len(c.unsure) > 0 {
		name := c.unsure[0]
		err := c.l.Kube().Get(ctx, client.ObjectKey{Namespace: chaosNamespace, Name: name}, &corev1.Service{})
		switch {
		case err == nil:
			c.live = append(c.live, name)
			c.noEndpoints[name] = true
		case !apierrors.IsNotFound(err):
			return err
		}
		c.unsure = c.unsure[1:]
	}
	for name := range c.noEndpoints {
		if err := c.l.SetEndpoints(ctx, chaosNamespace, name, endpointsOnAllNodes()); err != nil {
			return err
		}
		delete(c.noEndpoints, name)
	}
	create := len(c.live) < churnMin || len(c.live) <= churnMax && c.rng.IntN(2) == 0
	if create {
		return c.create(ctx)
	}
	return c.delete(ctx)
}

func (c *churner) create(ctx context.Context) error {
	pool := "bgp"
	if c.rng.IntN(2) == 0 {
		pool = "l2"
	}
	c.n++
	name := fmt.Sprintf("chaos-%d", c.n)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: chaosNamespace, Name: name, Annotations: map[string]string{"metallb.io/address-pool": pool}},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Name: "http", Port: lab.ServicePort, Protocol: corev1.ProtocolTCP}},
		},
	}
	at := time.Now()
	if err := c.l.Kube().Create(ctx, svc); err != nil {
		c.unsure = append(c.unsure, name)
		return fmt.Errorf("creating service %s: %w", name, err)
	}
	c.creates++
	c.ips.created(svc.UID, at)
	c.live = append(c.live, name)
	c.noEndpoints[name] = true
	if err := c.l.CreateEndpointsOf(ctx, svc, allNodes()...); err != nil {
		return err
	}
	delete(c.noEndpoints, name)
	return nil
}

func (c *churner) delete(ctx context.Context) error {
	i := c.rng.IntN(len(c.live))
	name := c.live[i]
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: chaosNamespace, Name: name}}
	// NotFound: an earlier delete that failed on the way back did it.
	if err := c.l.Kube().Delete(ctx, svc); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting service %s: %w", name, err)
	}
	c.deletes++
	c.live = slices.Delete(c.live, i, i+1)
	delete(c.noEndpoints, name)
	return c.l.Kube().DeleteAllOf(ctx, &discoveryv1.EndpointSlice{}, client.InNamespace(chaosNamespace),
		client.MatchingLabels{discoveryv1.LabelServiceName: name})
}

// endpointsOnAllNodes is one ready backend on every node.
func endpointsOnAllNodes() []lab.Endpoint {
	var eps []lab.Endpoint
	for _, n := range allNodes() {
		eps = append(eps, lab.Endpoint{Node: n})
	}
	return eps
}

// ipTracker lists every Service every 250 ms and records what a Service
// must never see: its IP changing while it exists (moved) and one IP
// held by two Services at once (duplicate). A list misses what lasts
// less than its period; the API server's outages are gaps too.
type ipTracker struct {
	l  *lab.Lab
	mu sync.Mutex
	// ips is the last IPs seen of each Service that had some.
	ips map[types.UID]string
	// createdAt and allocated: when the churner created a Service and
	// when it was first seen with an IP.
	createdAt map[types.UID]time.Time
	allocated map[types.UID]time.Time
	moved     []string
	dups      map[string]bool
	lists     int
}

func newIPTracker(l *lab.Lab) *ipTracker {
	return &ipTracker{l: l, ips: map[types.UID]string{}, createdAt: map[types.UID]time.Time{}, allocated: map[types.UID]time.Time{}, dups: map[string]bool{}}
}

func (w *ipTracker) created(uid types.UID, at time.Time) {
	w.mu.Lock()
	w.createdAt[uid] = at
	w.mu.Unlock()
}

// run lists the Services every 250 ms until ctx ends.
func (w *ipTracker) run(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		w.check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (w *ipTracker) check(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var list corev1.ServiceList
	if err := w.l.Kube().List(ctx, &list); err != nil {
		return // the API server is away
	}
	at := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lists++
	holder := map[netip.Addr]string{}
	for i := range list.Items {
		s := &list.Items[i]
		ips := lab.ServiceIPs(s)
		if len(ips) == 0 {
			continue
		}
		key := s.Namespace + "/" + s.Name
		for _, ip := range ips {
			if other, ok := holder[ip]; ok {
				w.dups[fmt.Sprintf("%s held by %s and %s", ip, other, key)] = true
			}
			holder[ip] = key
		}
		cur := fmt.Sprint(ips)
		if was, ok := w.ips[s.UID]; ok && was != cur {
			w.moved = append(w.moved, fmt.Sprintf("%s: %s -> %s", key, was, cur))
		}
		w.ips[s.UID] = cur
		if _, ok := w.allocated[s.UID]; !ok {
			w.allocated[s.UID] = at
		}
	}
}

// allocationWaits returns, for every churned Service that got an IP,
// when it was created and how long it waited for its IP (to the first
// list that showed it).
func (w *ipTracker) allocationWaits() map[time.Time]time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[time.Time]time.Duration{}
	for uid, at := range w.createdAt {
		if got, ok := w.allocated[uid]; ok {
			out[at] = got.Sub(at)
		}
	}
	return out
}

// result returns the moved IPs, the duplicates and the number of lists.
func (w *ipTracker) result() (moved, dups []string, lists int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for d := range w.dups {
		dups = append(dups, d)
	}
	slices.Sort(dups)
	return slices.Clone(w.moved), dups, w.lists
}

// Ranges of the lab's pools (examples/lab/10-pools.yaml).
var (
	bgpPoolV4 = netip.MustParsePrefix("203.0.113.0/25")
	bgpPoolV6 = netip.MustParsePrefix("2001:db8:0:100::/120")
)

// unannounced returns the Service IPs that nobody announces: an IP of
// the bgp pool without a route at the router, any other not answered
// over HTTP from the LAN client.
func unannounced(ctx context.Context, l *lab.Lab) ([]string, error) {
	var list corev1.ServiceList
	if err := l.Kube().List(ctx, &list); err != nil {
		return nil, fmt.Errorf("listing services: %w", err)
	}
	var missing []string
	for i := range list.Items {
		s := &list.Items[i]
		for _, ip := range lab.ServiceIPs(s) {
			key := s.Namespace + "/" + s.Name + " " + ip.String()
			if bgpPoolV4.Contains(ip) || bgpPoolV6.Contains(ip) {
				gws, err := nextHops(ctx, ip)
				if err != nil || len(gws) == 0 {
					missing = append(missing, key+" (no route at the router)")
				}
				continue
			}
			probeCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := lab.HTTPGet(probeCtx, lab.LANClientNetns, serviceURL(ip))
			cancel()
			if err != nil {
				missing = append(missing, key+" (no answer on the LAN: "+strings.TrimSpace(err.Error())+")")
			}
		}
	}
	return missing, nil
}
