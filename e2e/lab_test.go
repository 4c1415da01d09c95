package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/e2e/lab"
)

// TestLab brings the lab up, checks what works without the speaker, and
// takes it down again, checking that nothing is left.
func TestLab(t *testing.T) {
	skipUnlessLabCanRun(t)
	before := rootSnapshot(t)
	cfg := labConfig(t)
	l := startLab(t, cfg)

	t.Run("services get IPs from the lab pools", func(t *testing.T) { testServiceIPs(t, l) })
	t.Run("LAN client reaches every node", func(t *testing.T) { testLANClient(t) })
	t.Run("remote client reaches the nodes through the router", func(t *testing.T) { testRemoteClient(t) })
	t.Run("kube-proxy stand-in binds service IPs with strict ARP", func(t *testing.T) { testKubeProxy(t, l) })
	t.Run("router FRR has the nodes as neighbors", func(t *testing.T) { testRouter(t, l) })
	t.Run("local kubeconfig reaches the API server", func(t *testing.T) { testLocalKubeconfig(t, l) })
	t.Run("root namespace unchanged", func(t *testing.T) {
		if diff := cmp.Diff(before, rootSnapshot(t)); diff != "" {
			t.Errorf("root namespace changed while the lab runs (-before +now):\n%s", diff)
		}
	})

	// Down now (the cleanup's Down then finds nothing), and check it
	// removed everything.
	procs := l.Processes()
	if err := l.Down(context.Background()); err != nil {
		t.Fatalf("lab down: %v", err)
	}
	assertLabGone(t, cfg, procs)
	if diff := cmp.Diff(before, rootSnapshot(t)); diff != "" {
		t.Errorf("root namespace changed by the lab (-before +after):\n%s", diff)
	}
	if err := l.Down(context.Background()); err != nil {
		t.Errorf("second lab down: %v", err)
	}
	if err := lab.Teardown(context.Background(), lab.Config{StateDir: cfg.StateDir}); err != nil {
		t.Errorf("Teardown after down: %v", err)
	}
}

func testServiceIPs(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	bgp := []netip.Prefix{netip.MustParsePrefix(lab.BGPPoolIPv4), netip.MustParsePrefix(lab.BGPPoolIPv6)}
	l2 := []func(netip.Addr) bool{inRange(t, lab.L2PoolIPv4), inRange(t, lab.L2PoolIPv6)}

	ips, err := l.WaitServiceIPs(ctx, "lab", "web-bgp", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(bgp, func(p netip.Prefix) bool { return p.Contains(ip) }) {
			t.Errorf("web-bgp got %s, outside the bgp pool %v", ip, bgp)
		}
	}
	webL2, err := l.WaitServiceIPs(ctx, "lab", "web-l2", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range webL2 {
		if !slices.ContainsFunc(l2, func(in func(netip.Addr) bool) bool { return in(ip) }) {
			t.Errorf("web-l2 got %s, outside the l2 pool", ip)
		}
	}

	// A Service of the test's own, with endpoints on two nodes.
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: "extra", Annotations: map[string]string{"metallb.io/address-pool": "l2"}},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Name: "http", Port: lab.ServicePort}},
		},
	}
	if err := l.Kube().Create(ctx, svc); err != nil {
		t.Fatalf("creating service: %v", err)
	}
	extra, err := l.WaitServiceIPs(ctx, "lab", "extra", 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(extra) != 1 || !l2[0](extra[0]) || slices.Contains(webL2, extra[0]) {
		t.Errorf("extra got %v, want one new IPv4 address of the l2 pool (web-l2 has %v)", extra, webL2)
	}
	if err := l.CreateEndpoints(ctx, "lab", "extra", "ilb-n1", "ilb-n3"); err != nil {
		t.Fatalf("CreateEndpoints: %v", err)
	}
	var slicesGot discoveryv1.EndpointSliceList
	if err := l.Kube().List(ctx, &slicesGot, client.InNamespace("lab"), client.MatchingLabels{discoveryv1.LabelServiceName: "extra"}); err != nil {
		t.Fatalf("listing endpoint slices: %v", err)
	}
	var got []string
	for _, s := range slicesGot.Items {
		for _, ep := range s.Endpoints {
			got = append(got, fmt.Sprintf("%s %s ready=%v", *ep.NodeName, ep.Addresses[0], *ep.Conditions.Ready))
		}
	}
	want := []string{"ilb-n1 192.0.2.11 ready=true", "ilb-n3 192.0.2.13 ready=true"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("endpoints of extra mismatch (-want +got):\n%s", diff)
	}
}

// inRange returns a test for membership of "first-last".
func inRange(t *testing.T, r string) func(netip.Addr) bool {
	first, last, ok := strings.Cut(r, "-")
	if !ok {
		t.Fatalf("range %q", r)
	}
	lo, hi := netip.MustParseAddr(first), netip.MustParseAddr(last)
	return func(a netip.Addr) bool { return lo.Compare(a) <= 0 && a.Compare(hi) <= 0 }
}

func nodeURL(a netip.Addr) string {
	return "http://" + net.JoinHostPort(a.String(), strconv.Itoa(lab.ServicePort)) + "/"
}

// waitBody waits until url, fetched from netns, answers want.
func waitBody(t *testing.T, netns, url, want string) {
	t.Helper()
	var last string
	err := lab.WaitFor(t.Context(), "GET "+url+" from "+netns, func(ctx context.Context) (bool, error) {
		body, err := lab.HTTPGet(ctx, netns, url)
		last = fmt.Sprintf("%q, %v", body, err)
		return err == nil && strings.TrimSpace(body) == want, nil
	})
	if err != nil {
		t.Errorf("%v; last answer %s, want %q", err, last, want)
	}
}

func testLANClient(t *testing.T) {
	for _, n := range lab.Nodes() {
		for _, a := range []netip.Addr{n.IPv4, n.IPv6} {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			if err := lab.Ping(ctx, lab.LANClientNetns, a); err != nil {
				t.Errorf("ping %s (%s): %v", a, n.Name, err)
			}
			cancel()
			waitBody(t, lab.LANClientNetns, nodeURL(a), n.Name)
		}
	}
}

func testRemoteClient(t *testing.T) {
	for _, n := range lab.Nodes() {
		for _, a := range []netip.Addr{n.IPv4, n.IPv6} {
			waitBody(t, lab.RemoteClientNetns, nodeURL(a), n.Name)
		}
	}
}

func testKubeProxy(t *testing.T, l *lab.Lab) {
	ips, err := l.WaitServiceIPs(t.Context(), "lab", "web-bgp", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range lab.Nodes() {
		// The Service IPs are the node's own: it answers them itself.
		for _, ip := range ips {
			waitBody(t, n.Name, nodeURL(ip), n.Name)
		}
		out, err := lab.Exec(t.Context(), n.Name, "sysctl", "-n", "net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Fields(string(out)); !slices.Equal(got, []string{"1", "2"}) {
			t.Errorf("%s: arp_ignore, arp_announce = %q, want 1 and 2", n.Name, got)
		}
		out, err = lab.Exec(t.Context(), n.Name, "ip", "-o", "addr", "show", "dev", lab.KubeIPVSLink)
		if err != nil {
			t.Fatal(err)
		}
		for _, ip := range ips {
			if !bytes.Contains(out, []byte(" "+ip.String()+"/")) {
				t.Errorf("%s: %s lacks %s:\n%s", n.Name, lab.KubeIPVSLink, ip, out)
			}
		}
	}
}

func testRouter(t *testing.T, l *lab.Lab) {
	got, err := l.RouterNeighbors(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var peers []string
	for a, n := range got {
		peers = append(peers, a.String())
		if n.RemoteAS != lab.NodeAS {
			t.Errorf("neighbor %s: remote AS %d, want %d", a, n.RemoteAS, lab.NodeAS)
		}
	}
	slices.Sort(peers)
	var want []string
	for _, n := range lab.Nodes() {
		want = append(want, n.IPv4.String(), n.IPv6.String())
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, peers); diff != "" {
		t.Errorf("router neighbors mismatch (-want +got):\n%s", diff)
	}
	out, err := l.RouterVtysh(t.Context(), "show running-config")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"router bgp 64500", "neighbor nodes bfd", "maximum-paths 8"} {
		if !bytes.Contains(out, []byte(line)) {
			t.Errorf("router running-config lacks %q:\n%s", line, out)
		}
	}
}

func testLocalKubeconfig(t *testing.T, l *lab.Lab) {
	cfg, err := clientcmd.BuildConfigFromFlags("", l.LocalKubeconfigPath())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg.Host, "https://127.0.0.1:") {
		t.Errorf("local kubeconfig server = %q, want https://127.0.0.1:PORT", cfg.Host)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := cs.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing nodes through the forwarder: %v", err)
	}
	var got []string
	for _, n := range nodes.Items {
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				got = append(got, n.Name+" "+a.Address)
			}
		}
	}
	want := []string{
		"ilb-n1 192.0.2.11", "ilb-n1 2001:db8:0:1::11",
		"ilb-n2 192.0.2.12", "ilb-n2 2001:db8:0:1::12",
		"ilb-n3 192.0.2.13", "ilb-n3 2001:db8:0:1::13",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("node addresses mismatch (-want +got):\n%s", diff)
	}
}

// assertLabGone checks that no namespace, process or file of the lab is
// left.
func assertLabGone(t *testing.T, cfg lab.Config, procs []lab.Process) {
	t.Helper()
	for _, ns := range lab.Namespaces() {
		if _, err := os.Stat(filepath.Join("/run/netns", ns)); err == nil {
			t.Errorf("netns %s is left", ns)
		}
	}
	for _, p := range procs {
		if processLive(p.Pid) {
			t.Errorf("process %s (pid %d) is left", p.Name, p.Pid)
		}
	}
	// The FRR daemons were the supervisors' children: find them by their
	// pathspace.
	cmdlines, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range cmdlines {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		args := strings.Split(string(data), "\x00")
		for i, a := range args {
			if a == "-N" && i+1 < len(args) && slices.Contains(lab.Namespaces(), args[i+1]) {
				pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
				if processLive(pid) {
					t.Errorf("FRR daemon is left: %s", strings.Join(args, " "))
				}
			}
		}
	}
	for _, path := range []string{cfg.StateDir, "/etc/frr/" + lab.RouterNetns, "/var/run/frr/" + lab.RouterNetns} {
		if _, err := os.Stat(path); err == nil {
			t.Errorf("%s is left", path)
		}
	}
}

// processLive reports whether pid runs (a zombie waiting for init to
// reap it does not count).
func processLive(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return false
	}
	state := data[i+2]
	return state != 'Z' && state != 'X'
}
