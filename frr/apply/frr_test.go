package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/internal/frrproc"
)

// vtyKinds are the VTYs the tests against a real FRR run through.
var vtyKinds = []string{"vtysh", "vtysock"}

// startFRR starts a private FRR for t and returns it with an Applier
// that talks to it through a VTY of kind. A vtysock must not need its
// fallback for Exec: the test fails when it does.
func startFRR(t *testing.T, netns, kind string) (*frrproc.FRR, *Applier) {
	t.Helper()
	f := frrproc.StartTest(t, frrproc.Config{Netns: netns})
	return f, New(newVTY(t, f, kind), Options{})
}

func newVTY(t testing.TB, f *frrproc.FRR, kind string) VTY {
	t.Helper()
	vtysh := Vtysh{Pathspace: f.Name()}
	switch kind {
	case "vtysh":
		return vtysh
	case "vtysock":
		fb := &countingVtysh{Vtysh: vtysh}
		s := NewVtySock(VtySockConfig{Pathspace: f.Name(), Fallback: fb})
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("closing the VtySock: %v", err)
			}
			if n := fb.execs.Load(); n > 0 {
				t.Errorf("the VtySock sent %d scripts through vtysh, want none", n)
			}
		})
		return s
	}
	t.Fatalf("unknown VTY kind %q", kind)
	return nil
}

// countingVtysh is a VtySock's fallback that counts the scripts it runs.
type countingVtysh struct {
	Vtysh
	execs atomic.Int32
}

func (c *countingVtysh) Exec(ctx context.Context, script []byte, show string) ([]byte, error) {
	c.execs.Add(1)
	return c.Vtysh.Exec(ctx, script, show)
}

// running returns the FRR's running config, parsed.
func running(t *testing.T, f *frrproc.FRR) *Config {
	t.Helper()
	out, err := f.Vtysh(t.Context(), "show running-config")
	if err != nil {
		t.Fatal(err)
	}
	return Parse(out)
}

// semantic flattens a config for comparison with what FRR shows: every
// context header and line with its path, the lines FRR rewrites in a
// common form, and without the lines it prints on its own (also those
// of an older `frr version`'s defaults, as FRR 10 prints for base's
// `frr version 8.4.4`) or leaves out.
func semantic(c *Config) []string {
	var out []string
	var walk func(path []string, n *Node)
	walk = func(path []string, n *Node) {
		for _, c := range n.Children {
			l := c.Line
			if notApplied(l) || IsDefault(path, l) || IsVersionDefault(path, l) || strings.HasPrefix(l, "log ") ||
				strings.HasSuffix(l, "forwarding") || strings.HasSuffix(l, "nht resolve-via-default") {
				continue
			}
			p := append(slices.Clone(path), comparable(l))
			if c.kind != kindAF {
				out = append(out, strings.Join(p, " > "))
			}
			if c.isContext() {
				walk(p, c)
			}
		}
	}
	walk(nil, c.Root)
	slices.Sort(out)
	return slices.Compact(out)
}

// realBase is base without the lines that touch the host (log file).
func realBase(t *testing.T, pairs ...string) string {
	t.Helper()
	s := strings.Replace(base, "log file /etc/frr/frr.log informational\n", "", 1)
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("base lacks %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func TestApplyRealFRR(t *testing.T) {
	for _, kind := range vtyKinds {
		t.Run(kind, func(t *testing.T) { testApplyRealFRR(t, kind) })
	}
}

func testApplyRealFRR(t *testing.T, kind string) {
	f, a := startFRR(t, "", kind)
	ctx := t.Context()

	steps := []struct {
		name     string
		desired  string
		wantPath Path
	}{
		{"first", realBase(t), PathFull},
		{"same again", realBase(t), PathNone},
		{"add ipv4 network", realBase(t,
			"    network 198.51.100.10/32\n", "    network 198.51.100.10/32\n    network 198.51.100.11/32\n",
			"seq 1 permit 198.51.100.10/32\n", "seq 1 permit 198.51.100.10/32\nip prefix-list 192.0.2.2-pl-ipv4 seq 2 permit 198.51.100.11/32\n"), PathFast},
		{"add ipv6 network", realBase(t,
			"    network 198.51.100.10/32\n", "    network 198.51.100.10/32\n    network 198.51.100.11/32\n",
			"    network 2001:db8::10/128\n", "    network 2001:db8::10/128\n    network 2001:db8::11/128\n"), PathFast},
		{"remove ipv6 network", realBase(t,
			"    network 2001:db8::10/128\n", "",
			"ipv6 prefix-list 192.0.2.2-pl-ipv6 seq 1 permit 2001:db8::10/128\n", ""), PathFast},
		{"add neighbor", realBase(t,
			"  neighbor 192.0.2.2 timers 30 90\n", "  neighbor 192.0.2.2 timers 30 90\n  neighbor 192.0.2.3 remote-as 64514\n  neighbor 192.0.2.3 bfd\n",
			"    neighbor 192.0.2.2 route-map 192.0.2.2-out out\n    network 198.51.100.10/32\n",
			"    neighbor 192.0.2.2 route-map 192.0.2.2-out out\n    neighbor 192.0.2.3 activate\n    neighbor 192.0.2.3 route-map 192.0.2.3-out out\n    network 198.51.100.10/32\n",
			"route-map 192.0.2.2-in deny 20\n", "route-map 192.0.2.3-out permit 1\n set community 64512:7\nexit\n!\nroute-map 192.0.2.2-in deny 20\n"), PathFast},
		{"remove neighbor", realBase(t), PathFast},
		{"change values in place", realBase(t,
			"neighbor 192.0.2.2 remote-as 64513", "neighbor 192.0.2.2 remote-as 64599",
			"neighbor 192.0.2.2 timers 30 90", "neighbor 192.0.2.2 timers 3 9",
			"set local-preference 100", "set local-preference 200",
			"bgp router-id 192.0.2.1", "bgp router-id 192.0.2.9",
			"    receive-interval 300", "    receive-interval 100",
			"prefix-list 192.0.2.2-pl-ipv4 seq 1 permit 198.51.100.10/32", "prefix-list 192.0.2.2-pl-ipv4 seq 1 permit 198.51.100.0/24 le 32"), PathFast},
		{"route-map entries", realBase(t,
			"route-map 192.0.2.2-out permit 2\n match ipv6 address prefix-list 192.0.2.2-pl-ipv6\nexit\n",
			"route-map 192.0.2.2-out permit 3\n match community cl\n set large-community 64512:1:1\nexit\n",
			"    network 198.51.100.10/32\n", "    network 198.51.100.10/32 route-map 192.0.2.2-out\n"), PathFast},
		{"community-list and bfd peer", realBase(t,
			"bgp community-list standard cl seq 5 permit 64512:100\n", "bgp community-list standard cl2 seq 5 permit 64512:200\n",
			"  profile prof1\n", "  peer 192.0.2.2\n    profile prof1\n  exit\n  profile prof1\n    detect-multiplier 5\n"), PathFast},
		{"bfd removed", realBase(t,
			"  neighbor 192.0.2.2 bfd profile prof1\n", "",
			"bfd\n  profile prof1\n    receive-interval 300\n    transmit-interval 300\n  exit\nexit\n", ""), PathFast},
		{"flags back to default", realBase(t,
			"  no bgp ebgp-requires-policy\n", "",
			"  no bgp network import-check\n", ""), PathFast},
		{"add local-as and disable-connected-check", realBase(t,
			"  neighbor 192.0.2.2 remote-as 64513\n", "  neighbor 192.0.2.2 remote-as 64513\n  neighbor 192.0.2.2 local-as 64600 no-prepend replace-as\n  neighbor 192.0.2.2 disable-connected-check\n"), PathFast},
		{"change local-as", realBase(t,
			"  neighbor 192.0.2.2 remote-as 64513\n", "  neighbor 192.0.2.2 remote-as 64513\n  neighbor 192.0.2.2 local-as 64601 no-prepend replace-as\n  neighbor 192.0.2.2 disable-connected-check\n"), PathFast},
		{"back to base", realBase(t), PathFast},
		{"add interface neighbors", withInterfaceNeighbors(t, realBase(t)), PathFast},
		{"change interface neighbors' AS and link", strings.NewReplacer(
			"neighbor eth1 interface remote-as external", "neighbor eth1 interface remote-as 64515",
			"neighbor fe80::2 interface eth2", "neighbor fe80::2 interface eth3").Replace(withInterfaceNeighbors(t, realBase(t))), PathFast},
		{"remove interface neighbors", realBase(t), PathFast},
	}
	for _, s := range steps {
		res, err := a.Apply(ctx, []byte(s.desired))
		if err != nil {
			t.Fatalf("%s: Apply: %v (result %+v)", s.name, err, res)
		}
		if res.Path != s.wantPath || res.FastFailure != nil {
			t.Errorf("%s: path %s (fast failure %+v), want %s", s.name, res.Path, res.FastFailure, s.wantPath)
		}
		if diff := cmp.Diff(semantic(Parse([]byte(s.desired))), semantic(running(t, f))); diff != "" {
			t.Errorf("%s: running config differs from desired (-want +got):\n%s", s.name, diff)
		}
	}
}

func TestApplyRealFRRErrors(t *testing.T) {
	for _, kind := range vtyKinds {
		t.Run(kind, func(t *testing.T) { testApplyRealFRRErrors(t, kind) })
	}
}

func testApplyRealFRRErrors(t *testing.T, kind string) {
	f, a := startFRR(t, "", kind)
	ctx := t.Context()
	good := realBase(t)
	if _, err := a.Apply(ctx, []byte(good)); err != nil {
		t.Fatal(err)
	}

	// A command FRR refuses: the fast path fails in vtysh, the full path
	// fails too, and the error names the stage and carries FRR's message.
	bad := realBase(t, "  neighbor 192.0.2.2 timers 30 90\n", "  neighbor 192.0.2.2 timers 30 90\n  neighbor 192.0.2.2 password s3cret\n  neighbor 192.0.2.2 frobnicate\n")
	res, err := a.Apply(ctx, []byte(bad))
	var ae *Error
	if !errors.As(err, &ae) || ae.Stage != StageReload {
		t.Fatalf("bad config: err = %v, want an *Error at stage reload", err)
	}
	if res.FastFailure == nil || res.FastFailure.Stage != StageVtysh || !strings.Contains(res.FastFailure.Message, "Unknown command") {
		t.Errorf("fast failure = %+v, want vtysh's 'Unknown command'", res.FastFailure)
	}
	if !strings.Contains(ae.Message, "frobnicate") {
		t.Errorf("reload message %q does not name the bad line", ae.Message)
	}
	for _, m := range []string{ae.Message, res.FastFailure.Message, err.Error()} {
		if strings.Contains(m, "s3cret") {
			t.Errorf("a message leaks the password: %q", m)
		}
	}

	// Both paths failed: the good config was reloaded, so FRR does not
	// run a part of the bad delta, and the next apply of it is a no-op.
	if !res.RolledBack {
		t.Errorf("result %+v not rolled back", res)
	}
	if diff := cmp.Diff(semantic(Parse([]byte(good))), semantic(running(t, f))); diff != "" {
		t.Errorf("after rollback the running config differs from the good one (-want +got):\n%s", diff)
	}
	res, err = a.Apply(ctx, []byte(good))
	if err != nil || res.Path != PathNone {
		t.Errorf("good config after rollback = %+v, %v; want nothing to do", res, err)
	}

	// A change behind the Applier's back: the fast path would not see it,
	// Reconcile repairs it.
	if _, err := f.Vtysh(ctx, "configure terminal", "router bgp 64512", "address-family ipv4 unicast", "no network 198.51.100.10/32"); err != nil {
		t.Fatal(err)
	}
	res, err = a.Reconcile(ctx)
	if err != nil || res.Path != PathFull || res.Reason != "resync" {
		t.Fatalf("Reconcile = %+v, %v; want a full resync", res, err)
	}
	if diff := cmp.Diff(semantic(Parse([]byte(good))), semantic(running(t, f))); diff != "" {
		t.Errorf("after Reconcile the running config differs from desired (-want +got):\n%s", diff)
	}
}

// neighborCounters is the part of `show bgp neighbors json` this test
// reads.
type neighborCounters struct {
	State       string `json:"bgpState"`
	Established int    `json:"connectionsEstablished"`
	Dropped     int    `json:"connectionsDropped"`
}

func TestDeltaApplyKeepsSession(t *testing.T) {
	for _, kind := range vtyKinds {
		t.Run(kind, func(t *testing.T) { testDeltaApplyKeepsSession(t, kind) })
	}
}

func testDeltaApplyKeepsSession(t *testing.T, kind string) {
	frrproc.SkipUnlessRoot(t)
	nsA, nsB := frrproc.NewTestNetns(t), frrproc.NewTestNetns(t)
	if err := frrproc.Veth(t.Context(), nsA, "eth-b", "192.0.2.1/24", nsB, "eth-a", "192.0.2.2/24"); err != nil {
		t.Fatal(err)
	}
	peer := frrproc.StartTest(t, frrproc.Config{Netns: nsB, InitialConfig: []byte(`router bgp 64513
 bgp router-id 192.0.2.2
 no bgp ebgp-requires-policy
 neighbor 192.0.2.1 remote-as 64512
 neighbor 192.0.2.1 timers 1 3
exit
`)})
	_, a := startFRR(t, nsA, kind)
	ctx := t.Context()
	desired := func(n int) []byte {
		var b strings.Builder
		b.WriteString("router bgp 64512\n bgp router-id 192.0.2.1\n no bgp ebgp-requires-policy\n no bgp network import-check\n neighbor 192.0.2.2 remote-as 64513\n neighbor 192.0.2.2 timers 1 3\n address-family ipv4 unicast\n")
		for i := range n {
			fmt.Fprintf(&b, "  network 198.51.100.%d/32\n", i+1)
		}
		b.WriteString(" exit-address-family\nexit\n")
		return []byte(b.String())
	}
	if _, err := a.Apply(ctx, desired(0)); err != nil {
		t.Fatal(err)
	}
	counters := func() neighborCounters {
		var m map[string]neighborCounters
		if err := peer.VtyshJSON(ctx, "show bgp neighbors 192.0.2.1 json", &m); err != nil {
			t.Fatal(err)
		}
		return m["192.0.2.1"]
	}
	waitFor(t, "session established", func() bool { return counters().State == "Established" })
	before := counters()

	for n := 1; n <= 100; n++ {
		res, err := a.Apply(ctx, desired(n))
		if err != nil || res.Path != PathFast {
			t.Fatalf("apply %d: %+v, %v; want the fast path", n, res, err)
		}
	}
	waitFor(t, "peer receives 100 prefixes", func() bool {
		var m map[string]struct {
			AF map[string]struct {
				Accepted int `json:"acceptedPrefixCounter"`
			} `json:"addressFamilyInfo"`
		}
		if err := peer.VtyshJSON(ctx, "show bgp neighbors 192.0.2.1 json", &m); err != nil {
			t.Fatal(err)
		}
		return m["192.0.2.1"].AF["ipv4Unicast"].Accepted == 100
	})
	after := counters()
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the session was reset by delta applies (-before +after):\n%s", diff)
	}
}

// waitFor polls cond until it holds, failing t after a bound meant only
// to catch hangs.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
