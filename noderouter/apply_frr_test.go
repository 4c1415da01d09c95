package noderouter

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/frr/apply"
	"github.com/ironlb/ironlb/internal/frrproc"
)

// sessionCounters is the part of `show bgp neighbors ADDR json` that
// says whether a session was reset.
type sessionCounters struct {
	State       string `json:"bgpState"`
	Established int    `json:"connectionsEstablished"`
	Dropped     int    `json:"connectionsDropped"`
}

// TestDeltaApplyKeepsSessions applies 1,000 successive renders of
// generated FRRConfigurations (objects added, changed and removed) on top
// of labOwn through the delta applier to a real FRR, and checks that
// the session to the router that ironlb and the objects share never
// resets: its established and dropped counters, on both sides, are the
// same after the thousand changes as before, and the router then has
// exactly the prefixes of the last render. Both FRRs run in namespaces
// of their own (unique names), so it needs no lab lock.
func TestDeltaApplyKeepsSessions(t *testing.T) {
	frrproc.SkipUnlessRoot(t)
	if testing.Short() {
		t.Skip("1,000 applies to a real FRR take minutes")
	}
	ctx := t.Context()
	node, router, applier, fb := nodeAndRouter(t)
	own := labOwn(t)
	rd, err := frr.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}

	const ids = 24 // objects obj-00 .. obj-23 come and go
	live := map[int]genObject{}
	current := func() []genObject {
		var out []genObject
		for i := range ids {
			if g, ok := live[i]; ok {
				out = append(out, g)
			}
		}
		return out
	}
	r := rand.New(rand.NewPCG(14, 1000))
	for i := range 6 {
		live[i] = genObjectFor(r, i)
	}
	if res, err := applier.Apply(ctx, renderObjects(t, own, rd, current())); err != nil {
		t.Fatalf("first apply: %+v, %v", res, err)
	}
	counters := func(f *frrproc.FRR, addr string) sessionCounters {
		var m map[string]sessionCounters
		if err := f.VtyshJSON(ctx, "show bgp neighbors "+addr+" json", &m); err != nil {
			t.Fatal(err)
		}
		return m[addr]
	}
	waitUntil(t, "session established", func() bool { return counters(router, "192.0.2.10").State == "Established" })
	beforeRouter, beforeNode := counters(router, "192.0.2.10"), counters(node, "192.0.2.1")

	paths := map[apply.Path]int{}
	calls := 0 // renders where objects add to ironlb's own Service prefix
	for step := range 1000 {
		i := r.IntN(ids)
		_, exists := live[i]
		switch {
		case !exists:
			live[i] = genObjectFor(r, i)
		case r.IntN(3) == 0 || len(live) > 12:
			delete(live, i)
		default:
			live[i] = genObjectFor(r, i)
		}
		conf := renderObjects(t, own, rd, current())
		if bytes.Contains(conf, []byte(" call "+ownMapPrefix)) {
			calls++
		}
		res, err := applier.Apply(ctx, conf)
		if err != nil || res.Path == apply.PathFull {
			t.Fatalf("step %d: %+v, %v; want the fast path", step, res, err)
		}
		paths[res.Path]++
	}
	// Deltas that add or remove a `vrf NAME` block (imports) go through
	// vtysh: VtySock does not dispatch it itself.
	t.Logf("applies by path: %v; %d renders add to ironlb's own prefix; %d deltas went through vtysh", paths, calls, fb.n)

	// The router has what the last render announces to it.
	want := wantAnnounced(t, own, current(), "192.0.2.1")
	waitUntil(t, "router has the last render's prefixes", func() bool {
		out, err := router.Vtysh(ctx, "show bgp ipv4 unicast json")
		if err != nil {
			t.Fatal(err)
		}
		return cmp.Equal(want, routesOf(t, out))
	})
	if diff := cmp.Diff(beforeRouter, counters(router, "192.0.2.10")); diff != "" {
		t.Errorf("the router's session was reset by the applies (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(beforeNode, counters(node, "192.0.2.1")); diff != "" {
		t.Errorf("the node's session was reset by the applies (-before +after):\n%s", diff)
	}
}

// TestImportsApplyKeepSession adds and removes VRF imports (with a VRF
// router of another AS, and an imported VRF without one) 20 times
// through the delta applier to a real FRR, and checks each apply takes
// the fast path, leaves the running config as rendered, and never resets
// the session to the router. Before the delta removed the imports ahead
// of the routers, every removal failed its verification (the imported
// VRF's instance stayed) and went through frr-reload.py.
func TestImportsApplyKeepSession(t *testing.T) {
	frrproc.SkipUnlessRoot(t)
	ctx := t.Context()
	node, router, applier, fb := nodeAndRouter(t)
	own := labOwn(t)
	rd, err := frr.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	with := []genObject{
		{key: "metallb-system/leak", spec: "bgp:\n  routers:\n  - {asn: 64512, imports: [{vrf: blue}]}\n  - {asn: 64600, vrf: red, imports: [{vrf: default}, {vrf: blue}]}"},
		{key: "metallb-system/prefix", spec: "bgp:\n  routers:\n  - asn: 64512\n    prefixes: [198.51.100.0/24]\n    neighbors:\n    - {address: 192.0.2.1, asn: 64512, holdTime: 90s, keepaliveTime: 30s, toAdvertise: {allowed: {mode: all}}}"},
	}
	without := with[1:]
	if res, err := applier.Apply(ctx, renderObjects(t, own, rd, without)); err != nil {
		t.Fatalf("first apply: %+v, %v", res, err)
	}
	counters := func() sessionCounters {
		var m map[string]sessionCounters
		if err := router.VtyshJSON(ctx, "show bgp neighbors 192.0.2.10 json", &m); err != nil {
			t.Fatal(err)
		}
		return m["192.0.2.10"]
	}
	waitUntil(t, "session established", func() bool { return counters().State == "Established" })
	before := counters()
	for i := range 20 {
		objs := with
		if i%2 == 1 {
			objs = without
		}
		conf := renderObjects(t, own, rd, objs)
		res, err := applier.Apply(ctx, conf)
		if err != nil || res.Path != apply.PathFast {
			t.Fatalf("apply %d: %+v (fast failure %+v), %v; want the fast path", i, res, res.FastFailure, err)
		}
		running, err := node.Vtysh(ctx, "show running-config")
		if err != nil {
			t.Fatal(err)
		}
		if missing := frrproc.MissingLines(string(conf), string(running)); len(missing) > 0 {
			t.Fatalf("apply %d: running config lacks:\n%s", i, strings.Join(missing, "\n"))
		}
	}
	// VtySock does not dispatch the `vrf NAME` block itself: those deltas
	// go through vtysh.
	t.Logf("%d of 20 deltas went through vtysh", fb.n)
	if diff := cmp.Diff(before, counters()); diff != "" {
		t.Errorf("the session was reset by the applies (-before +after):\n%s", diff)
	}
}

// nodeAndRouter starts two FRRs in namespaces of their own linked by a
// veth: the node (192.0.2.10, empty, with an Applier through a VtySock
// whose vtysh fallback counts its scripts) and a router 192.0.2.1 in AS
// 64512 that peers with it as labOwn's BGPPeer "router" does.
func nodeAndRouter(t *testing.T) (node, router *frrproc.FRR, a *apply.Applier, fb *countingFallback) {
	t.Helper()
	ctx := t.Context()
	nsNode, nsRouter := frrproc.NewTestNetns(t), frrproc.NewTestNetns(t)
	if err := frrproc.Veth(ctx, nsNode, "eth-r", "192.0.2.10/24", nsRouter, "eth-n", "192.0.2.1/24"); err != nil {
		t.Fatal(err)
	}
	router = frrproc.StartTest(t, frrproc.Config{Netns: nsRouter, InitialConfig: []byte(`router bgp 64512
 bgp router-id 192.0.2.1
 neighbor 192.0.2.10 remote-as 64512
 neighbor 192.0.2.10 timers 30 90
exit
`)})
	node = frrproc.StartTest(t, frrproc.Config{Netns: nsNode})
	fb = &countingFallback{Vtysh: apply.Vtysh{Pathspace: node.Name()}}
	sock := apply.NewVtySock(apply.VtySockConfig{Pathspace: node.Name(), Fallback: fb})
	t.Cleanup(func() {
		if err := sock.Close(); err != nil {
			t.Errorf("closing the VtySock: %v", err)
		}
	})
	return node, router, apply.New(sock, apply.Options{}), fb
}

// TestOwnPrefixAttributesReachRouter renders the golden case
// attributes-on-own-prefixes into a real FRR and checks what the router
// receives: ironlb's Service prefix with ironlb's community and the
// FRRConfiguration's community and local preference added, the
// FRRConfiguration's own prefix with its attributes.
func TestOwnPrefixAttributesReachRouter(t *testing.T) {
	frrproc.SkipUnlessRoot(t)
	ctx := t.Context()
	_, router, applier, _ := nodeAndRouter(t)
	var objs []obj
	for _, c := range renderCases() {
		if c.name == "attributes-on-own-prefixes" {
			objs = c.objs
		}
	}
	if res, err := applier.Apply(ctx, renderCase(t, objs, Options{})); err != nil {
		t.Fatalf("apply: %+v, %v", res, err)
	}
	type route struct {
		Communities string
		LocalPref   uint32
	}
	want := map[string]route{
		"203.0.113.5/32":  {Communities: "65000:1 65000:9", LocalPref: 150},
		"198.51.100.0/24": {Communities: "65000:9", LocalPref: 150},
	}
	got := map[string]route{}
	waitUntil(t, "router has both prefixes", func() bool {
		for p := range want {
			var v struct {
				Paths []struct {
					LocalPref uint32 `json:"locPrf"`
					Community struct {
						String string `json:"string"`
					} `json:"community"`
				} `json:"paths"`
			}
			if err := router.VtyshJSON(ctx, "show bgp ipv4 unicast "+p+" json", &v); err != nil {
				t.Fatal(err)
			}
			if len(v.Paths) == 0 {
				return false
			}
			got[p] = route{Communities: v.Paths[0].Community.String, LocalPref: v.Paths[0].LocalPref}
		}
		return true
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("routes at the router (-want +got):\n%s", diff)
	}
}

// wantAnnounced returns the IPv4 prefixes that the merge of own and
// objs announces to the neighbor, sorted.
func wantAnnounced(t *testing.T, own *frr.Config, objs []genObject, neighbor string) []string {
	t.Helper()
	var cfgs []frrk8s.FRRConfiguration
	for _, o := range objs {
		cfgs = append(cfgs, frrConfig(t, o.key, o.spec))
	}
	m, err := ForNode(own, cfgs, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range m.Routers[0].Neighbors {
		if n.Key() != neighbor {
			continue
		}
		for _, o := range n.Outgoing {
			if o.Prefix.Addr().Is4() {
				out = append(out, o.Prefix.String())
			}
		}
	}
	slices.Sort(out)
	return out
}

// routesOf returns the prefixes of `show bgp ipv4 unicast json`, sorted.
func routesOf(t *testing.T, out []byte) []string {
	t.Helper()
	var v struct {
		Routes map[string]any `json:"routes"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	var ps []string
	for p := range v.Routes {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// waitUntil polls cond until it holds, failing t after a bound meant
// only to catch hangs.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 120*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// countingFallback is a VtySock's fallback that counts the scripts it
// runs.
type countingFallback struct {
	apply.Vtysh
	n int
}

func (c *countingFallback) Exec(ctx context.Context, script []byte, show string) ([]byte, error) {
	c.n++
	return c.Vtysh.Exec(ctx, script, show)
}
