package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/e2e/lab"
	"github.com/ironlb/ironlb/state"
)

// TestL2 runs the lab with speakers and checks, from the LAN client,
// what Layer 2 mode promises: the owner answers ARP and NDP, another
// node takes over when the owner fails, a planned departure loses
// nothing, and the election follows endpoints, shared IPs, interfaces
// and the memberlist key.
func TestL2(t *testing.T) {
	l := startL2Lab(t)
	h := newL2Harness(t, l)
	h.waitSettled(t)

	t.Run("the owner answers ARP, NDP and HTTP; the status and an event name it", func(t *testing.T) { testL2Owner(t, l) })
	t.Run("SIGKILL of the owner's speaker: another node takes over", func(t *testing.T) { testL2Kill(t, l, h) })
	t.Run("SIGTERM of the owner's speaker: no probe lost", func(t *testing.T) { testL2Handover(t, l, h, "sigterm") })
	t.Run("labelling the owner excluded: no probe lost", func(t *testing.T) { testL2Handover(t, l, h, "exclude") })
	t.Run("link down on the owner: another node takes over", func(t *testing.T) { testL2LinkDown(t, l, h) })
	t.Run("partition heal: the client follows the owner back", func(t *testing.T) { testL2PartitionHeal(t, l, h) })
	t.Run("a stalled owner's speaker: the client follows it back", func(t *testing.T) { testL2Stall(t, l, h) })
	t.Run("ETP Local follows the endpoints", func(t *testing.T) { testL2ETPLocal(t, l) })
	t.Run("a shared IP lands on one node", func(t *testing.T) { testL2SharedIP(t, l) })
	t.Run("interface selection", func(t *testing.T) { testL2Interfaces(t, l) })
	t.Run("a pool with L2 and BGP advertisements: both at once", func(t *testing.T) { testL2AndBGP(t, l) })
	t.Run("a wrong memberlist key: not admitted, and says why", func(t *testing.T) { testL2WrongKey(t, l, h) })
}

func allNodes() []string {
	var out []string
	for _, n := range lab.Nodes() {
		out = append(out, n.Name)
	}
	return out
}

func testL2Owner(t *testing.T, l *lab.Lab) {
	ips := createL2Service(t, l, l2ServiceSpec{name: "l2-owner", dual: true, endpoints: allNodes()})
	owner := waitOwner(t, l, "l2-owner", nil)
	owners, err := l2Owners(t.Context(), l, l2Namespace, "l2-owner")
	if err != nil {
		t.Fatal(err)
	}
	if got := owners[owner]; len(got) != 1 || got[0] != lab.LANLink {
		t.Errorf("ServiceL2Status of %s lists interfaces %q, want [%s]", owner, got, lab.LANLink)
	}
	mac := linkMAC(t, owner, lab.LANLink)
	for _, ip := range ips { // IPv4 through ARP, IPv6 through NDP
		waitClientReaches(t, ip, owner)
		waitNeighbor(t, ip, mac)
	}

	cs, err := kubernetes.NewForConfig(l.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	l2Wait(t, "a NodeAnnouncing event on the service", func(ctx context.Context) (bool, string) {
		evs, err := cs.EventsV1().Events(l2Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range evs.Items {
			if e.Regarding.Name == "l2-owner" && e.Reason == "NodeAnnouncing" && strings.Contains(e.Note, owner) {
				return true, ""
			}
			seen = append(seen, e.Reason+": "+e.Note)
		}
		return false, strings.Join(seen, "; ")
	})
}

func testL2Kill(t *testing.T, l *lab.Lab, h *l2Harness) {
	out, err := lab.Exec(t.Context(), lab.LANClientNetns, "sysctl", "-n", "net.ipv4.conf.eth0.arp_accept")
	if err != nil || strings.TrimSpace(string(out)) != "0" {
		t.Fatalf("the client's arp_accept is %q (%v), want the default 0", out, err)
	}
	ip := createL2Service(t, l, l2ServiceSpec{name: "l2-kill", endpoints: allNodes()})[0]
	old := waitOwner(t, l, "l2-kill", nil)
	waitClientReaches(t, ip, old)
	waitNeighbor(t, ip, linkMAC(t, old, lab.LANLink))

	h.signal(t, old, syscall.SIGKILL)
	t.Cleanup(func() {
		h.restart(t, old, nil)
		h.waitSettled(t)
	})
	nw := waitOwner(t, l, "l2-kill", func(n string) bool { return n != old })
	waitNeighbor(t, ip, linkMAC(t, nw, lab.LANLink))
	waitClientReaches(t, ip, nw)
}

// flushNeighbors deletes the LAN client's neighbor entry for ip every
// 50ms until stop is called, so that the probes meanwhile resolve ip
// anew: a moment when no node answers ARP would lose probes. Entries
// being resolved are left alone: deleting one fails the connections
// waiting for it.
func flushNeighbors(ip netip.Addr) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			_, _ = lab.Exec(ctx, lab.LANClientNetns, "ip", "neigh", "flush", "to", ip.String(),
				"nud", "reachable", "nud", "stale", "nud", "delay", "nud", "probe")
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}

// testL2Handover moves a Service away from its owner on purpose (the
// speaker told to stop, or the node labelled
// node.kubernetes.io/exclude-from-external-load-balancers; a cordon
// changes nothing by default) while the LAN client
// probes every 10ms and forgets its neighbor entry every 50ms: the new
// owner answers before the old one stops, so no probe is lost.
func testL2Handover(t *testing.T, l *lab.Lab, h *l2Harness, how string) {
	name := "l2-" + how
	ip := createL2Service(t, l, l2ServiceSpec{name: name, endpoints: allNodes()})[0]
	old := waitOwner(t, l, name, nil)
	waitClientReaches(t, ip, old)

	logSize := fileSize(t, h.speaker(old).log)
	p := startProber(t, lab.LANClientNetns, serviceURL(ip), 10*time.Millisecond, time.Second)
	stopFlush := flushNeighbors(ip)
	p.waitAnsweredBy(t, old, 20)
	event := time.Now()
	switch how {
	case "sigterm":
		h.signal(t, old, syscall.SIGTERM)
		t.Cleanup(func() {
			h.restart(t, old, nil)
			h.waitSettled(t)
		})
	case "exclude":
		setNode(t, l, old, func(n *corev1.Node) { n.Labels[state.LabelExcludeFromLB] = "" })
		t.Cleanup(func() { setNode(t, l, old, func(n *corev1.Node) { delete(n.Labels, state.LabelExcludeFromLB) }) })
	}
	nw := waitOwner(t, l, name, func(n string) bool { return n != old })
	if how == "exclude" {
		// The old owner keeps answering for the handover grace: count
		// until it stopped.
		waitLogLine(t, h.speaker(old).log, logSize, `"msg":"stopped announcing"`, `"ip":"`+ip.String()+`"`)
	}
	p.waitAnsweredBy(t, nw, 50)
	stopFlush()
	probes := p.stop()
	f, err := summarize(probes, old, nw, event)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d probes, %d lost, %d reset, moved from %s to %s, gap %v, first answer from the new owner %v after the event",
		how, len(probes), f.lost, f.reset, old, nw, f.gap, f.takeover)
	if f.lost != 0 {
		t.Errorf("%d probes got no answer in a planned handover, want 0; first: %v", f.lost, f.firstErr)
	}
}

// switchPort is the bridge port of a node's LAN link, in the switch.
func switchPort(node string) string { return strings.TrimPrefix(node, "ilb-") }

func setSwitchPort(t testing.TB, port, state string) {
	t.Helper()
	if _, err := lab.Exec(context.Background(), lab.SwitchNetns, "ip", "link", "set", port, state); err != nil {
		t.Fatal(err)
	}
}

func testL2LinkDown(t *testing.T, l *lab.Lab, h *l2Harness) {
	ip := createL2Service(t, l, l2ServiceSpec{name: "l2-link", endpoints: allNodes()})[0]
	old := waitOwner(t, l, "l2-link", nil)
	waitClientReaches(t, ip, old)

	p := startProber(t, lab.LANClientNetns, serviceURL(ip), 10*time.Millisecond, time.Second)
	p.waitAnsweredBy(t, old, 20)
	event := time.Now()
	setSwitchPort(t, switchPort(old), "down")
	t.Cleanup(func() {
		setSwitchPort(t, switchPort(old), "up")
		h.waitSettled(t)
		// The node offers again only after its link settle time (2s):
		// until it has the IP back, the cluster is still moving, and
		// the next test would start from an owner about to change.
		waitOwner(t, l, "l2-link", func(n string) bool { return n == old })
	})
	nw := waitOwner(t, l, "l2-link", func(n string) bool { return n != old })
	p.waitAnsweredBy(t, nw, 50)
	probes := p.stop()
	f, err := summarize(probes, old, nw, event)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("link down: %d probes, %d lost, %d reset, moved from %s to %s, gap %v, first answer from the new owner %v after the link went down",
		len(probes), f.lost, f.reset, old, nw, f.gap, f.takeover)
	waitNeighbor(t, ip, linkMAC(t, nw, lab.LANLink))
}

func testL2ETPLocal(t *testing.T, l *lab.Lab) {
	ip := createL2Service(t, l, l2ServiceSpec{name: "l2-local", etpLocal: true, endpoints: []string{"ilb-n2"}})[0]
	waitOwner(t, l, "l2-local", func(n string) bool { return n == "ilb-n2" })
	waitClientReaches(t, ip, "ilb-n2")

	if err := l.CreateEndpoints(t.Context(), l2Namespace, "l2-local", "ilb-n3"); err != nil {
		t.Fatal(err)
	}
	waitOwner(t, l, "l2-local", func(n string) bool { return n == "ilb-n3" })
	waitClientReaches(t, ip, "ilb-n3")
	waitNeighbor(t, ip, linkMAC(t, "ilb-n3", lab.LANLink))
}

func testL2SharedIP(t *testing.T, l *lab.Lab) {
	const shared = "192.0.2.240"
	// ETP Local: each Service may only be announced where it has an
	// endpoint; the one node that serves both wins the shared IP.
	createL2Service(t, l, l2ServiceSpec{name: "l2-shared-a", ip: shared, sharedKey: "l2e2e", etpLocal: true, port: lab.ServicePort, endpoints: []string{"ilb-n1", "ilb-n2"}})
	createL2Service(t, l, l2ServiceSpec{name: "l2-shared-b", ip: shared, sharedKey: "l2e2e", etpLocal: true, port: lab.ServicePort + 1, endpoints: []string{"ilb-n1", "ilb-n3"}})
	for _, name := range []string{"l2-shared-a", "l2-shared-b"} {
		waitOwner(t, l, name, func(n string) bool { return n == "ilb-n1" })
	}
	ip := netip.MustParseAddr(shared)
	waitClientReaches(t, ip, "ilb-n1")
	waitNeighbor(t, ip, linkMAC(t, "ilb-n1", lab.LANLink))
}

// testL2Interfaces gives ilb-n2 a second link on the LAN, eth1, and a
// pool whose advertisement allows only eth1: only ilb-n2 may announce
// it, and on eth1. When eth1 loses its carrier nobody can.
func testL2Interfaces(t *testing.T, l *lab.Lab) {
	const (
		node = "ilb-n2"
		port = "n2e1"
		mac  = "02:00:00:00:e1:02"
	)
	ctx := t.Context()
	for _, argv := range [][]string{
		{"ip", "-n", lab.SwitchNetns, "link", "add", port, "type", "veth", "peer", "name", "eth1", "address", mac, "netns", node},
		{"ip", "-n", lab.SwitchNetns, "link", "set", port, "master", lab.Bridge, "up"},
		{"ip", "-n", node, "link", "set", "eth1", "up"},
	} {
		if _, err := lab.Exec(ctx, "", argv...); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _, _ = lab.Exec(context.Background(), "", "ip", "-n", lab.SwitchNetns, "link", "del", port) })

	pool := &v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "l2-eth1"},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.150-192.0.2.159"}},
	}
	ad := &v1beta1.L2Advertisement{
		ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "l2-eth1"},
		Spec:       v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"l2-eth1"}, Interfaces: []string{"eth1"}},
	}
	for _, o := range []client.Object{pool, ad} {
		if err := l.Kube().Create(ctx, o); err != nil {
			t.Fatalf("creating %s: %v", o.GetName(), err)
		}
		t.Cleanup(func() { _ = l.Kube().Delete(context.Background(), o) })
	}
	ip := createL2Service(t, l, l2ServiceSpec{name: "l2-eth1", pool: "l2-eth1", endpoints: allNodes()})[0]
	waitOwner(t, l, "l2-eth1", func(n string) bool { return n == node })
	owners, err := l2Owners(ctx, l, l2Namespace, "l2-eth1")
	if err != nil {
		t.Fatal(err)
	}
	if got := owners[node]; len(got) != 1 || got[0] != "eth1" {
		t.Errorf("ServiceL2Status of %s lists interfaces %q, want [eth1]", node, got)
	}
	waitClientReaches(t, ip, node)
	waitNeighbor(t, ip, mac)

	setSwitchPort(t, port, "down")
	l2Wait(t, "nobody announcing l2-eth1 once eth1 has no carrier", func(ctx context.Context) (bool, string) {
		owners, err := l2Owners(ctx, l, l2Namespace, "l2-eth1")
		return err == nil && len(owners) == 0, fmt.Sprint(owners, err)
	})
}

func testL2WrongKey(t *testing.T, l *lab.Lab, h *l2Harness) {
	const node = "ilb-n3"
	ctx := t.Context()
	wrong := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "memberlist-wrong"},
		Data:       map[string][]byte{"secretkey": []byte("not the lab's key")},
	}
	if err := l.Kube().Create(ctx, wrong); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Kube().Delete(context.Background(), wrong) })
	createL2Service(t, l, l2ServiceSpec{name: "l2-key", endpoints: allNodes()})
	waitOwner(t, l, "l2-key", nil)

	logPath := h.speaker(node).log
	logSize := fileSize(t, logPath)
	h.signal(t, node, syscall.SIGKILL)
	t.Cleanup(func() {
		h.signal(t, node, syscall.SIGKILL)
		h.restart(t, node, nil)
		h.waitSettled(t)
	})
	h.restart(t, node, withArg("memberlist-secret", wrong.Name))

	t.Logf("%s: %s", node, waitLogLine(t, logPath, logSize, "memberlist refused this node", "another secret key"))
	for n, want := range map[string]float64{"ilb-n1": 2, "ilb-n2": 2, node: 1} {
		l2Wait(t, fmt.Sprintf("%s seeing %v live speakers", n, want), func(ctx context.Context) (bool, string) {
			v, err := metric(ctx, n, "ironlb_speaker_l2_members_live")
			return err == nil && v == want, fmt.Sprintf("%v, %v", v, err)
		})
	}
	l2Wait(t, "no ServiceL2Status of "+node, func(ctx context.Context) (bool, string) {
		var list v1beta1.ServiceL2StatusList
		if err := l.Kube().List(ctx, &list, client.InNamespace(lab.MetalLBNamespace), client.MatchingLabels{"metallb.io/node": node}); err != nil {
			return false, err.Error()
		}
		return len(list.Items) == 0, fmt.Sprintf("%d left", len(list.Items))
	})
	cs, err := kubernetes.NewForConfig(l.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	l2Wait(t, "a MemberlistRefused event on node "+node, func(ctx context.Context) (bool, string) {
		evs, err := cs.EventsV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, e := range evs.Items {
			if e.Regarding.Name == node && e.Reason == "MemberlistRefused" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events", len(evs.Items))
	})
}
