package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/e2e/lab"
)

// l2Namespace holds the Services of the Layer 2 tests.
const l2Namespace = "l2e2e"

// startL2Lab brings the lab up with speakers for tb (a test or a
// benchmark) and takes it down when tb ends.
func startL2Lab(tb testing.TB) *lab.Lab {
	tb.Helper()
	return startL2LabWith(tb)
}

// startL2LabWith is startL2Lab with more flags for every speaker.
func startL2LabWith(tb testing.TB, speakerArgs ...string) *lab.Lab {
	tb.Helper()
	skipUnlessLabCanRun(tb)
	root := repoRoot(tb)
	bin := filepath.Join(tb.TempDir(), "ironlb")
	build := exec.Command("go", "build", "-o", bin, "./cmd/ironlb")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("building ironlb: %v\n%s", err, out)
	}
	// Not tb.TempDir(): FRR's daemons, running as user frr, write below
	// it. Down removes it.
	state, err := os.MkdirTemp("", "ironlb-e2e-l2-")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.Chmod(state, 0o755); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(state) })
	cfg := lab.Config{
		StateDir:    state,
		Binary:      bin,
		KubeBinDir:  filepath.Join(root, "bin", "k8s"),
		CRDDir:      filepath.Join(root, "charts", "ironlb", "crds"),
		Manifests:   []string{filepath.Join(root, "examples", "lab")},
		Speakers:    true,
		SpeakerArgs: speakerArgs,
		Log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := lab.Up(ctx, cfg)
	if err != nil {
		tb.Fatalf("lab up: %v", err)
	}
	tb.Cleanup(func() {
		if err := l.Down(context.Background()); err != nil {
			tb.Errorf("lab down: %v", err)
		}
	})
	tb.Cleanup(func() {
		if tb.Failed() {
			dumpL2Logs(tb, l)
		}
	})
	if err := l.Kube().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: l2Namespace}}); err != nil {
		tb.Fatalf("creating namespace: %v", err)
	}
	return l
}

// dumpL2Logs prints the end of the speakers' and the controller's logs,
// and copies them whole into $IRONLB_E2E_KEEP_LOGS when that names a
// folder.
func dumpL2Logs(tb testing.TB, l *lab.Lab) {
	for _, p := range l.Processes() {
		if !strings.HasSuffix(p.Name, "-speaker") && p.Name != "controller" {
			continue
		}
		data, err := os.ReadFile(p.Log)
		if err != nil {
			continue
		}
		if dir := os.Getenv("IRONLB_E2E_KEEP_LOGS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, p.Name+".log"), data, 0o644)
		}
		if len(data) > 6000 {
			data = data[len(data)-6000:]
		}
		tb.Logf("--- %s:\n%s", p.Name, strings.TrimSpace(string(data)))
	}
}

// l2Wait polls cond every 50ms until it holds, failing tb after a bound
// that only catches a hang. cond returns what it saw, for the failure.
func l2Wait(tb testing.TB, what string, cond func(ctx context.Context) (bool, string)) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	last := ""
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 5*time.Second)
		ok, seen := cond(attempt)
		cancelAttempt()
		if ok {
			return
		}
		last = seen
		select {
		case <-ctx.Done():
			tb.Fatalf("gave up waiting for %s; last seen: %s", what, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// speakerProc is one node's speaker, as the lab started it or as the
// harness restarted it.
type speakerProc struct {
	node string
	argv []string
	log  string
	pid  int
	// cmd and exited are set when the harness started the process.
	cmd    *exec.Cmd
	exited <-chan struct{}
}

// l2Harness drives the speakers of a lab: it kills and restarts them.
type l2Harness struct {
	l        *lab.Lab
	mu       sync.Mutex
	speakers map[string]*speakerProc
}

func newL2Harness(tb testing.TB, l *lab.Lab) *l2Harness {
	tb.Helper()
	h := &l2Harness{l: l, speakers: map[string]*speakerProc{}}
	for _, p := range l.Processes() {
		node, ok := strings.CutSuffix(p.Name, "-speaker")
		if !ok {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.Pid))
		if err != nil {
			tb.Fatalf("reading the speaker's command line: %v", err)
		}
		argv := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		h.speakers[node] = &speakerProc{node: node, argv: argv, log: p.Log, pid: p.Pid}
	}
	if len(h.speakers) != len(lab.Nodes()) {
		tb.Fatalf("found speakers on %d nodes, want %d", len(h.speakers), len(lab.Nodes()))
	}
	tb.Cleanup(h.stopStarted)
	return h
}

// stopStarted ends the speakers the harness started; the lab's Down
// would kill them too.
func (h *l2Harness) stopStarted() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.speakers {
		if s.cmd == nil {
			continue
		}
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	}
}

func (h *l2Harness) speaker(node string) *speakerProc {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.speakers[node]
}

// signal sends sig to a node's speaker and waits until it is gone.
func (h *l2Harness) signal(tb testing.TB, node string, sig syscall.Signal) {
	tb.Helper()
	s := h.speaker(node)
	if err := syscall.Kill(s.pid, sig); err != nil {
		tb.Fatalf("signalling the speaker of %s: %v", node, err)
	}
	waitGone(tb, s)
}

func waitGone(tb testing.TB, s *speakerProc) {
	tb.Helper()
	l2Wait(tb, "the speaker of "+s.node+" to exit", func(context.Context) (bool, string) {
		if s.exited != nil {
			select {
			case <-s.exited:
				return true, ""
			default:
				return false, "running"
			}
		}
		return !processLive(s.pid), "running"
	})
}

// restart starts a node's speaker again, with its arguments passed
// through edit when set, and waits until it serves.
func (h *l2Harness) restart(tb testing.TB, node string, edit func([]string) []string) {
	tb.Helper()
	old := h.speaker(node)
	argv := slices.Clone(old.argv)
	if edit != nil {
		argv = edit(argv)
	}
	cmd, exited := spawn(tb, labProcess{netns: node, argv: argv, log: old.log})
	s := &speakerProc{node: node, argv: old.argv, log: old.log, pid: cmd.Process.Pid, cmd: cmd, exited: exited}
	h.mu.Lock()
	h.speakers[node] = s
	h.mu.Unlock()
	l2Wait(tb, "the restarted speaker of "+node+" to serve", func(ctx context.Context) (bool, string) {
		select {
		case <-s.exited:
			tb.Fatalf("the restarted speaker of %s exited", node)
		default:
		}
		_, err := lab.HTTPGet(ctx, node, "http://127.0.0.1:7475/readyz")
		return err == nil, fmt.Sprint(err)
	})
}

// withArg replaces the value of a --name=value argument.
func withArg(name, value string) func([]string) []string {
	return func(argv []string) []string {
		for i, a := range argv {
			if strings.HasPrefix(a, "--"+name+"=") {
				argv[i] = "--" + name + "=" + value
			}
		}
		return argv
	}
}

// metric reads one unlabelled sample of a speaker's metrics.
func metric(ctx context.Context, node, name string) (float64, error) {
	body, err := lab.HTTPGet(ctx, node, "http://127.0.0.1:7474/metrics")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("%s: no sample of %s", node, name)
}

// waitSettled waits until every speaker serves and sees all three.
func (h *l2Harness) waitSettled(tb testing.TB) {
	tb.Helper()
	for _, n := range lab.Nodes() {
		l2Wait(tb, n.Name+" sees three live speakers", func(ctx context.Context) (bool, string) {
			v, err := metric(ctx, n.Name, "ironlb_speaker_l2_members_live")
			return err == nil && v == 3, fmt.Sprintf("%v, %v", v, err)
		})
	}
}

// l2Owners returns the nodes whose ServiceL2Status names the Service,
// with their interfaces.
func l2Owners(ctx context.Context, l *lab.Lab, ns, name string) (map[string][]string, error) {
	var list v1beta1.ServiceL2StatusList
	if err := l.Kube().List(ctx, &list, client.InNamespace(lab.MetalLBNamespace)); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, s := range list.Items {
		if s.Status.ServiceNamespace != ns || s.Status.ServiceName != name {
			continue
		}
		var names []string
		for _, i := range s.Status.Interfaces {
			names = append(names, i.Name)
		}
		out[s.Status.Node] = names
	}
	return out, nil
}

// waitOwner waits until exactly one node's ServiceL2Status names the
// Service, and that node passes ok (nil: any), and returns it.
func waitOwner(tb testing.TB, l *lab.Lab, name string, ok func(node string) bool) string {
	tb.Helper()
	var owner string
	l2Wait(tb, "one owner of "+name, func(ctx context.Context) (bool, string) {
		owners, err := l2Owners(ctx, l, l2Namespace, name)
		if err != nil || len(owners) != 1 {
			return false, fmt.Sprint(owners, err)
		}
		for n := range owners {
			owner = n
		}
		return ok == nil || ok(owner), fmt.Sprint(owners)
	})
	return owner
}

// serviceURL is the kube-proxy stand-in's URL on a Service IP.
func serviceURL(ip netip.Addr) string {
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(lab.ServicePort)) + "/"
}

// waitClientReaches waits until HTTP from the LAN client to ip answers
// node.
func waitClientReaches(tb testing.TB, ip netip.Addr, node string) {
	tb.Helper()
	l2Wait(tb, fmt.Sprintf("the LAN client reaching %s on %s", node, ip), func(ctx context.Context) (bool, string) {
		body, err := lab.HTTPGet(ctx, lab.LANClientNetns, serviceURL(ip))
		return err == nil && strings.TrimSpace(body) == node, fmt.Sprintf("%q, %v", body, err)
	})
}

// linkMAC returns an interface's MAC address in a namespace.
func linkMAC(tb testing.TB, ns, dev string) string {
	tb.Helper()
	out, err := lab.Exec(context.Background(), ns, "ip", "-j", "link", "show", "dev", dev)
	if err != nil {
		tb.Fatal(err)
	}
	var links []struct {
		Address string `json:"address"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		tb.Fatalf("parsing ip link of %s %s: %v: %s", ns, dev, err, out)
	}
	return links[0].Address
}

// clientNeighbor returns the LAN client's neighbor entry for ip: its MAC
// and state.
func clientNeighbor(ctx context.Context, ip netip.Addr) (mac, state string, err error) {
	out, err := lab.Exec(ctx, lab.LANClientNetns, "ip", "-j", "neigh", "show", ip.String())
	if err != nil {
		return "", "", err
	}
	var entries []struct {
		LLAddr string   `json:"lladdr"`
		State  []string `json:"state"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &entries); err != nil {
		return "", "", fmt.Errorf("parsing neighbors: %w: %s", err, out)
	}
	if len(entries) == 0 {
		return "", "", nil
	}
	return entries[0].LLAddr, strings.Join(entries[0].State, ","), nil
}

// waitNeighbor waits until the LAN client resolves ip to mac.
func waitNeighbor(tb testing.TB, ip netip.Addr, mac string) {
	tb.Helper()
	l2Wait(tb, fmt.Sprintf("the LAN client resolving %s to %s", ip, mac), func(ctx context.Context) (bool, string) {
		got, st, err := clientNeighbor(ctx, ip)
		return err == nil && got == mac, fmt.Sprintf("%s %s %v", got, st, err)
	})
}

// l2ServiceSpec describes a test Service of the Layer 2 tests.
type l2ServiceSpec struct {
	name      string
	pool      string // default "l2"
	dual      bool
	etpLocal  bool
	ip        string // metallb.io/loadBalancerIPs
	sharedKey string // metallb.io/allow-shared-ip
	port      int32  // default lab.ServicePort
	endpoints []string
}

// createL2Service makes the Service and its endpoints, waits for its IPs
// and deletes it when tb ends.
func createL2Service(tb testing.TB, l *lab.Lab, spec l2ServiceSpec) []netip.Addr {
	tb.Helper()
	ctx := context.Background()
	if spec.pool == "" {
		spec.pool = "l2"
	}
	if spec.port == 0 {
		spec.port = lab.ServicePort
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: l2Namespace, Name: spec.name, Annotations: map[string]string{"metallb.io/address-pool": spec.pool}},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Name: "http", Port: spec.port, Protocol: corev1.ProtocolTCP}},
		},
	}
	if spec.dual {
		policy := corev1.IPFamilyPolicyRequireDualStack
		svc.Spec.IPFamilyPolicy = &policy
		svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	}
	if spec.etpLocal {
		svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	}
	if spec.ip != "" {
		svc.Annotations["metallb.io/loadBalancerIPs"] = spec.ip
	}
	if spec.sharedKey != "" {
		svc.Annotations["metallb.io/allow-shared-ip"] = spec.sharedKey
	}
	if err := l.Kube().Create(ctx, svc); err != nil {
		tb.Fatalf("creating service %s: %v", spec.name, err)
	}
	tb.Cleanup(func() {
		if err := l.Kube().Delete(context.Background(), svc); err != nil {
			tb.Errorf("deleting service %s: %v", spec.name, err)
		}
		_ = l.Kube().DeleteAllOf(context.Background(), &discoveryv1.EndpointSlice{}, client.InNamespace(l2Namespace),
			client.MatchingLabels{discoveryv1.LabelServiceName: spec.name})
	})
	want := 1
	if spec.dual {
		want = 2
	}
	ips, err := l.WaitServiceIPs(ctx, l2Namespace, spec.name, want)
	if err != nil {
		tb.Fatal(err)
	}
	if err := l.CreateEndpoints(ctx, l2Namespace, spec.name, spec.endpoints...); err != nil {
		tb.Fatalf("creating endpoints of %s: %v", spec.name, err)
	}
	return ips
}

func fileSize(tb testing.TB, path string) int64 {
	tb.Helper()
	st, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return st.Size()
}

// waitLogLine waits until a line written to the log after offset holds
// every one of subs, and returns it.
func waitLogLine(tb testing.TB, path string, offset int64, subs ...string) string {
	tb.Helper()
	var found string
	l2Wait(tb, fmt.Sprintf("a line with %q in %s", subs, filepath.Base(path)), func(context.Context) (bool, string) {
		data, err := os.ReadFile(path)
		if err != nil || int64(len(data)) < offset {
			return false, fmt.Sprint(err)
		}
		for _, line := range strings.Split(string(data[offset:]), "\n") {
			if !slices.ContainsFunc(subs, func(s string) bool { return !strings.Contains(line, s) }) {
				found = line
				return true, ""
			}
		}
		return false, "no such line"
	})
	return found
}
