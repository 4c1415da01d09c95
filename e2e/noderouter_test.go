package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/e2e/lab"
	"github.com/ironlb/ironlb/frr/vtyshjson"
	"github.com/ironlb/ironlb/internal/frrproc"
)

// TestNodeRouter runs the lab with speakers and checks issue 14's node
// router as a user would: routes received from the router through an
// FRRConfiguration, prefixes added to ironlb's own sessions, a neighbor
// added by another component, and the last valid configuration kept
// when an object is wrong. The lab's router sends every node a default
// route and its prefixes A and B of each family (lab.RouterPrefixes).
func TestNodeRouter(t *testing.T) {
	l := startSpeakerLab(t)
	waitSessions(t, l)
	t.Run("the router offers its routes and ironlb-in takes none", func(t *testing.T) { testRouterOffers(t, l) })
	t.Run("receiving routes: filtered, all, removed, no session reset", func(t *testing.T) { testReceiveRoutes(t, l) })
	t.Run("nodeSelector: only the selected node receives", func(t *testing.T) { testReceiveOnSelectedNode(t, l) })
	t.Run("sharing the sessions: extra prefixes, another component's neighbor", func(t *testing.T) { testShareSessions(t, l) })
	t.Run("a conflicting or invalid object keeps the last valid configuration", func(t *testing.T) { testLastValidKept(t, l) })
}

// testRouterOffers checks the lab itself: the router advertises its
// routes to every node, and with no FRRConfiguration no node takes any.
func testRouterOffers(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	for _, n := range lab.Nodes() {
		for _, fam := range []struct {
			name, peer string
			want       []netip.Prefix
		}{
			{"ipv4", n.IPv4.String(), []netip.Prefix{routerA4, routerB4}},
			{"ipv6", n.IPv6.String(), []netip.Prefix{routerA6, routerB6}},
		} {
			waitCond(t, fmt.Sprintf("the router advertises %v and a default route to %s", fam.want, fam.peer), func(ctx context.Context) (bool, string) {
				out, err := l.RouterVtysh(ctx, fmt.Sprintf("show bgp %s unicast neighbors %s advertised-routes json", fam.name, fam.peer))
				if err != nil {
					return false, err.Error()
				}
				s := string(out)
				ok := strings.Contains(s, "bgpOriginatingDefaultNetwork")
				for _, p := range fam.want {
					ok = ok && strings.Contains(s, `"`+p.String()+`"`)
				}
				return ok, s
			})
		}
	}
	// The nodes have had them offered: none is taken.
	for _, n := range lab.Nodes() {
		got, err := bgpKernelPrefixes(ctx, n.Name)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 0 {
			t.Errorf("%s has BGP routes %v in its kernel, want none: ironlb-in denies everything", n.Name, got)
		}
		got, err = routesFrom(ctx, l, n.Name, lab.RouterIPv4, lab.RouterIPv6)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 0 {
			t.Errorf("%s's BGP table has %v from the router, want nothing", n.Name, got)
		}
	}
}

// testReceiveRoutes: an FRRConfiguration that lets prefix A of each
// family in puts exactly A into every node's kernel, and packets to A
// take that route to the router; mode all brings the default routes and
// B too; deleting the object takes them away. Every node's
// SpeakerStatus counts the prefixes accepted from the router. No
// session is reset.
func testReceiveRoutes(t *testing.T, l *lab.Lab) {
	before := snapshotSessions(t, l)
	v4, v6 := routerAsNeighbor(false), routerAsNeighbor(true)
	v4.ToReceive, v6.ToReceive = receiveFrom(routerA4), receiveFrom(routerA6)
	createFRRConfiguration(t, l, frrConfiguration("receive", frrk8s.Router{Neighbors: []frrk8s.Neighbor{v4, v6}}))

	waitNodeRoutes(t, routerA4, routerA6)
	waitPrefixesReceived(t, l, 1)
	ctx := t.Context()
	for _, n := range lab.Nodes() {
		got, err := routesFrom(ctx, l, n.Name, lab.RouterIPv4, lab.RouterIPv6)
		if err != nil {
			t.Fatal(err)
		}
		if want := []netip.Prefix{routerA4, routerA6}; !slices.Equal(got, want) {
			t.Errorf("%s's BGP table has %v from the router, want %v", n.Name, got, want)
		}
		for _, p := range []netip.Prefix{routerA4, routerA6} {
			checkTrafficThroughRouter(t, n.Name, p)
		}
		// B is not let in: its packets take the lab's static default.
		for _, p := range []netip.Prefix{routerB4, routerB6} {
			r, err := fibMatch(ctx, n.Name, lab.RouterPrefixAddr(p))
			if err != nil {
				t.Fatal(err)
			}
			if r.Protocol == "bgp" {
				t.Errorf("%s: packets to %s take a BGP route %+v; B was not let in", n.Name, lab.RouterPrefixAddr(p), r)
			}
		}
	}

	updateFRRConfiguration(t, l, "receive", func(c *frrk8s.FRRConfiguration) {
		for i := range c.Spec.BGP.Routers[0].Neighbors {
			c.Spec.BGP.Routers[0].Neighbors[i].ToReceive = receiveFrom()
		}
	})
	// The default routes come in as well, into BGP and zebra; the kernel
	// keeps the lab's static default routes, which zebra prefers
	// (distance 0 against BGP's 20), so they are checked in zebra.
	waitNodeRoutes(t, routerA4, routerB4, routerA6, routerB6)
	waitPrefixesReceived(t, l, 3)
	for _, n := range lab.Nodes() {
		want := []netip.Prefix{default4, routerA4, routerB4, default6, routerA6, routerB6}
		slices.SortFunc(want, comparePrefixes)
		waitCond(t, fmt.Sprintf("%s's BGP table has %v from the router", n.Name, want), func(ctx context.Context) (bool, string) {
			got, err := routesFrom(ctx, l, n.Name, lab.RouterIPv4, lab.RouterIPv6)
			return err == nil && slices.Equal(got, want), fmt.Sprint(got, err)
		})
		for _, d := range []netip.Prefix{default4, default6} {
			protos, err := zebraProtocols(ctx, l, n.Name, d)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(protos, "bgp") && !slices.Contains(protos, "bgp>") {
				t.Errorf("%s: zebra's routes to %s are %v, want one from BGP", n.Name, d, protos)
			}
			t.Logf("%s: zebra's routes to %s: %v", n.Name, d, protos)
		}
		for _, p := range []netip.Prefix{routerB4, routerB6} {
			checkTrafficThroughRouter(t, n.Name, p)
		}
	}

	deleteFRRConfiguration(t, l, "receive")
	waitNodeRoutes(t)
	waitPrefixesReceived(t, l, 0)
	for _, n := range lab.Nodes() {
		waitCond(t, n.Name+"'s BGP table has nothing from the router", func(ctx context.Context) (bool, string) {
			got, err := routesFrom(ctx, l, n.Name, lab.RouterIPv4, lab.RouterIPv6)
			return err == nil && len(got) == 0, fmt.Sprint(got, err)
		})
	}
	checkNoReset(t, l, before)
}

// testReceiveOnSelectedNode: an FRRConfiguration whose nodeSelector
// names one node by its hostname label changes that node only.
func testReceiveOnSelectedNode(t *testing.T, l *lab.Lab) {
	const selected = "ilb-n2"
	before := snapshotSessions(t, l)
	v4, v6 := routerAsNeighbor(false), routerAsNeighbor(true)
	v4.ToReceive, v6.ToReceive = receiveFrom(), receiveFrom()
	c := frrConfiguration("receive-on-n2", frrk8s.Router{Neighbors: []frrk8s.Neighbor{v4, v6}})
	c.Spec.NodeSelector = metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/hostname": selected}}
	createFRRConfiguration(t, l, c)
	waitNodeRoutesOn(t, selected, routerA4, routerB4, routerA6, routerB6)
	for _, n := range lab.Nodes() {
		if n.Name == selected {
			continue
		}
		got, err := bgpKernelPrefixes(t.Context(), n.Name)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) > 0 {
			t.Errorf("%s has BGP routes %v; the object selects %s only", n.Name, got, selected)
		}
	}
	deleteFRRConfiguration(t, l, c.Name)
	waitNodeRoutesOn(t, selected)
	checkNoReset(t, l, before)
}

// checkTrafficThroughRouter checks that a node's packets to the
// router's address in p take the BGP route to p, through the router's
// LAN address, and are answered.
func checkTrafficThroughRouter(t *testing.T, node string, p netip.Prefix) {
	t.Helper()
	ctx := t.Context()
	dst := lab.RouterPrefixAddr(p)
	r, err := fibMatch(ctx, node, dst)
	if err != nil {
		t.Fatal(err)
	}
	if r.prefix(p.Addr().Is6()) != p || r.Protocol != "bgp" || r.Dev != lab.LANLink {
		t.Errorf("%s: packets to %s take %+v, want the BGP route to %s on %s", node, dst, r, p, lab.LANLink)
	}
	// IPv4 next hops are the router's LAN address; IPv6 ones its global
	// or link-local address, which only the LAN link leads to.
	if p.Addr().Is4() && r.Gateway != lab.RouterIPv4 {
		t.Errorf("%s: the route to %s goes via %q, want the router %s", node, p, r.Gateway, lab.RouterIPv4)
	}
	if err := lab.Ping(ctx, node, dst); err != nil {
		t.Errorf("%s: %v", node, err)
	}
}

// testShareSessions: an FRRConfiguration adds prefixes, with a community
// and a local preference, to ironlb's own sessions to the router; the
// router gets them and the Services' routes over the same one session
// per node and family, none reset. A second FRRConfiguration, of
// "another component", adds a neighbor ironlb does not know: the iBGP
// collector on the LAN client, which gets only its prefix, with the
// local preference and community asked for (LOCAL_PREF only crosses
// iBGP, so the router cannot show it).
func testShareSessions(t *testing.T, l *lab.Lab) {
	svc, all := serviceOnAllNodes(t, l, "shared")
	before := snapshotSessions(t, l)

	v4, v6 := routerAsNeighbor(false), routerAsNeighbor(true)
	v4.ToAdvertise = frrk8s.Advertise{
		Allowed:               frrk8s.AllowedOutPrefixes{Prefixes: []string{nodePrefix4.String()}},
		PrefixesWithCommunity: []frrk8s.CommunityPrefixes{{Prefixes: []string{nodePrefix4.String()}, Community: "65000:300"}},
		PrefixesWithLocalPref: []frrk8s.LocalPrefPrefixes{{Prefixes: []string{nodePrefix4.String()}, LocalPref: 200}},
	}
	v6.ToAdvertise = frrk8s.Advertise{
		Allowed:               frrk8s.AllowedOutPrefixes{Prefixes: []string{nodePrefix6.String()}},
		PrefixesWithCommunity: []frrk8s.CommunityPrefixes{{Prefixes: []string{nodePrefix6.String()}, Community: "large:64512:300:6"}},
		PrefixesWithLocalPref: []frrk8s.LocalPrefPrefixes{{Prefixes: []string{nodePrefix6.String()}, LocalPref: 200}},
	}
	createFRRConfiguration(t, l, frrConfiguration("extra-prefixes", frrk8s.Router{
		Prefixes:  []string{nodePrefix4.String(), nodePrefix6.String()},
		Neighbors: []frrk8s.Neighbor{v4, v6},
	}))
	routerPaths := func(p netip.Prefix, keep func(vtyshjson.Path) bool) func(ctx context.Context) (bool, string) {
		return func(ctx context.Context) (bool, string) {
			paths, err := prefixPaths(ctx, l.RouterVtysh, p)
			if err != nil {
				return false, err.Error()
			}
			return slices.Equal(pathPeers(paths, keep), nodeAddrs(p.Addr().Is6())), fmt.Sprintf("%+v", paths)
		}
	}
	waitCond(t, fmt.Sprintf("the router has %s from every node with 65000:300", nodePrefix4), routerPaths(nodePrefix4,
		func(p vtyshjson.Path) bool { return slices.Contains(p.Communities, "65000:300") }))
	waitCond(t, fmt.Sprintf("the router has %s from every node with 64512:300:6", nodePrefix6), routerPaths(nodePrefix6,
		func(p vtyshjson.Path) bool { return slices.Contains(p.LargeCommunities, "64512:300:6") }))
	// The Service's routes are still there, untouched by the communities.
	if gws, err := nextHops(t.Context(), svc); err != nil || !slices.Equal(gws, all) {
		t.Errorf("next hops of the Service %s: %v (%v), want %v", svc, gws, err, all)
	}
	paths, err := prefixPaths(t.Context(), l.RouterVtysh, netip.PrefixFrom(svc, 32))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if slices.Contains(p.Communities, "65000:300") {
			t.Errorf("the Service's route from %s carries 65000:300, which was asked only for %s", p.PeerID, nodePrefix4)
		}
	}
	checkOneSessionPerFamily(t, l, lab.RouterIPv4, lab.RouterIPv6)
	checkNoReset(t, l, before)

	// Another component adds a neighbor ironlb does not know.
	collector := frrproc.StartTest(t, frrproc.Config{
		Name:          frrproc.UniqueName("ilb-coll"),
		Netns:         lab.LANClientNetns,
		Daemons:       []string{"zebra", "bgpd"},
		InitialConfig: collectorConfig(),
	})
	other := frrConfiguration("other-component", frrk8s.Router{
		Prefixes: []string{collectorPrefix6.String()},
		Neighbors: []frrk8s.Neighbor{{
			Address: lab.LANClientIPv6, ASN: lab.NodeAS,
			ToAdvertise: frrk8s.Advertise{
				Allowed:               frrk8s.AllowedOutPrefixes{Prefixes: []string{collectorPrefix6.String()}},
				PrefixesWithLocalPref: []frrk8s.LocalPrefPrefixes{{Prefixes: []string{collectorPrefix6.String()}, LocalPref: 250}},
				PrefixesWithCommunity: []frrk8s.CommunityPrefixes{{Prefixes: []string{collectorPrefix6.String()}, Community: "65000:301"}},
			},
		}},
	})
	other.Spec.BGP.BFDProfiles = nil
	createFRRConfiguration(t, l, other)
	waitCond(t, fmt.Sprintf("the collector has %s from every node with localPref 250 and 65000:301", collectorPrefix6), func(ctx context.Context) (bool, string) {
		paths, err := prefixPaths(ctx, collector.Vtysh, collectorPrefix6)
		if err != nil {
			return false, err.Error()
		}
		got := pathPeers(paths, func(p vtyshjson.Path) bool {
			return p.From == "internal" && p.HasLocalPref && p.LocalPref == 250 && slices.Contains(p.Communities, "65000:301")
		})
		return slices.Equal(got, nodeAddrs(true)), fmt.Sprintf("%+v", paths)
	})
	// The collector gets nothing else: not the Services (ironlb does not
	// know it), not what goes to the router.
	out, err := collector.Vtysh(t.Context(), "show bgp ipv6 unicast json")
	if err != nil {
		t.Fatal(err)
	}
	table, err := vtyshjson.ParseBGPIPv6Unicast(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range table.Routes {
		if r.Prefix != collectorPrefix6 {
			t.Errorf("the collector got %s, want only %s", r.Prefix, collectorPrefix6)
		}
	}
	// And the router does not get the collector's prefix.
	if paths, err := prefixPaths(t.Context(), l.RouterVtysh, collectorPrefix6); err != nil || len(paths) > 0 {
		t.Errorf("the router has %s (%v): %+v; it was for the collector only", collectorPrefix6, err, paths)
	}
	waitCond(t, "the router still has "+nodePrefix4.String()+" from every node", routerPaths(nodePrefix4,
		func(p vtyshjson.Path) bool { return slices.Contains(p.Communities, "65000:300") }))
	checkOneSessionPerFamily(t, l, lab.RouterIPv4, lab.RouterIPv6, lab.LANClientIPv6)
	checkNoReset(t, l, before)

	// The collector's neighbor goes before the FRR behind it stops.
	deleteFRRConfiguration(t, l, "other-component")
	deleteFRRConfiguration(t, l, "extra-prefixes")
	waitCond(t, "the router has no "+nodePrefix4.String()+" nor "+nodePrefix6.String(), func(ctx context.Context) (bool, string) {
		p4, err4 := prefixPaths(ctx, l.RouterVtysh, nodePrefix4)
		p6, err6 := prefixPaths(ctx, l.RouterVtysh, nodePrefix6)
		return err4 == nil && err6 == nil && len(p4)+len(p6) == 0, fmt.Sprint(p4, p6, err4, err6)
	})
	checkOneSessionPerFamily(t, l, lab.RouterIPv4, lab.RouterIPv6)
	checkNoReset(t, l, before)
}

// checkOneSessionPerFamily checks that every node has exactly the
// neighbors want, each established.
func checkOneSessionPerFamily(t *testing.T, l *lab.Lab, want ...string) {
	t.Helper()
	want = slices.Clone(want)
	slices.Sort(want)
	for _, n := range lab.Nodes() {
		waitCond(t, fmt.Sprintf("%s's sessions are %v, established", n.Name, want), func(ctx context.Context) (bool, string) {
			ns, err := nodeNeighbors(ctx, l, n.Name)
			if err != nil {
				return false, err.Error()
			}
			var got []string
			up := true
			for _, nb := range ns {
				got = append(got, nb.Address)
				up = up && nb.Established()
			}
			slices.Sort(got)
			return up && slices.Equal(got, want), fmt.Sprintf("%+v", ns)
		})
	}
}

// testLastValidKept: with a valid FRRConfiguration in force, an object
// that conflicts with ironlb's own BGPPeer, then an object that is
// invalid on its own, are reported in every node's FRRNodeState and
// change nothing: the received routes stay as they were, none of the
// bad objects' routes arrive, no session is reset. Once they are gone,
// a valid change applies again.
func testLastValidKept(t *testing.T, l *lab.Lab) {
	v4, v6 := routerAsNeighbor(false), routerAsNeighbor(true)
	v4.ToReceive, v6.ToReceive = receiveFrom(routerA4), receiveFrom(routerA6)
	createFRRConfiguration(t, l, frrConfiguration("valid", frrk8s.Router{Neighbors: []frrk8s.Neighbor{v4, v6}}))
	waitNodeRoutes(t, routerA4, routerA6)
	waitConversion(t, l, "success", isSuccess)
	before := snapshotSessions(t, l)

	// The router's AS is 64500, as BGPPeer router-v4 says.
	rival := routerAsNeighbor(false)
	rival.ASN = lab.RouterAS + 1
	rival.ToReceive = receiveFrom()
	createFRRConfiguration(t, l, frrConfiguration("rival", frrk8s.Router{Neighbors: []frrk8s.Neighbor{rival}}))
	waitConversion(t, l, "a conflict naming rival", contains("rival", "asn"))
	checkStillReceiving(t, l)

	deleteFRRConfiguration(t, l, "rival")
	waitConversion(t, l, "success", isSuccess)
	// A BFD profile the object does not define: refused by the admission
	// webhook, which the lab does not run.
	broken := routerAsNeighbor(true)
	broken.BFDProfile = "nope"
	broken.ToReceive = receiveFrom()
	createFRRConfiguration(t, l, frrConfiguration("broken", frrk8s.Router{Neighbors: []frrk8s.Neighbor{broken}}))
	waitConversion(t, l, "an error naming broken", contains("broken", "nope"))
	checkStillReceiving(t, l)

	deleteFRRConfiguration(t, l, "broken")
	updateFRRConfiguration(t, l, "valid", func(c *frrk8s.FRRConfiguration) {
		ns := c.Spec.BGP.Routers[0].Neighbors
		ns[0].ToReceive, ns[1].ToReceive = receiveFrom(routerA4, routerB4), receiveFrom(routerA6, routerB6)
	})
	waitNodeRoutes(t, routerA4, routerB4, routerA6, routerB6)
	waitConversion(t, l, "success", isSuccess)
	deleteFRRConfiguration(t, l, "valid")
	waitNodeRoutes(t)
	checkNoReset(t, l, before)
}

// checkStillReceiving checks, once the nodes reported a bad object, that
// they still have exactly the valid object's routes (A of each family).
func checkStillReceiving(t *testing.T, l *lab.Lab) {
	t.Helper()
	want := []netip.Prefix{routerA4, routerA6}
	slices.SortFunc(want, comparePrefixes)
	for _, n := range lab.Nodes() {
		got, err := bgpKernelPrefixes(t.Context(), n.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s's kernel has BGP routes %v with a bad object, want the last valid %v", n.Name, got, want)
		}
	}
	checkOneSessionPerFamily(t, l, lab.RouterIPv4, lab.RouterIPv6)
}
