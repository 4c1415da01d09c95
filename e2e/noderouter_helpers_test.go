package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/e2e/lab"
	"github.com/ironlb/ironlb/frr/vtyshjson"
)

// The lab router's own prefixes (see lab.RouterPrefixes) and the
// prefixes the node-router tests make the nodes announce: nodePrefix4
// and nodePrefix6 to the router, collectorPrefix6 to the iBGP collector.
var (
	routerA4 = netip.MustParsePrefix(lab.RouterPrefixAv4)
	routerB4 = netip.MustParsePrefix(lab.RouterPrefixBv4)
	routerA6 = netip.MustParsePrefix(lab.RouterPrefixAv6)
	routerB6 = netip.MustParsePrefix(lab.RouterPrefixBv6)

	default4 = netip.MustParsePrefix("0.0.0.0/0")
	default6 = netip.MustParsePrefix("::/0")

	nodePrefix4      = netip.MustParsePrefix("198.51.100.224/28")
	nodePrefix6      = netip.MustParsePrefix("2001:db8:0:300::/64")
	collectorPrefix6 = netip.MustParsePrefix("2001:db8:0:301::/64")
)

// labBFD is the BFD profile the lab's BGPPeers use ("lab", all values
// ironlb's defaults), as an FRRConfiguration must name it to share their
// sessions: a neighbor's settings must agree in every piece of the merge.
func labBFD() []frrk8s.BFDProfile { return []frrk8s.BFDProfile{{Name: "lab"}} }

// routerAsNeighbor is the lab router as an FRRConfiguration neighbor, with
// the settings of ironlb's BGPPeer for that address (router-v4 or
// router-v6), so that the two share one session.
func routerAsNeighbor(v6 bool) frrk8s.Neighbor {
	addr := lab.RouterIPv4
	if v6 {
		addr = lab.RouterIPv6
	}
	return frrk8s.Neighbor{Address: addr, ASN: lab.RouterAS, BFDProfile: "lab"}
}

// receiveFrom lets in the given prefixes (filtered) or everything (no
// prefixes: mode all).
func receiveFrom(prefixes ...netip.Prefix) frrk8s.Receive {
	if len(prefixes) == 0 {
		return frrk8s.Receive{Allowed: frrk8s.AllowedInPrefixes{Mode: frrk8s.AllowAll}}
	}
	in := frrk8s.Receive{Allowed: frrk8s.AllowedInPrefixes{Mode: frrk8s.AllowRestricted}}
	for _, p := range prefixes {
		in.Allowed.Prefixes = append(in.Allowed.Prefixes, frrk8s.PrefixSelector{Prefix: p.String()})
	}
	return in
}

// frrConfiguration returns an FRRConfiguration in ironlb's namespace for
// every node, with one router of the nodes' AS.
func frrConfiguration(name string, router frrk8s.Router) *frrk8s.FRRConfiguration {
	router.ASN = lab.NodeAS
	return &frrk8s.FRRConfiguration{
		ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: name},
		Spec: frrk8s.FRRConfigurationSpec{BGP: frrk8s.BGPConfig{
			Routers:     []frrk8s.Router{router},
			BFDProfiles: labBFD(),
		}},
	}
}

// createFRRConfiguration creates c and deletes it when t ends, whether t
// failed or not (a test that deleted it already is fine).
func createFRRConfiguration(t testing.TB, l *lab.Lab, c *frrk8s.FRRConfiguration) {
	t.Helper()
	if err := l.Kube().Create(t.Context(), c); err != nil {
		t.Fatalf("creating FRRConfiguration %s: %v", c.Name, err)
	}
	key := client.ObjectKeyFromObject(c)
	t.Cleanup(func() {
		obj := &frrk8s.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
		if err := l.Kube().Delete(context.Background(), obj); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting FRRConfiguration %s: %v", key, err)
		}
	})
}

// updateFRRConfiguration reads the object, changes it with mod and
// writes it back.
func updateFRRConfiguration(t testing.TB, l *lab.Lab, name string, mod func(*frrk8s.FRRConfiguration)) {
	t.Helper()
	var c frrk8s.FRRConfiguration
	if err := l.Kube().Get(t.Context(), client.ObjectKey{Namespace: lab.MetalLBNamespace, Name: name}, &c); err != nil {
		t.Fatalf("reading FRRConfiguration %s: %v", name, err)
	}
	mod(&c)
	if err := l.Kube().Update(t.Context(), &c); err != nil {
		t.Fatalf("updating FRRConfiguration %s: %v", name, err)
	}
}

// deleteFRRConfiguration deletes one of the test's objects now.
func deleteFRRConfiguration(t testing.TB, l *lab.Lab, name string) {
	t.Helper()
	obj := &frrk8s.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: name}}
	if err := l.Kube().Delete(t.Context(), obj); err != nil {
		t.Fatalf("deleting FRRConfiguration %s: %v", name, err)
	}
}

// kernelRoute is one route of `ip -j route`.
type kernelRoute struct {
	Dst      string `json:"dst"`
	Gateway  string `json:"gateway"`
	Dev      string `json:"dev"`
	Protocol string `json:"protocol"`
	Nexthops []struct {
		Gateway string `json:"gateway"`
		Dev     string `json:"dev"`
	} `json:"nexthops"`
}

// prefix returns the route's destination as a prefix ("default" is the
// family's default route).
func (r kernelRoute) prefix(v6 bool) netip.Prefix {
	if r.Dst == "default" {
		if v6 {
			return default6
		}
		return default4
	}
	if p, err := netip.ParsePrefix(r.Dst); err == nil {
		return p
	}
	if a, err := netip.ParseAddr(r.Dst); err == nil {
		return netip.PrefixFrom(a, a.BitLen())
	}
	return netip.Prefix{}
}

// kernelRoutes returns the routes of a namespace's main table that match
// the selector (`ip route show SELECTOR...`).
func kernelRoutes(ctx context.Context, netns string, v6 bool, selector ...string) ([]kernelRoute, error) {
	fam := "-4"
	if v6 {
		fam = "-6"
	}
	out, err := lab.Exec(ctx, netns, append([]string{"ip", "-j", fam, "route", "show"}, selector...)...)
	if err != nil {
		return nil, err
	}
	var routes []kernelRoute
	if err := json.Unmarshal(out, &routes); err != nil {
		return nil, fmt.Errorf("decoding ip route of %s: %w: %s", netns, err, out)
	}
	return routes, nil
}

// bgpKernelPrefixes returns the sorted destinations of a node's kernel
// routes that zebra installed from BGP (proto bgp), both families.
func bgpKernelPrefixes(ctx context.Context, node string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v6 := range []bool{false, true} {
		routes, err := kernelRoutes(ctx, node, v6, "proto", "bgp")
		if err != nil {
			return nil, err
		}
		for _, r := range routes {
			out = append(out, r.prefix(v6))
		}
	}
	slices.SortFunc(out, comparePrefixes)
	return out, nil
}

func comparePrefixes(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return a.Bits() - b.Bits()
}

// fibMatch returns the kernel route a packet from netns to dst takes
// (`ip route get fibmatch`).
func fibMatch(ctx context.Context, netns string, dst netip.Addr) (kernelRoute, error) {
	fam := "-4"
	if dst.Is6() {
		fam = "-6"
	}
	out, err := lab.Exec(ctx, netns, "ip", "-j", fam, "route", "get", "fibmatch", dst.String())
	if err != nil {
		return kernelRoute{}, err
	}
	var got []kernelRoute
	if err := json.Unmarshal(out, &got); err != nil || len(got) != 1 {
		return kernelRoute{}, fmt.Errorf("decoding ip route get fibmatch %s in %s: %v: %s", dst, netns, err, out)
	}
	return got[0], nil
}

// routesFrom returns the sorted prefixes of a node's BGP table (both
// families) that have a path from peer.
func routesFrom(ctx context.Context, l *lab.Lab, node string, peers ...string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, fam := range []string{"ipv4", "ipv6"} {
		data, err := l.NodeVtysh(ctx, node, "show bgp "+fam+" unicast json")
		if err != nil {
			return nil, err
		}
		parse := vtyshjson.ParseBGPIPv4Unicast
		if fam == "ipv6" {
			parse = vtyshjson.ParseBGPIPv6Unicast
		}
		table, err := parse(data)
		if err != nil {
			return nil, err
		}
		for _, r := range table.Routes {
			if slices.ContainsFunc(r.Paths, func(p vtyshjson.Path) bool { return slices.Contains(peers, p.PeerID) }) {
				out = append(out, r.Prefix)
			}
		}
	}
	slices.SortFunc(out, comparePrefixes)
	return out, nil
}

// zebraProtocols returns the protocols of zebra's routes to a prefix on
// a node, the selected one marked with a '>' ("kernel>", "bgp").
func zebraProtocols(ctx context.Context, l *lab.Lab, node string, p netip.Prefix) ([]string, error) {
	fam := "ip"
	if p.Addr().Is6() {
		fam = "ipv6"
	}
	data, err := l.NodeVtysh(ctx, node, fmt.Sprintf("show %s route %s json", fam, p))
	if err != nil {
		return nil, err
	}
	var rib map[string][]struct {
		Protocol string `json:"protocol"`
		Selected bool   `json:"selected"`
	}
	if err := json.Unmarshal(data, &rib); err != nil {
		return nil, fmt.Errorf("decoding zebra's routes to %s on %s: %w", p, node, err)
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(rib)) {
		for _, r := range rib[k] {
			s := r.Protocol
			if r.Selected {
				s += ">"
			}
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out, nil
}

// sessionKey names one BGP session as one side sees it: "ilb-rtr
// 192.0.2.11" is the router's session to ilb-n1.
type sessionKey string

// sessionCounters are the established and dropped counts of sessions,
// from both ends: an unchanged pair means the session was not reset.
type sessionCounters map[sessionKey][2]int64

// routerSessionCounters reads the counters of the router's BGP
// sessions, keyed "ilb-rtr ADDRESS", and returns them with the router's
// neighbors they come from.
func routerSessionCounters(t testing.TB, l *lab.Lab) (sessionCounters, []vtyshjson.BGPNeighbor) {
	t.Helper()
	rn, err := routerNeighbors(t.Context(), l)
	if err != nil {
		t.Fatal(err)
	}
	out := sessionCounters{}
	for _, n := range rn {
		out[sessionKey(lab.RouterNetns+" "+n.Address)] = [2]int64{n.ConnectionsEstablished, n.ConnectionsDropped}
	}
	return out, rn
}

// snapshotSessions reads the counters of every session between the
// router and the nodes, from the router and from each node, and fails t
// unless the router's six are established.
func snapshotSessions(t testing.TB, l *lab.Lab) sessionCounters {
	t.Helper()
	ctx := t.Context()
	out, rn := routerSessionCounters(t, l)
	up := 0
	for _, n := range rn {
		if n.Established() {
			up++
		}
	}
	if up != 6 {
		t.Fatalf("the router has %d established sessions, want 6: %+v", up, rn)
	}
	for _, node := range lab.Nodes() {
		ns, err := nodeNeighbors(ctx, l, node.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			if n.Address == lab.RouterIPv4 || n.Address == lab.RouterIPv6 {
				out[sessionKey(node.Name+" "+n.Address)] = [2]int64{n.ConnectionsEstablished, n.ConnectionsDropped}
			}
		}
	}
	return out
}

func nodeNeighbors(ctx context.Context, l *lab.Lab, node string) ([]vtyshjson.BGPNeighbor, error) {
	out, err := l.NodeVtysh(ctx, node, "show bgp neighbors json")
	if err != nil {
		return nil, err
	}
	return vtyshjson.ParseBGPNeighbors(out)
}

// checkNoReset fails t for every session whose counters moved since
// before, or that is gone.
func checkNoReset(t testing.TB, l *lab.Lab, before sessionCounters) {
	t.Helper()
	after := snapshotSessions(t, l)
	for _, k := range slices.Sorted(maps.Keys(before)) {
		if a, ok := after[k]; !ok {
			t.Errorf("session %s: gone", k)
		} else if a != before[k] {
			t.Errorf("session %s: established/dropped %v before, %v after: it was reset", k, before[k], a)
		}
	}
	t.Logf("session counters unchanged: %v", after)
}

// waitNodeRoutes waits until every node's kernel has exactly the want
// routes from BGP.
func waitNodeRoutes(t testing.TB, want ...netip.Prefix) {
	t.Helper()
	for _, node := range lab.Nodes() {
		waitNodeRoutesOn(t, node.Name, want...)
	}
}

// waitNodeRoutesOn waits until one node's kernel has exactly the want
// routes from BGP.
func waitNodeRoutesOn(t testing.TB, node string, want ...netip.Prefix) {
	t.Helper()
	want = slices.Clone(want)
	slices.SortFunc(want, comparePrefixes)
	waitCond(t, fmt.Sprintf("BGP routes %v in %s's kernel", want, node), func(ctx context.Context) (bool, string) {
		got, err := bgpKernelPrefixes(ctx, node)
		if err != nil {
			return false, err.Error()
		}
		return slices.Equal(got, want), fmt.Sprint(got)
	})
}

// prefixPaths returns the paths of the router's (or another FRR's) BGP
// route to p, by vtysh.
func prefixPaths(ctx context.Context, vtysh func(context.Context, ...string) ([]byte, error), p netip.Prefix) ([]vtyshjson.Path, error) {
	fam := "ipv4"
	if p.Addr().Is6() {
		fam = "ipv6"
	}
	out, err := vtysh(ctx, fmt.Sprintf("show bgp %s unicast %s json", fam, p))
	if err != nil {
		return nil, err
	}
	r, err := vtyshjson.ParseBGPPrefix(out)
	if err != nil {
		return nil, err
	}
	return r.Paths, nil
}

// nodeAddrs returns the nodes' addresses of a family, sorted.
func nodeAddrs(v6 bool) []string {
	var out []string
	for _, n := range lab.Nodes() {
		if v6 {
			out = append(out, n.IPv6.String())
		} else {
			out = append(out, n.IPv4.String())
		}
	}
	slices.Sort(out)
	return out
}

// pathPeers returns the sorted peers of the paths that pass keep.
func pathPeers(paths []vtyshjson.Path, keep func(vtyshjson.Path) bool) []string {
	var out []string
	for _, p := range paths {
		if keep(p) {
			out = append(out, p.PeerID)
		}
	}
	slices.Sort(out)
	return out
}

// nodeStates returns each node's FRRNodeState lastConversionResult.
func nodeStates(ctx context.Context, l *lab.Lab) (map[string]string, error) {
	var list frrk8s.FRRNodeStateList
	if err := l.Kube().List(ctx, &list); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, s := range list.Items {
		out[s.Name] = s.Status.LastConversionResult
	}
	return out, nil
}

// waitConversion waits until every node's FRRNodeState reports a last
// conversion result that ok accepts.
func waitConversion(t testing.TB, l *lab.Lab, what string, ok func(string) bool) {
	t.Helper()
	waitCond(t, "every node's FRRNodeState: "+what, func(ctx context.Context) (bool, string) {
		st, err := nodeStates(ctx, l)
		if err != nil {
			return false, err.Error()
		}
		for _, n := range lab.Nodes() {
			if !ok(st[n.Name]) {
				return false, fmt.Sprintf("%q", st)
			}
		}
		return true, ""
	})
}

// isSuccess is FRRNodeState's lastConversionResult when all went well,
// as frr-k8s writes it.
func isSuccess(s string) bool { return s == "success" }

// contains accepts a string that has every one of subs.
func contains(subs ...string) func(string) bool {
	return func(s string) bool {
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				return false
			}
		}
		return true
	}
}

// waitPrefixesReceived waits until every node's SpeakerStatus (what
// `ironlb status` shows) counts want prefixes accepted from the router
// on each of its two sessions.
func waitPrefixesReceived(t testing.TB, l *lab.Lab, want int64) {
	t.Helper()
	waitCond(t, fmt.Sprintf("every node's SpeakerStatus: %d prefixes received from the router on each session", want), func(ctx context.Context) (bool, string) {
		var list v1beta1.SpeakerStatusList
		if err := l.Kube().List(ctx, &list, client.InNamespace(lab.MetalLBNamespace)); err != nil {
			return false, err.Error()
		}
		good := 0
		var seen []string
		for _, st := range list.Items {
			for _, s := range st.Status.Sessions {
				seen = append(seen, fmt.Sprintf("%s:%s=%d", st.Status.Node, s.Address, s.PrefixesReceived))
				if (s.Address == lab.RouterIPv4 || s.Address == lab.RouterIPv6) && s.PrefixesReceived == want {
					good++
				}
			}
		}
		return good == 2*len(lab.Nodes()), strings.Join(seen, " ")
	})
}
