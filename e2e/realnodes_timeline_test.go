package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/e2e/lab"
)

// timeline records, with their times, what changes on the paths of the
// upgrade's clients: the router's routes to the BGP IPs (ECMP set), the
// LAN client's neighbor entries of the Layer 2 IPs (which node's MAC it
// sends to), and the speaker pods (started, ready, terminating). It
// explains a lost request: what changed just before it.
type timeline struct {
	mu     sync.Mutex
	events []timelineEvent
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type timelineEvent struct {
	at time.Time
	// ip is the Service IP whose path changed; invalid for the pods.
	ip   netip.Addr
	what string
	// route is set for the router's routes (added or replaced) to a BGP
	// IP: their next hops.
	route *routeHops
}

type routeHops struct {
	ip   netip.Addr
	hops int
}

func (tl *timeline) add(at time.Time, ip netip.Addr, format string, args ...any) {
	tl.mu.Lock()
	tl.events = append(tl.events, timelineEvent{at: at, ip: ip, what: fmt.Sprintf(format, args...)})
	tl.mu.Unlock()
}

// pathChanges returns the times at which the path to ip changed (the
// router's route to it, or the LAN client's neighbor entry of it).
func (tl *timeline) pathChanges(ip netip.Addr) []time.Time {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var out []time.Time
	for _, e := range tl.events {
		if e.ip == ip {
			out = append(out, e.at)
		}
	}
	return out
}

// startTimeline starts recording; stop ends it.
func startTimeline(t *testing.T, l *lab.Lab, bgpIPs, l2IPs []netip.Addr) *timeline {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tl := &timeline{cancel: cancel}
	macs := nodeMACs(t)
	router, err := netns.GetFromName(lab.RouterNetns)
	if err != nil {
		t.Fatalf("opening netns %s: %v", lab.RouterNetns, err)
	}
	routes := make(chan netlink.RouteUpdate, 64)
	if err := netlink.RouteSubscribeWithOptions(routes, ctx.Done(), netlink.RouteSubscribeOptions{Namespace: &router, ListExisting: true}); err != nil {
		t.Fatalf("watching the router's routes: %v", err)
	}
	router.Close()
	lcli, err := netns.GetFromName(lab.LANClientNetns)
	if err != nil {
		t.Fatalf("opening netns %s: %v", lab.LANClientNetns, err)
	}
	neighs := make(chan netlink.NeighUpdate, 64)
	if err := netlink.NeighSubscribeWithOptions(neighs, ctx.Done(), netlink.NeighSubscribeOptions{Namespace: &lcli, ListExisting: true}); err != nil {
		t.Fatalf("watching the LAN client's neighbors: %v", err)
	}
	lcli.Close()
	tl.wg.Go(func() {
		last := map[netip.Addr]string{}
		for u := range routes {
			if u.Dst == nil {
				continue
			}
			ip, ok := netip.AddrFromSlice(u.Dst.IP)
			if !ok || !slices.Contains(bgpIPs, ip.Unmap()) {
				continue
			}
			at := time.Now()
			kind := "new"
			if u.Type == unix.RTM_DELROUTE {
				kind = "del"
			}
			var gws []string
			if u.Gw != nil {
				gws = append(gws, u.Gw.String())
			}
			for _, nh := range u.MultiPath {
				gws = append(gws, nh.Gw.String())
			}
			// A path change: the route gone, or its next hops changed.
			via, changed := nodesOf(gws), ip.Unmap()
			if kind == "new" && last[changed] == via {
				changed = netip.Addr{}
			}
			last[ip.Unmap()] = via
			if kind == "del" {
				last[ip.Unmap()] = ""
			}
			tl.add(at, changed, "router route %s %s via %s", kind, ip, via)
			if kind == "new" {
				tl.mu.Lock()
				tl.events[len(tl.events)-1].route = &routeHops{ip: ip.Unmap(), hops: len(gws)}
				tl.mu.Unlock()
			}
		}
	})
	tl.wg.Go(func() {
		last := map[netip.Addr]string{}
		for u := range neighs {
			ip, ok := netip.AddrFromSlice(u.IP)
			if !ok || !slices.Contains(l2IPs, ip.Unmap()) {
				continue
			}
			kind := "new"
			if u.Type == unix.RTM_DELNEIGH {
				kind = "del"
			}
			node := macs[u.HardwareAddr.String()]
			if node == "" {
				node = u.HardwareAddr.String()
			}
			// A path change: the client sends to another node now.
			changed := ip.Unmap()
			if kind == "new" && last[changed] == node {
				changed = netip.Addr{}
			}
			last[ip.Unmap()] = node
			tl.add(time.Now(), changed, "lan client neigh %s %s -> %s (%s)", kind, ip, node, neighState(u.State))
		}
	})
	tl.wg.Go(func() {
		seen := map[string]string{}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			var pods corev1.PodList
			if err := l.Kube().List(ctx, &pods, client.InNamespace(lab.MetalLBNamespace)); err != nil {
				continue
			}
			now := map[string]string{}
			for _, p := range pods.Items {
				state := string(p.Status.Phase)
				if podReady(p) {
					state += " ready"
				}
				if p.DeletionTimestamp != nil {
					state += " terminating"
				}
				now[p.Name] = p.Spec.NodeName + " " + p.Labels["app.kubernetes.io/component"] + " " + state
			}
			at := time.Now()
			for name, s := range now {
				if seen[name] != s {
					tl.add(at, netip.Addr{}, "pod %s: %s", name, s)
				}
			}
			for name := range seen {
				if _, ok := now[name]; !ok {
					tl.add(at, netip.Addr{}, "pod %s: gone", name)
				}
			}
			seen = now
		}
	})
	return tl
}

// fewestHops returns, per BGP IP, the fewest next hops of the router's
// route to it since t.
func (tl *timeline) fewestHops(since time.Time) map[netip.Addr]int {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	out := map[netip.Addr]int{}
	for _, e := range tl.events {
		if e.route == nil || e.at.Before(since) {
			continue
		}
		if n, ok := out[e.route.ip]; !ok || e.route.hops < n {
			out[e.route.ip] = e.route.hops
		}
	}
	return out
}

// stop ends the recording.
func (tl *timeline) stop() {
	tl.cancel()
	tl.wg.Wait()
}

// around returns the events from before to after t, as lines.
func (tl *timeline) around(t time.Time, before, after time.Duration) []string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var out []string
	for _, e := range tl.events {
		if !e.at.Before(t.Add(-before)) && !e.at.After(t.Add(after)) {
			out = append(out, fmt.Sprintf("%s %+5dms %s", e.at.Format("15:04:05.000"), e.at.Sub(t).Milliseconds(), e.what))
		}
	}
	return out
}

// all returns every event, as lines.
func (tl *timeline) all() string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var b strings.Builder
	for _, e := range tl.events {
		fmt.Fprintf(&b, "%s %s\n", e.at.Format("15:04:05.000"), e.what)
	}
	return b.String()
}

// nodeMACs maps the MAC of every node's LAN interface to the node.
func nodeMACs(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, n := range lab.Nodes() {
		h, err := netlink.NewHandleAt(mustNetns(t, n.Name))
		if err != nil {
			t.Fatalf("netlink in %s: %v", n.Name, err)
		}
		link, err := h.LinkByName(lab.LANLink)
		h.Close()
		if err != nil {
			t.Fatalf("%s's %s: %v", n.Name, lab.LANLink, err)
		}
		out[link.Attrs().HardwareAddr.String()] = n.Name
	}
	return out
}

func mustNetns(t *testing.T, name string) netns.NsHandle {
	t.Helper()
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatalf("opening netns %s: %v", name, err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// nodesOf names the nodes of gateway addresses.
func nodesOf(gws []string) string {
	var names []string
	for _, gw := range gws {
		name := gw
		for _, n := range lab.Nodes() {
			if gw == n.IPv4.String() || gw == n.IPv6.String() {
				name = n.Name
			}
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

func neighState(s int) string {
	var names []string
	for bit, name := range map[int]string{
		netlink.NUD_INCOMPLETE: "incomplete", netlink.NUD_REACHABLE: "reachable", netlink.NUD_STALE: "stale",
		netlink.NUD_DELAY: "delay", netlink.NUD_PROBE: "probe", netlink.NUD_FAILED: "failed",
		netlink.NUD_NOARP: "noarp", netlink.NUD_PERMANENT: "permanent",
	} {
		if s&bit != 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, "|")
}
