package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ironlbv1 "github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/e2e/lab"
)

// realNodesEnv opts in to the tests on real nodes (kubelets, containerd
// and the chart installed by helm; see e2e/lab/realnodes.go). They need
// hack/build-node-binaries.sh and hack/build-node-images.sh (`make
// node-tools`) and take minutes, so `go test ./...` skips them unless
// IRONLB_E2E_REAL_NODES=1 (`make test-real-nodes`).
const realNodesEnv = "IRONLB_E2E_REAL_NODES"

// startRealNodesLab brings up the lab with real nodes and the chart
// installed, for t.
func startRealNodesLab(t *testing.T) *lab.Lab {
	t.Helper()
	if os.Getenv(realNodesEnv) != "1" {
		t.Skipf("real nodes: set %s=1 (make test-real-nodes)", realNodesEnv)
	}
	skipUnlessLabCanRun(t)
	root := repoRoot(t)
	cfg := labConfig(t)
	cfg.RealNodes = true
	cfg.NodeBinDir = filepath.Join(root, "bin", "node")
	cfg.ImageDir = filepath.Join(root, "bin", "images")
	cfg.HelmBinary = filepath.Join(root, "bin", "helm")
	cfg.ChartDir = filepath.Join(root, "charts", "ironlb")
	cfg.Log = slog.New(slog.NewTextHandler(t.Output(), nil))
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	begin := time.Now()
	l, err := lab.Up(ctx, cfg)
	if err != nil {
		t.Fatalf("lab up: %v", err)
	}
	t.Logf("lab up with real nodes took %v", time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := l.Down(context.Background()); err != nil {
			t.Errorf("lab down: %v", err)
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(t, l)
			dumpPods(t, l)
		}
	})
	return l
}

// dumpPods prints the pods and the logs of ironlb's containers.
func dumpPods(t *testing.T, l *lab.Lab) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := l.Kubectl(ctx, "get", "pods", "-A", "-o", "wide")
	t.Logf("--- pods (%v):\n%s", err, out)
	out, err = l.Kubectl(ctx, "get", "events", "-A")
	t.Logf("--- events (%v):\n%s", err, out)
	for _, p := range ironlbPods(t, l) {
		for _, c := range containerNames(p) {
			out, err := l.Kubectl(ctx, "-n", lab.MetalLBNamespace, "logs", p.Name, "-c", c, "--tail=40")
			t.Logf("--- %s/%s (%v):\n%s", p.Name, c, err, out)
		}
	}
}

// TestRealNodes installs the chart on three real nodes and checks what a
// user would, then uninstalls it. The subtests run in order on one lab.
//
// The rolling upgrade fails on any lost request but one in flight while
// the path to its IP changed (inFlightAtChange): with a hash-based ECMP
// router and per-node conntrack, no speaker can keep those; the subtest
// logs them with what changed.
func TestRealNodes(t *testing.T) {
	l := startRealNodesLab(t)
	t.Run("install", func(t *testing.T) { testRealInstall(t, l) })
	t.Run("footprint", func(t *testing.T) { logFootprint(t, l) })
	t.Run("vtysh troubleshooting as documented", func(t *testing.T) { testRealVtysh(t, l) })
	t.Run("frr container restart", func(t *testing.T) { testRealFRRRestart(t, l) })
	t.Run("rolling upgrade loses no request", func(t *testing.T) { testRealUpgrade(t, l) })
	t.Run("node failure", func(t *testing.T) { testRealNodeFailure(t, l) })
	t.Run("uninstall", func(t *testing.T) { testRealUninstall(t, l) })
}

// upgradeTag is the ironlb image the upgrade goes to: the same build with
// another tag and version label (`make node-tools` builds it).
const upgradeTag = "upgrade"

// testRealUpgrade runs `helm upgrade` to another image while clients
// send a request every 10 ms, to the BGP Service from the remote client
// and to the Layer 2 one from the LAN client, both families: the speakers
// roll node by node, each draining first, the controllers roll under
// leader election, and no request is lost and no IP moves.
func testRealUpgrade(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	tar := filepath.Join(repoRoot(t), "bin", "images", "ironlb-"+upgradeTag+".tar")
	if _, err := os.Stat(tar); err != nil {
		t.Fatalf("no upgrade image (IRONLB_TAG=%s IMAGES=ironlb hack/build-node-images.sh): %v", upgradeTag, err)
	}
	for _, n := range lab.Nodes() {
		if err := l.ImportImage(ctx, n.Name, tar); err != nil {
			t.Fatal(err)
		}
	}
	bgpIPs, err := l.WaitServiceIPs(ctx, "lab", "web-bgp", 2)
	if err != nil {
		t.Fatal(err)
	}
	l2IPs, err := l.WaitServiceIPs(ctx, "lab", "web-l2", 2)
	if err != nil {
		t.Fatal(err)
	}
	type client struct {
		name string
		ip   netip.Addr
		p    *prober
	}
	var clients []client
	for _, c := range []struct {
		netns string
		ips   []netip.Addr
	}{{lab.RemoteClientNetns, bgpIPs}, {lab.LANClientNetns, l2IPs}} {
		for _, ip := range c.ips {
			url := fmt.Sprintf("http://%s/", netip.AddrPortFrom(ip, lab.ServicePort))
			clients = append(clients, client{name: c.netns + " → " + ip.String(), ip: ip, p: startProber(t, c.netns, url, 10*time.Millisecond, upgradeProbeDeadline)})
		}
	}
	stopAll := func() {
		for _, c := range clients {
			c.p.stop()
		}
	}
	defer stopAll()
	for _, c := range clients {
		waitAnswers(t, c.p, 20)
	}
	tl := startTimeline(t, l, bgpIPs, l2IPs)
	began := time.Now()
	if err := l.UpgradeChart(ctx, upgradeTag); err != nil {
		tl.stop()
		t.Fatal(err)
	}
	t.Logf("helm upgrade and rollouts took %v", time.Since(began).Round(time.Second))
	// The last node's speaker is Ready before its session is up: the
	// upgrade ends when every node is back at the router.
	waitAllSessions(t, l, bgpIPs)
	for _, c := range clients {
		waitAnswers(t, c.p, len(c.p.answers())+20)
	}
	tl.stop()
	anyLost := false
	for _, c := range clients {
		probes := c.p.stop()
		lost, gap := lostAndGap(probes)
		changes := tl.pathChanges(c.ip)
		t.Logf("%s: %d requests, %d lost, longest gap between answers %v, %d changes of its path", c.name, len(probes), len(lost), gap.Round(time.Millisecond), len(changes))
		for _, p := range lost {
			anyLost = true
			around := strings.Join(tl.around(p.sent, 3*time.Second, time.Second), "\n")
			if inFlightAtChange(p, changes) {
				t.Logf("%s: request sent at %s lost: %v; in flight as its path changed:\n%s", c.name, p.sent.Format("15:04:05.000"), p.err, around)
				continue
			}
			t.Errorf("%s: request sent at %s lost: %v; just before:\n%s", c.name, p.sent.Format("15:04:05.000"), p.err, around)
		}
	}
	// One node at a time: the next speaker stops only once this one is
	// ready, which is once its sessions are up again.
	for ip, n := range tl.fewestHops(began) {
		if want := len(lab.Nodes()) - 1; n < want {
			anyLost = true
			t.Errorf("the router's route to %s had %d next hops at one point, want at least %d: two nodes were out at once", ip, n, want)
		}
	}
	if anyLost || testing.Verbose() {
		t.Logf("what changed during the upgrade:\n%s", tl.all())
	}
	for node, p := range speakerPods(t, l) {
		if img := p.Spec.Containers[0].Image; !strings.HasSuffix(img, ":"+upgradeTag) {
			t.Errorf("speaker on %s runs %s after the upgrade", node, img)
		}
	}
	after, err := l.WaitServiceIPs(ctx, "lab", "web-bgp", 2)
	if err != nil {
		t.Fatal(err)
	}
	afterL2, err := l.WaitServiceIPs(ctx, "lab", "web-l2", 2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(after, bgpIPs) || !slices.Equal(afterL2, l2IPs) {
		t.Errorf("IPs moved in the upgrade: web-bgp %v -> %v, web-l2 %v -> %v", bgpIPs, after, l2IPs, afterL2)
	}
}

// upgradeProbeDeadline bounds each request of the upgrade's clients.
const upgradeProbeDeadline = time.Second

// inFlightAtChange reports whether a lost probe was reset while in
// flight as the path to its IP changed: the router's ECMP set (its hash
// sends the rest of the connection to another node, whose kube-proxy has
// no conntrack entry for it and resets it) or the LAN client's neighbor
// entry (the same, at a Layer 2 handover). No speaker can keep such a
// connection: draining moves traffic away, so its path changes once when
// a node leaves and once when it comes back. Any other loss (a timeout,
// a refusal, a reset with no change) is a failure.
func inFlightAtChange(p probe, changes []time.Time) bool {
	if !p.reset() {
		return false
	}
	for _, c := range changes {
		if !c.Before(p.sent) && !c.After(p.sent.Add(upgradeProbeDeadline)) {
			return true
		}
	}
	return false
}

// waitAllSessions waits until every node's sessions are established at
// the router and each BGP IP has a next hop via every node.
func waitAllSessions(t *testing.T, l *lab.Lab, ips []netip.Addr) {
	t.Helper()
	waitCond(t, "every node's sessions established and every BGP IP via three nodes", func(ctx context.Context) (bool, string) {
		ns, err := routerNeighbors(ctx, l)
		if err != nil {
			return false, err.Error()
		}
		est := 0
		for _, n := range ns {
			if n.Established() {
				est++
			}
		}
		if est != 2*len(lab.Nodes()) {
			return false, fmt.Sprintf("%d sessions established", est)
		}
		for _, ip := range ips {
			gws, err := nextHops(ctx, ip)
			if err != nil {
				return false, err.Error()
			}
			if len(gws) != len(lab.Nodes()) {
				return false, fmt.Sprint(ip, gws)
			}
		}
		return true, ""
	})
}

// waitAnswers waits until the prober has n answered probes.
func waitAnswers(t *testing.T, p *prober, n int) {
	t.Helper()
	waitCond(t, fmt.Sprintf("%d answers", n), func(context.Context) (bool, string) {
		got := 0
		for _, r := range p.answers() {
			if r.node != "" {
				got++
			}
		}
		return got >= n, fmt.Sprint(got)
	})
}

// lostAndGap returns the unanswered probes and the longest time between
// the sending of two answered probes in a row.
func lostAndGap(probes []probe) (lost []probe, gap time.Duration) {
	var last time.Time
	for _, p := range probes {
		if p.node == "" {
			lost = append(lost, p)
			continue
		}
		if !last.IsZero() && p.sent.Sub(last) > gap {
			gap = p.sent.Sub(last)
		}
		last = p.sent
	}
	return lost, gap
}

func ironlbPods(t testing.TB, l *lab.Lab) []corev1.Pod {
	t.Helper()
	var pods corev1.PodList
	if err := l.Kube().List(context.Background(), &pods, client.InNamespace(lab.MetalLBNamespace)); err != nil {
		t.Fatalf("listing pods: %v", err)
	}
	return pods.Items
}

func containerNames(p corev1.Pod) []string {
	var names []string
	for _, c := range p.Spec.InitContainers {
		names = append(names, c.Name)
	}
	for _, c := range p.Spec.Containers {
		names = append(names, c.Name)
	}
	return names
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func speakerPods(t testing.TB, l *lab.Lab) map[string]corev1.Pod {
	t.Helper()
	byNode := map[string]corev1.Pod{}
	for _, p := range ironlbPods(t, l) {
		if p.Labels["app.kubernetes.io/component"] == "speaker" && p.DeletionTimestamp == nil {
			byNode[p.Spec.NodeName] = p
		}
	}
	return byNode
}

func testRealInstall(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	t.Run("every pod ready", func(t *testing.T) {
		pods := ironlbPods(t, l)
		var speakers, controllers int
		for _, p := range pods {
			if !podReady(p) {
				t.Errorf("pod %s on %s is not ready: %s", p.Name, p.Spec.NodeName, p.Status.Phase)
			}
			switch p.Labels["app.kubernetes.io/component"] {
			case "speaker":
				speakers++
			case "controller":
				controllers++
			}
		}
		if speakers != 3 || controllers != 2 {
			t.Errorf("got %d speakers and %d controllers, want 3 and 2", speakers, controllers)
		}
	})
	t.Run("the frr container runs the copied agent", func(t *testing.T) {
		for node, p := range speakerPods(t, l) {
			out, err := l.Kubectl(ctx, "-n", lab.MetalLBNamespace, "exec", p.Name, "-c", "frr", "--", "ps", "-eo", "args")
			if err != nil {
				t.Fatalf("%s: %v", node, err)
			}
			if !strings.Contains(string(out), "/ironlb-bin/ironlb frr-agent") {
				t.Errorf("%s: no frr-agent among the frr container's processes:\n%s", node, out)
			}
			for _, d := range []string{"bgpd", "zebra", "watchfrr"} {
				if !strings.Contains(string(out), d) {
					t.Errorf("%s: no %s in the frr container:\n%s", node, d, out)
				}
			}
		}
	})
	var bgpIPs, l2IPs []netip.Addr
	t.Run("services get dual-stack IPs", func(t *testing.T) {
		var err error
		if bgpIPs, err = l.WaitServiceIPs(ctx, "lab", "web-bgp", 2); err != nil {
			t.Fatal(err)
		}
		if l2IPs, err = l.WaitServiceIPs(ctx, "lab", "web-l2", 2); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("status objects filled", func(t *testing.T) {
		waitCond(t, "a SpeakerStatus per node with a successful apply and established sessions", func(ctx context.Context) (bool, string) {
			var list ironlbv1.SpeakerStatusList
			if err := l.Kube().List(ctx, &list, client.InNamespace(lab.MetalLBNamespace)); err != nil {
				return false, err.Error()
			}
			ok := 0
			var seen []string
			for _, s := range list.Items {
				est := 0
				for _, sess := range s.Status.Sessions {
					if sess.State == "Established" {
						est++
					}
				}
				applied := s.Status.LastApply != nil && s.Status.LastApply.Succeeded
				if applied && est == 2 {
					ok++
				}
				seen = append(seen, fmt.Sprintf("%s: applied=%v established=%d", s.Status.Node, applied, est))
			}
			return ok == 3, strings.Join(seen, "; ")
		})
		waitCond(t, "ServiceBGPStatus of web-bgp on every node", func(ctx context.Context) (bool, string) {
			var list ironlbv1.ServiceBGPStatusList
			if err := l.Kube().List(ctx, &list, client.InNamespace(lab.MetalLBNamespace)); err != nil {
				return false, err.Error()
			}
			var nodes []string
			for _, s := range list.Items {
				if s.Status.ServiceName == "web-bgp" && len(s.Status.Peers) > 0 {
					nodes = append(nodes, s.Status.Node)
				}
			}
			slices.Sort(nodes)
			return slices.Equal(nodes, []string{"ilb-n1", "ilb-n2", "ilb-n3"}), fmt.Sprint(nodes)
		})
		waitCond(t, "a ServiceL2Status of web-l2", func(ctx context.Context) (bool, string) {
			var list ironlbv1.ServiceL2StatusList
			if err := l.Kube().List(ctx, &list, client.InNamespace(lab.MetalLBNamespace)); err != nil {
				return false, err.Error()
			}
			for _, s := range list.Items {
				if s.Status.ServiceName == "web-l2" && s.Status.Node != "" && len(s.Status.Interfaces) > 0 {
					return true, ""
				}
			}
			return false, fmt.Sprintf("%d statuses", len(list.Items))
		})
	})
	t.Run("BGP ECMP at the router, HTTP from the remote client", func(t *testing.T) {
		for _, ip := range bgpIPs {
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
			waitHTTP(t, lab.RemoteClientNetns, ip)
		}
	})
	t.Run("L2 answers the LAN client", func(t *testing.T) {
		for _, ip := range l2IPs {
			waitHTTP(t, lab.LANClientNetns, ip)
		}
	})
	t.Run("ironlb status against the cluster", func(t *testing.T) {
		bin := filepath.Join(t.TempDir(), "ironlb")
		build := exec.Command("go", "build", "-o", bin, "./cmd/ironlb")
		build.Dir = repoRoot(t)
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building ironlb: %v\n%s", err, out)
		}
		out, err := exec.CommandContext(ctx, bin, "status", "--kubeconfig", l.LocalKubeconfigPath(), "-n", "lab", "-o", "json").CombinedOutput()
		if err != nil {
			t.Fatalf("ironlb status: %v\n%s", err, out)
		}
		for _, want := range []string{"web-bgp", "web-l2", bgpIPs[0].String(), l2IPs[0].String()} {
			if !strings.Contains(string(out), want) {
				t.Errorf("ironlb status lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("no container logs an error", func(t *testing.T) {
		for _, p := range ironlbPods(t, l) {
			for _, c := range containerNames(p) {
				out, err := l.Kubectl(ctx, "-n", lab.MetalLBNamespace, "logs", p.Name, "-c", c)
				if err != nil {
					t.Errorf("logs of %s/%s: %v", p.Name, c, err)
					continue
				}
				for _, line := range strings.Split(string(out), "\n") {
					if logsError(line) {
						t.Errorf("%s/%s logs an error: %s", p.Name, c, line)
					}
				}
			}
		}
	})
}

// logsError reports whether a log line is an error of ironlb's: slog's
// JSON or text level. FRR's own lines (in the frr container's log) carry
// no level: its "[EC n]" codes mark warnings too, such as "Disabling MPLS
// support (no kernel support)".
func logsError(line string) bool {
	var entry struct {
		Level string `json:"level"`
	}
	if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &entry) == nil {
		return entry.Level == "ERROR"
	}
	return strings.Contains(line, "level=ERROR")
}

// waitHTTP waits until ip answers HTTP on the Services' port from netns.
func waitHTTP(t *testing.T, netns string, ip netip.Addr) {
	t.Helper()
	url := fmt.Sprintf("http://%s/", netip.AddrPortFrom(ip, lab.ServicePort))
	waitCond(t, "HTTP answers at "+url+" from "+netns, func(ctx context.Context) (bool, string) {
		body, err := lab.HTTPGet(ctx, netns, url)
		if err != nil {
			return false, err.Error()
		}
		return strings.HasPrefix(strings.TrimSpace(body), "ilb-n"), body
	})
}

func testRealVtysh(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	// docs/troubleshooting.md, "BGP": find the pods, then vtysh through
	// the DaemonSet and per pod.
	out, err := l.Kubectl(ctx, "get", "pods", "-n", lab.MetalLBNamespace, "-l", "app.kubernetes.io/component=speaker", "-o", "wide")
	if err != nil {
		t.Fatalf("listing the speaker pods: %v", err)
	}
	for _, n := range lab.Nodes() {
		if !strings.Contains(string(out), n.Name) {
			t.Errorf("the speaker pods' list lacks %s:\n%s", n.Name, out)
		}
	}
	out, err = l.Kubectl(ctx, "exec", "-n", lab.MetalLBNamespace, "ds/"+lab.ReleaseName+"-speaker", "-c", "frr", "--", "vtysh", "-c", "show bgp summary")
	if err != nil {
		t.Fatalf("vtysh through the DaemonSet: %v", err)
	}
	if !strings.Contains(string(out), lab.RouterIPv4) {
		t.Errorf("show bgp summary lacks the router %s:\n%s", lab.RouterIPv4, out)
	}
	for node, p := range speakerPods(t, l) {
		n, _ := lab.NodeByName(node)
		cmds := map[string]string{
			"show bgp summary":                     lab.RouterIPv6,
			"show running-config":                  "router bgp",
			"show bgp ipv4 unicast":                "203.0.113.",
			"show bgp ipv6 unicast":                "2001:db8:0:100::",
			"show bfd peers":                       "Status: up",
			"show bgp neighbors " + lab.RouterIPv4: "BGP state = Established",
			"show bgp ipv4 unicast neighbors " + lab.RouterIPv4 + " advertised-routes": "203.0.113.",
		}
		for cmd, want := range cmds {
			out, err := l.Kubectl(ctx, "exec", "-n", lab.MetalLBNamespace, p.Name, "-c", "frr", "--", "vtysh", "-c", cmd)
			if err != nil {
				t.Errorf("%s: vtysh -c %q: %v", node, cmd, err)
				continue
			}
			if !strings.Contains(string(out), want) {
				t.Errorf("%s (%s): vtysh -c %q lacks %q:\n%s", node, n.IPv4, cmd, want, out)
			}
		}
	}
}

// testRealUninstall runs `helm uninstall`: the speakers drain as they
// stop, so the router sees the routes withdrawn while the sessions are
// still up (never held as stale, as a dropped session of a
// graceful-restart peer would leave them); nothing of the release stays
// in the cluster but the CRDs, and nothing of it stays on the nodes: no
// container, no BGP route, no answer to ARP for the Layer 2 IPs.
func testRealUninstall(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	ips, err := l.WaitServiceIPs(ctx, "lab", "web-bgp", 2)
	if err != nil {
		t.Fatal(err)
	}
	l2IPs, err := l.WaitServiceIPs(ctx, "lab", "web-l2", 2)
	if err != nil {
		t.Fatal(err)
	}
	v4 := netip.PrefixFrom(ips[0], 32)
	if !ips[0].Is4() {
		v4 = netip.PrefixFrom(ips[1], 32)
	}
	uninstalled := make(chan error, 1)
	go func() {
		_, err := l.Helm(ctx, "uninstall", lab.ReleaseName, "--namespace", lab.MetalLBNamespace, "--wait", "--timeout", "5m")
		uninstalled <- err
	}()
	// Until the IPv4 route is gone: no path of it ever stale.
	var stale []string
	waitCond(t, "no route to "+v4.String()+" at the router", func(ctx context.Context) (bool, string) {
		paths, err := stalePaths(ctx, l, v4)
		if err != nil {
			return false, err.Error()
		}
		for hop, s := range paths {
			if s && !slices.Contains(stale, hop) {
				stale = append(stale, hop)
			}
		}
		gws, err := nextHops(ctx, v4.Addr())
		if err != nil {
			return false, err.Error()
		}
		return len(gws) == 0 && len(paths) == 0, fmt.Sprintf("kernel %v, bgp paths %v", gws, paths)
	})
	if len(stale) > 0 {
		t.Errorf("the router held the paths via %v as stale: their sessions went down before the routes were withdrawn", stale)
	}
	if err := <-uninstalled; err != nil {
		t.Fatal(err)
	}
	waitCond(t, "no ironlb pod left", func(ctx context.Context) (bool, string) {
		pods := ironlbPods(t, l)
		return len(pods) == 0, fmt.Sprint(len(pods), " pods")
	})
	// Every route withdrawn at the router.
	for _, ip := range ips {
		waitCond(t, "no route to "+ip.String()+" at the router", func(ctx context.Context) (bool, string) {
			gws, err := nextHops(ctx, ip)
			if err != nil {
				return false, err.Error()
			}
			return len(gws) == 0, fmt.Sprint(gws)
		})
	}
	// Nothing left on the nodes: no container process, no BGP route.
	for _, n := range lab.Nodes() {
		waitCond(t, "no container process on "+n.Name, func(context.Context) (bool, string) {
			procs, err := l.ContainerProcesses(n.Name)
			if err != nil {
				return false, err.Error()
			}
			var left []string
			for _, p := range procs {
				left = append(left, strings.Join(p.Cmdline, " "))
			}
			return len(left) == 0, strings.Join(left, "; ")
		})
		for _, fam := range []string{"-4", "-6"} {
			out, err := lab.Exec(ctx, n.Name, "ip", fam, "route", "show", "proto", "bgp")
			if err != nil {
				t.Fatal(err)
			}
			if s := strings.TrimSpace(string(out)); s != "" {
				t.Errorf("%s keeps BGP routes (ip %s):\n%s", n.Name, fam, s)
			}
		}
	}
	// No node answers ARP or NDP for the Layer 2 IPs any more: with the
	// LAN client's neighbor entries flushed, they are unreachable.
	if _, err := lab.Exec(ctx, lab.LANClientNetns, "ip", "neigh", "flush", "dev", lab.LANLink); err != nil {
		t.Fatal(err)
	}
	for _, ip := range l2IPs {
		url := fmt.Sprintf("http://%s/", netip.AddrPortFrom(ip, lab.ServicePort))
		hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		body, err := lab.HTTPGet(hctx, lab.LANClientNetns, url)
		cancel()
		if err == nil {
			t.Errorf("%s still answers the LAN client after the uninstall: %s", ip, body)
		}
	}
	// Nothing of the release left: only the CRDs stay, as Helm does.
	out, err := l.Kubectl(ctx, "get", "all,secrets,configmaps,serviceaccounts,roles,rolebindings,networkpolicies,poddisruptionbudgets",
		"-n", lab.MetalLBNamespace, "-l", "app.kubernetes.io/instance="+lab.ReleaseName, "-o", "name")
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("objects of the release left in %s:\n%s", lab.MetalLBNamespace, s)
	}
	out, err = l.Kubectl(ctx, "get", "clusterroles,clusterrolebindings,validatingwebhookconfigurations",
		"-l", "app.kubernetes.io/instance="+lab.ReleaseName, "-o", "name")
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("cluster objects of the release left:\n%s", s)
	}
	out, err = l.Kubectl(ctx, "get", "crd", "-o", "name")
	if err != nil || !strings.Contains(string(out), "ipaddresspools.metallb.io") {
		t.Errorf("the CRDs should stay: %v\n%s", err, out)
	}
}

// testRealFRRRestart kills ilb-n1's frr container (SIGKILL to its init,
// as a crash would): the kubelet starts it again, the init container's
// copy of the agent runs again, and the speaker brings FRR's config back:
// a new session at the router, the route through all three nodes again.
func testRealFRRRestart(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	pod, ok := speakerPods(t, l)["ilb-n1"]
	if !ok {
		t.Fatal("no speaker on ilb-n1")
	}
	restarts := frrRestarts(pod)
	n1, _ := lab.NodeByName("ilb-n1")
	before, err := routerNeighbor(ctx, l, n1.IPv4.String())
	if err != nil {
		t.Fatal(err)
	}
	ips, err := l.WaitServiceIPs(ctx, "lab", "web-bgp", 2)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := l.ContainerInit(n1.Name, "/etc/ironlb/frr/frr-start.sh")
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("killing the frr container's init (pid %d): %v", pid, err)
	}
	waitCond(t, "the kubelet restarted ilb-n1's frr container and the pod is ready", func(ctx context.Context) (bool, string) {
		p, ok := speakerPods(t, l)["ilb-n1"]
		if !ok {
			return false, "no pod"
		}
		return frrRestarts(p) > restarts && podReady(p), fmt.Sprintf("restarts %d, ready %v", frrRestarts(p), podReady(p))
	})
	waitCond(t, "a new session with ilb-n1 and the routes via all three nodes again", func(ctx context.Context) (bool, string) {
		n, err := routerNeighbor(ctx, l, n1.IPv4.String())
		if err != nil {
			return false, err.Error()
		}
		var seen []string
		all := n.Established() && n.ConnectionsEstablished > before.ConnectionsEstablished
		for _, ip := range ips {
			gws, err := nextHops(ctx, ip)
			if err != nil {
				return false, err.Error()
			}
			all = all && len(gws) == 3
			seen = append(seen, fmt.Sprint(ip, gws))
		}
		return all, fmt.Sprintf("state %s, established %d (was %d), %v", n.State, n.ConnectionsEstablished, before.ConnectionsEstablished, seen)
	})
}

func frrRestarts(p corev1.Pod) int32 {
	for _, c := range p.Status.ContainerStatuses {
		if c.Name == "frr" {
			return c.RestartCount
		}
	}
	return 0
}

// testRealNodeFailure stops the node that answers for the Layer 2 Service
// (its containerd, kubelet, kube-proxy and every container on it): the
// router drops it as a next hop and another node takes the Layer 2 IPs.
// Started again, its pods come back and it rejoins, and the other nodes'
// sessions with the router are never reset.
func testRealNodeFailure(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	bgpIPs, err := l.WaitServiceIPs(ctx, "lab", "web-bgp", 2)
	if err != nil {
		t.Fatal(err)
	}
	l2IPs, err := l.WaitServiceIPs(ctx, "lab", "web-l2", 2)
	if err != nil {
		t.Fatal(err)
	}
	victim := l2Owner(t, l)
	var others []string
	sessions := map[string]int64{}
	for _, n := range lab.Nodes() {
		if n.Name == victim {
			continue
		}
		others = append(others, n.Name)
		nb, err := routerNeighbor(ctx, l, n.IPv4.String())
		if err != nil {
			t.Fatal(err)
		}
		sessions[n.Name] = nb.ConnectionsEstablished
	}
	t.Logf("stopping %s, the Layer 2 owner", victim)
	stopped := time.Now()
	if err := l.StopNode(ctx, victim); err != nil {
		t.Fatal(err)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			if err := l.StartNode(context.Background(), victim); err != nil {
				t.Errorf("starting %s again: %v", victim, err)
			}
		}
	})
	waitCond(t, "another node owns the Layer 2 Service", func(context.Context) (bool, string) {
		o := l2Owner(t, l)
		return o != "" && o != victim, o
	})
	t.Logf("Layer 2 owner moved after %v", time.Since(stopped).Round(time.Millisecond))
	for _, ip := range l2IPs {
		waitHTTP(t, lab.LANClientNetns, ip)
	}
	for _, ip := range bgpIPs {
		// The node's bgpd died with its TCP sessions closed, not cut: the
		// router, a graceful-restart helper (the example peers enable
		// it), keeps its routes as stale until the restart time (FRR's
		// default 120 s) runs out.
		waitLong(t, fmt.Sprintf("the router drops %s for %s", victim, ip), 4*time.Minute, func(ctx context.Context) (bool, string) {
			gws, err := nextHops(ctx, ip)
			if err != nil {
				return false, err.Error()
			}
			if ip.Is4() {
				return slices.Equal(gws, nodeIPv4s(others...)), fmt.Sprint(gws)
			}
			return len(gws) == 2, fmt.Sprint(gws)
		})
	}
	t.Logf("next hop of %s gone from the router after %v", victim, time.Since(stopped).Round(time.Millisecond))

	restarted = true
	if err := l.StartNode(ctx, victim); err != nil {
		t.Fatal(err)
	}
	waitCond(t, victim+"'s speaker ready again", func(context.Context) (bool, string) {
		p, ok := speakerPods(t, l)[victim]
		return ok && podReady(p), fmt.Sprint(ok)
	})
	for _, ip := range bgpIPs {
		waitCond(t, fmt.Sprintf("three next hops for %s again", ip), func(ctx context.Context) (bool, string) {
			gws, err := nextHops(ctx, ip)
			if err != nil {
				return false, err.Error()
			}
			return len(gws) == 3, fmt.Sprint(gws)
		})
	}
	for _, n := range others {
		node, _ := lab.NodeByName(n)
		nb, err := routerNeighbor(ctx, l, node.IPv4.String())
		if err != nil {
			t.Fatal(err)
		}
		if !nb.Established() || nb.ConnectionsEstablished != sessions[n] {
			t.Errorf("%s's session was reset while %s failed: state %s, established %d times (was %d)", n, victim, nb.State, nb.ConnectionsEstablished, sessions[n])
		}
	}
}

// l2Owner returns the node in web-l2's ServiceL2Status, or "".
func l2Owner(t *testing.T, l *lab.Lab) string {
	t.Helper()
	var list ironlbv1.ServiceL2StatusList
	if err := l.Kube().List(context.Background(), &list, client.InNamespace(lab.MetalLBNamespace)); err != nil {
		t.Fatalf("listing ServiceL2Status: %v", err)
	}
	for _, s := range list.Items {
		if s.Status.ServiceName == "web-l2" {
			return s.Status.Node
		}
	}
	return ""
}

// logFootprint logs the resident memory of every component of the real
// nodes: the lab's node processes and the containers' processes, summed
// by component over the three nodes (BENCHMARKS.md has the numbers).
func logFootprint(t *testing.T, l *lab.Lab) {
	rss := map[string][]int64{}
	for _, p := range l.Processes() {
		for _, n := range lab.Nodes() {
			if name, ok := strings.CutPrefix(p.Name, n.Name+"-"); ok && name != "web" {
				if cp, err := lab.ProcessRSS(p.Pid); err == nil {
					rss[name] = append(rss[name], cp.RSS)
				}
			}
		}
	}
	for _, n := range lab.Nodes() {
		procs, err := l.ContainerProcesses(n.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range procs {
			if name := componentOf(p.Cmdline); name != "" {
				rss[name] = append(rss[name], p.RSS)
			}
		}
	}
	names := slices.Sorted(maps.Keys(rss))
	for _, name := range names {
		var sum int64
		for _, v := range rss[name] {
			sum += v
		}
		t.Logf("RSS %-24s %d processes, %.1f MiB each on average", name, len(rss[name]), float64(sum)/float64(len(rss[name]))/(1<<20))
	}
}

// componentOf names a container process by its command line.
func componentOf(argv []string) string {
	if len(argv) == 0 {
		return ""
	}
	base := filepath.Base(argv[0])
	switch {
	case base == "ironlb" && len(argv) > 1:
		return "ironlb " + argv[1]
	case strings.HasPrefix(argv[0], "/usr/lib/frr/"):
		return "frr " + base
	case base == "pause" || base == "tini":
		return base
	}
	return ""
}
