package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/e2e/lab"
	"github.com/ironlb/ironlb/frr/vtyshjson"
)

// TestBGP runs the lab with speakers and checks, from the router and the
// clients, what BGP mode promises.
func TestBGP(t *testing.T) {
	l := startSpeakerLab(t)

	waitSessions(t, l)
	t.Run("ETP Cluster: three ECMP next hops, HTTP spreads", func(t *testing.T) { testECMP(t, l) })
	t.Run("ETP Local: only endpoint nodes, following the endpoints", func(t *testing.T) { testETPLocal(t, l) })
	t.Run("communities as the router sees them", func(t *testing.T) { testCommunities(t, l) })
	t.Run("localPref and communities as an iBGP peer sees them", func(t *testing.T) { testLocalPref(t, l) })
	t.Run("BFD: a cut link drops the node's next hop", func(t *testing.T) { testBFDLinkCut(t, l) })
	t.Run("wrong password: session down, clear status, no crash", func(t *testing.T) { testWrongPassword(t, l) })
	t.Run("1000 services created and deleted: no session reset", func(t *testing.T) { testChurnNoResets(t, l) })
	t.Run("FRR container restarted: the speaker applies its config again", func(st *testing.T) { testFRRContainerRestart(st, t, l) })
	// Last: it leaves ilb-n1's speaker run by the test, stopped with it.
	t.Run("graceful restart: speaker and bgpd restarts keep the routes", func(t *testing.T) { testGracefulRestart(t, l) })
}

// waitSessions waits until the router has all six sessions up.
func waitSessions(t *testing.T, l *lab.Lab) {
	t.Helper()
	waitCond(t, "six established sessions on the router", func(ctx context.Context) (bool, string) {
		ns, err := routerNeighbors(ctx, l)
		if err != nil {
			return false, err.Error()
		}
		up := 0
		var states []string
		for _, n := range ns {
			if n.Established() {
				up++
			}
			states = append(states, n.Address+"="+n.State)
		}
		return up == 6, strings.Join(states, " ")
	})
}

func routerNeighbors(ctx context.Context, l *lab.Lab) ([]vtyshjson.BGPNeighbor, error) {
	out, err := l.RouterVtysh(ctx, "show bgp neighbors json")
	if err != nil {
		return nil, err
	}
	return vtyshjson.ParseBGPNeighbors(out)
}

// waitCond polls cond until it holds, failing t after a generous bound.
func waitCond(t testing.TB, what string, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	waitLong(t, what, 90*time.Second, cond)
}

// waitLong polls cond until it holds, failing t after bound.
func waitLong(t testing.TB, what string, bound time.Duration, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), bound)
	defer cancel()
	last := ""
	for ctx.Err() == nil {
		ok, seen := cond(ctx)
		if ok {
			return
		}
		last = seen
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("waiting for %s; last seen: %s", what, last)
}

// nextHops returns the sorted gateways of the router's kernel route to ip.
func nextHops(ctx context.Context, ip netip.Addr) ([]string, error) {
	fam := "-4"
	if ip.Is6() {
		fam = "-6"
	}
	out, err := lab.Exec(ctx, lab.RouterNetns, "ip", "-j", fam, "route", "show", "exact", netip.PrefixFrom(ip, ip.BitLen()).String())
	if err != nil {
		return nil, err
	}
	var routes []struct {
		Gateway  string `json:"gateway"`
		Dev      string `json:"dev"`
		Nexthops []struct {
			Gateway string `json:"gateway"`
			Dev     string `json:"dev"`
		} `json:"nexthops"`
	}
	if err := json.Unmarshal(out, &routes); err != nil {
		return nil, fmt.Errorf("decoding ip route: %w: %s", err, out)
	}
	var gws []string
	for _, r := range routes {
		if r.Gateway != "" {
			gws = append(gws, r.Gateway)
		}
		for _, nh := range r.Nexthops {
			gws = append(gws, nh.Gateway)
		}
	}
	sort.Strings(gws)
	return gws, nil
}

// nodeGateways returns the router's view of the nodes' addresses of a
// family: IPv4 next hops are the nodes' LAN addresses; IPv6 ones may be
// global or link-local, so only their count is compared there.
func nodeIPv4s(names ...string) []string {
	var out []string
	for _, n := range names {
		node, _ := lab.NodeByName(n)
		out = append(out, node.IPv4.String())
	}
	sort.Strings(out)
	return out
}

func newService(t testing.TB, l *lab.Lab, name string, mods ...func(*corev1.Service)) []netip.Addr {
	t.Helper()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: name, Annotations: map[string]string{"metallb.io/address-pool": "bgp"}},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Name: "http", Port: lab.ServicePort}},
		},
	}
	for _, m := range mods {
		m(svc)
	}
	if err := l.Kube().Create(t.Context(), svc); err != nil {
		t.Fatalf("creating service %s: %v", name, err)
	}
	want := 1
	if svc.Spec.IPFamilyPolicy != nil && *svc.Spec.IPFamilyPolicy == corev1.IPFamilyPolicyRequireDualStack {
		want = 2
	}
	ips, err := l.WaitServiceIPs(t.Context(), "lab", name, want)
	if err != nil {
		t.Fatal(err)
	}
	return ips
}

func dualStack(s *corev1.Service) {
	p := corev1.IPFamilyPolicyRequireDualStack
	s.Spec.IPFamilyPolicy = &p
	s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
}

func testECMP(t *testing.T, l *lab.Lab) {
	ips := newService(t, l, "ecmp", dualStack)
	if err := l.CreateEndpoints(t.Context(), "lab", "ecmp", "ilb-n1", "ilb-n2", "ilb-n3"); err != nil {
		t.Fatal(err)
	}
	for _, ip := range ips {
		waitCond(t, fmt.Sprintf("three next hops for %s", ip), func(ctx context.Context) (bool, string) {
			gws, err := nextHops(ctx, ip)
			if err != nil {
				return false, err.Error()
			}
			if ip.Is4() {
				return slices.Equal(gws, nodeIPv4s("ilb-n1", "ilb-n2", "ilb-n3")), fmt.Sprint(gws)
			}
			return len(gws) == 3, fmt.Sprint(gws)
		})
	}
	// Many connections from the remote client spread over the nodes.
	for _, ip := range ips {
		served := map[string]int{}
		for i := 0; i < 40; i++ {
			body, err := lab.HTTPGet(t.Context(), lab.RemoteClientNetns, fmt.Sprintf("http://%s/", netip.AddrPortFrom(ip, lab.ServicePort)))
			if err != nil {
				t.Fatalf("HTTP to %s: %v", ip, err)
			}
			served[strings.TrimSpace(body)]++
		}
		if len(served) < 2 {
			t.Errorf("40 connections to %s all went to %v; want them spread over the nodes", ip, served)
		}
		t.Logf("connections to %s served by %v", ip, served)
	}
}

func testETPLocal(t *testing.T, l *lab.Lab) {
	ips := newService(t, l, "local", dualStack, func(s *corev1.Service) {
		s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	})
	ip4 := ips[0]
	if !ip4.Is4() {
		ip4 = ips[1]
	}
	check := func(nodes ...string) {
		t.Helper()
		if err := l.CreateEndpoints(t.Context(), "lab", "local", nodes...); err != nil {
			t.Fatal(err)
		}
		waitCond(t, fmt.Sprintf("next hops of %s on %v", ip4, nodes), func(ctx context.Context) (bool, string) {
			gws, err := nextHops(ctx, ip4)
			if err != nil {
				return false, err.Error()
			}
			return slices.Equal(gws, nodeIPv4s(nodes...)), fmt.Sprint(gws)
		})
		for _, ip := range ips {
			if ip.Is6() {
				waitCond(t, fmt.Sprintf("%d next hops of %s", len(nodes), ip), func(ctx context.Context) (bool, string) {
					gws, err := nextHops(ctx, ip)
					return err == nil && len(gws) == len(nodes), fmt.Sprint(gws, err)
				})
			}
		}
	}
	check("ilb-n1", "ilb-n2")
	check("ilb-n3")
	body, err := lab.HTTPGet(t.Context(), lab.RemoteClientNetns, fmt.Sprintf("http://%s/", netip.AddrPortFrom(ip4, lab.ServicePort)))
	if err != nil || strings.TrimSpace(body) != "ilb-n3" {
		t.Errorf("HTTP to %s after the endpoints moved: %q, %v; want ilb-n3", ip4, body, err)
	}
}

func testCommunities(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	kube := l.Kube()
	objs := []client.Object{
		&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "tagged"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.128/26"}}},
		&v1beta1.Community{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "aliases"}, Spec: v1beta1.CommunitySpec{Communities: []v1beta1.CommunityAlias{{Name: "gold", Value: "64512:7"}}}},
		&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "tagged"}, Spec: v1beta1.BGPAdvertisementSpec{
			IPAddressPools: []string{"tagged"}, Communities: []string{"65000:100", "gold", "large:64512:1:2"}, Peers: []string{"router-v4"},
		}},
	}
	for _, o := range objs {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatalf("creating %T: %v", o, err)
		}
	}
	ips := newService(t, l, "tagged", func(s *corev1.Service) { s.Annotations["metallb.io/address-pool"] = "tagged" })
	if err := l.CreateEndpoints(ctx, "lab", "tagged", "ilb-n1"); err != nil {
		t.Fatal(err)
	}
	prefix := netip.PrefixFrom(ips[0], 32).String()
	waitCond(t, "communities on "+prefix, func(ctx context.Context) (bool, string) {
		out, err := l.RouterVtysh(ctx, "show bgp ipv4 unicast "+prefix+" json")
		if err != nil {
			return false, err.Error()
		}
		r, err := vtyshjson.ParseBGPPrefix(out)
		if err != nil {
			return false, err.Error()
		}
		s := fmt.Sprintf("%+v", r)
		return strings.Contains(s, "65000:100") && strings.Contains(s, "64512:7") && strings.Contains(s, "64512:1:2"), s
	})
}

// testBFDLinkCut cuts ilb-n1's port on the LAN switch: the router's own
// link stays up, so only BFD (or the hold timer) can tell. The router must
// drop n1's next hop and report the BFD peer down; the link back brings
// everything back.
func testBFDLinkCut(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	ip, all := serviceOnAllNodes(t, l, "bfd")
	waitCond(t, "BFD up to ilb-n1", func(ctx context.Context) (bool, string) {
		st, err := routerBFD(ctx, l, "192.0.2.11")
		return err == nil && st == "up", fmt.Sprint(st, err)
	})
	link := func(state string) {
		t.Helper()
		if out, err := lab.Exec(context.Background(), lab.SwitchNetns, "ip", "link", "set", "n1", state); err != nil {
			t.Fatalf("setting n1's switch port %s: %v %s", state, err, out)
		}
	}
	link("down")
	t.Cleanup(func() { link("up") })
	waitCond(t, "ilb-n1's next hop gone", func(ctx context.Context) (bool, string) {
		gws, err := nextHops(ctx, ip)
		return err == nil && slices.Equal(gws, nodeIPv4s("ilb-n2", "ilb-n3")), fmt.Sprint(gws, err)
	})
	st, err := routerBFD(ctx, l, "192.0.2.11")
	if err != nil || st == "up" {
		t.Errorf("router's BFD peer 192.0.2.11 is %q (%v) after the cut, want down", st, err)
	}
	link("up")
	waitCond(t, "three next hops again", func(ctx context.Context) (bool, string) {
		gws, err := nextHops(ctx, ip)
		return err == nil && slices.Equal(gws, all), fmt.Sprint(gws, err)
	})
}

// serviceOnAllNodes makes an IPv4 Service with endpoints on the three
// nodes, waits until the router routes its IP over all three and
// returns the IP and the three next hops.
func serviceOnAllNodes(t testing.TB, l *lab.Lab, name string) (netip.Addr, []string) {
	t.Helper()
	ips := newService(t, l, name)
	if err := l.CreateEndpoints(t.Context(), "lab", name, "ilb-n1", "ilb-n2", "ilb-n3"); err != nil {
		t.Fatal(err)
	}
	all := nodeIPv4s("ilb-n1", "ilb-n2", "ilb-n3")
	waitCond(t, "three next hops to "+ips[0].String(), func(ctx context.Context) (bool, string) {
		gws, err := nextHops(ctx, ips[0])
		return err == nil && slices.Equal(gws, all), fmt.Sprint(gws, err)
	})
	return ips[0], all
}

// routerBFD returns the router's BFD status of a peer.
func routerBFD(ctx context.Context, l *lab.Lab, peer string) (string, error) {
	out, err := l.RouterVtysh(ctx, "show bfd peers json")
	if err != nil {
		return "", err
	}
	peers, err := vtyshjson.ParseBFDPeers(out)
	if err != nil {
		return "", err
	}
	for _, p := range peers {
		if p.Peer == peer {
			return p.Status, nil
		}
	}
	return "", fmt.Errorf("no BFD peer %s", peer)
}

func testWrongPassword(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	kube := l.Kube()
	setPassword := func(pw string) {
		t.Helper()
		var p v1beta2.BGPPeer
		if err := kube.Get(ctx, client.ObjectKey{Namespace: lab.MetalLBNamespace, Name: "router-v4"}, &p); err != nil {
			t.Fatal(err)
		}
		p.Spec.Password = pw
		if err := kube.Update(ctx, &p); err != nil {
			t.Fatal(err)
		}
	}
	// The router has no password for the nodes: TCP MD5 on our side
	// alone keeps the session from coming up.
	setPassword("not-the-routers")
	waitCond(t, "IPv4 sessions down and reported", func(ctx context.Context) (bool, string) {
		var list v1beta1.SpeakerStatusList
		if err := kube.List(ctx, &list, client.InNamespace(lab.MetalLBNamespace)); err != nil {
			return false, err.Error()
		}
		down := 0
		var seen []string
		for _, st := range list.Items {
			for _, s := range st.Status.Sessions {
				if s.Peer == "router-v4" && s.State != "Established" {
					down++
				}
				seen = append(seen, st.Name+":"+s.Peer+"="+s.State)
			}
		}
		return down == 3, strings.Join(seen, " ")
	})
	var list v1beta1.SpeakerStatusList
	if err := kube.List(ctx, &list, client.InNamespace(lab.MetalLBNamespace)); err != nil {
		t.Fatal(err)
	}
	for _, st := range list.Items {
		if strings.Contains(fmt.Sprintf("%+v", st), "not-the-routers") {
			t.Errorf("SpeakerStatus %s shows the password", st.Name)
		}
		if st.Status.LastApply == nil || !st.Status.LastApply.Succeeded {
			t.Errorf("SpeakerStatus %s: last apply %+v, want a successful one", st.Name, st.Status.LastApply)
		}
	}
	for _, p := range l.Processes() {
		if strings.HasSuffix(p.Name, "-speaker") && syscall.Kill(p.Pid, 0) != nil {
			t.Errorf("%s (pid %d) is not running", p.Name, p.Pid)
		}
	}
	setPassword("")
	waitSessions(t, l)
}

func testChurnNoResets(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	kube := l.Kube()
	before, err := routerNeighbors(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	// An IPv6 pool of 1024 addresses holds the 1000 Services.
	for _, o := range []client.Object{
		&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "scale"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"2001:db8:0:101::/118"}}},
		&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "scale"}, Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"scale"}}},
	} {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	const n = 1000
	single := corev1.IPFamilyPolicySingleStack
	for i := 0; i < n; i++ {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: fmt.Sprintf("churn-%04d", i), Annotations: map[string]string{"metallb.io/address-pool": "scale"}},
			Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeLoadBalancer, IPFamilyPolicy: &single, IPFamilies: []corev1.IPFamily{corev1.IPv6Protocol},
				Ports: []corev1.ServicePort{{Name: "http", Port: lab.ServicePort}},
			},
		}
		if err := kube.Create(ctx, svc); err != nil {
			t.Fatalf("creating %s: %v", svc.Name, err)
		}
		if err := l.CreateEndpoints(ctx, "lab", svc.Name, "ilb-n1", "ilb-n2", "ilb-n3"); err != nil {
			t.Fatal(err)
		}
	}
	countScale := func(ctx context.Context) (int, error) {
		out, err := l.RouterVtysh(ctx, "show bgp ipv6 unicast json")
		if err != nil {
			return 0, err
		}
		table, err := vtyshjson.ParseBGPIPv6Unicast(out)
		if err != nil {
			return 0, err
		}
		scale := netip.MustParsePrefix("2001:db8:0:101::/118")
		c := 0
		for _, r := range table.Routes {
			if scale.Overlaps(r.Prefix) {
				c++
			}
		}
		return c, nil
	}
	waitCond(t, "1000 routes on the router", func(ctx context.Context) (bool, string) {
		c, err := countScale(ctx)
		return err == nil && c == n, fmt.Sprint(c, err)
	})
	for i := 0; i < n; i++ {
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: fmt.Sprintf("churn-%04d", i)}}
		if err := kube.Delete(ctx, svc); err != nil {
			t.Fatalf("deleting %s: %v", svc.Name, err)
		}
	}
	waitCond(t, "the routes gone", func(ctx context.Context) (bool, string) {
		c, err := countScale(ctx)
		return err == nil && c == 0, fmt.Sprint(c, err)
	})
	after, err := routerNeighbors(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	counters := func(ns []vtyshjson.BGPNeighbor) map[string][2]int64 {
		m := map[string][2]int64{}
		for _, n := range ns {
			m[n.Address] = [2]int64{n.ConnectionsEstablished, n.ConnectionsDropped}
		}
		return m
	}
	b, a := counters(before), counters(after)
	for addr, c := range b {
		if a[addr] != c {
			t.Errorf("neighbor %s: established/dropped %v before, %v after: a session was reset", addr, c, a[addr])
		}
	}
	t.Logf("router neighbor counters unchanged across 1000 creates and deletes: %v", a)
}
