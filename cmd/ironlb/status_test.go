package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrk8sv1beta1 "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/internal/status"
	"github.com/ironlb/ironlb/internal/testenv"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// exitCase is one run of ironlb that must end with an exit code, print
// nothing on stdout, and print every wantStderr on stderr.
type exitCase struct {
	name       string
	args       []string
	want       int
	wantStderr []string
}

// checkExitCodes runs each case as a subtest.
func checkExitCodes(t *testing.T, tests []exitCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runIronlb(t, "", tt.args...)
			if code != tt.want {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.want, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout not empty:\n%s", stdout)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestStatusExitCodes(t *testing.T) {
	checkExitCodes(t, []exitCase{
		{
			name:       "help",
			args:       []string{"status", "-h"},
			want:       0,
			wantStderr: []string{"usage: ironlb status", "kubectl ironlb status", "-service-namespace", "-lb-class"},
		},
		{
			name:       "unknown output format",
			args:       []string{"status", "-o", "yaml"},
			want:       2,
			wantStderr: []string{`ironlb status: -o "yaml": want text or json`, "usage: ironlb status"},
		},
		{
			name:       "positional argument",
			args:       []string{"status", "web"},
			want:       2,
			wantStderr: []string{`unexpected argument "web"`},
		},
		{
			name:       "empty namespace",
			args:       []string{"status", "--namespace="},
			want:       2,
			wantStderr: []string{"--namespace must not be empty"},
		},
		{
			name:       "unreadable kubeconfig",
			args:       []string{"status", "--kubeconfig", filepath.Join(t.TempDir(), "missing")},
			want:       1,
			wantStderr: []string{"ironlb status: loading kubeconfig"},
		},
	})
}

func TestStatusFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want statusConfig
	}{
		{name: "defaults", want: statusConfig{Namespace: "metallb-system", Output: "text"}},
		{
			name: "short service namespace",
			args: []string{"-n", "shop", "-o", "json", "--namespace", "lb", "--kubeconfig", "/k", "--lb-class", "x.io/lb"},
			want: statusConfig{Kubeconfig: "/k", Namespace: "lb", ServiceNamespace: "shop", Output: "json", LBClass: "x.io/lb"},
		},
		{name: "long service namespace", args: []string{"--service-namespace=shop"}, want: statusConfig{Namespace: "metallb-system", ServiceNamespace: "shop", Output: "text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statusFlags(tt.args, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Now == nil {
				t.Error("Now is not set")
			}
			got.Now = nil
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("statusFlags() (-want +got):\n%s", diff)
			}
		})
	}
}

// statusNow is the time the API test reports at.
var statusNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// TestStatusAPI creates ironlb's objects on a real API server, as the
// controller and the speakers would write them, and checks what `ironlb
// status` prints: in-process against a golden file, and as `kubectl
// ironlb status` through the binary linked as a kubectl plugin.
func TestStatusAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test API server (not with -short)")
	}
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	createStatusObjects(t, env.Client)
	kubeconfig := writeKubeconfig(t, env)

	t.Run("text", func(t *testing.T) {
		cfg, err := statusFlags([]string{"--kubeconfig", kubeconfig}, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Now = func() time.Time { return statusNow }
		var stdout, stderr bytes.Buffer
		if err := cfg.run(ctx, env.Client, &stdout, &stderr); err != nil {
			t.Fatalf("run: %v\n%s", err, stderr.String())
		}
		if stderr.Len() > 0 {
			t.Errorf("stderr not empty:\n%s", stderr.String())
		}
		goldenFile(t, filepath.Join("testdata", "TestStatusAPI.golden"), stdout.Bytes())
	})

	t.Run("dispatch json", func(t *testing.T) {
		code, stdout, stderr := runIronlb(t, "", "status", "--kubeconfig", kubeconfig, "-n", "office", "-o", "json")
		if code != 0 {
			t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
		}
		var rep status.Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("decoding the JSON: %v\n%s", err, stdout)
		}
		want := []status.Service{{
			Namespace: "office", Name: "printer", IPs: []string{"198.51.100.1"}, Pool: "office", Mode: status.ModeL2,
			Announcers: []status.Announcer{{Node: "node-b", L2: &status.L2Announcement{Interfaces: []string{"eth0"}}}},
		}}
		if diff := cmp.Diff(want, rep.Services); diff != "" {
			t.Errorf("services (-want +got):\n%s", diff)
		}
		if len(rep.Nodes) != 2 || len(rep.ConfigErrors) != 1 {
			t.Errorf("got %d nodes and %d configuration errors, want 2 and 1", len(rep.Nodes), len(rep.ConfigErrors))
		}
	})

	t.Run("kubectl plugin", func(t *testing.T) {
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			t.Skip("kubectl is not installed")
		}
		dir := t.TempDir()
		bin := filepath.Join(dir, "ironlb")
		build := exec.Command("go", "build", "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("building ironlb: %v\n%s", err, out)
		}
		if err := os.Symlink(bin, filepath.Join(dir, "kubectl-ironlb")); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(kubectl, "ironlb", "status", "-n", "shop")
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+kubeconfig)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("kubectl ironlb status: %v\n%s", err, stderr.String())
		}
		out := stdout.String()
		for _, want := range []string{"shop        web", "node-a: BGP to tor-a", "FAILED APPLIES", "CONFIGURATION ERRORS"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "printer") {
			t.Errorf("-n shop shows a Service of another namespace:\n%s", out)
		}
	})
}

// goldenFile compares got with the file at path; -update rewrites it.
func goldenFile(t *testing.T, path string, got []byte) {
	t.Helper()
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the golden file (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("output differs from %s (-want +got):\n%s", path, diff)
	}
}

// writeKubeconfig writes a kubeconfig for the test API server.
func writeKubeconfig(t *testing.T, env *testenv.Env) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: env.Config.CertData, ClientKeyData: env.Config.KeyData, Token: env.Config.BearerToken}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin"}
	cfg.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// createStatusObjects writes a small cluster's worth of ironlb objects:
// a BGP+L2 pool and an L2 pool, three Services (one pending), two
// speakers (one with a failed apply and a session down) and one speaker
// reporting an invalid configuration.
func createStatusObjects(t *testing.T, c client.Client) {
	t.Helper()
	ctx := context.Background()
	const ns = "metallb-system"
	meta := func(namespace, name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: namespace, Name: name}
	}
	create := func(obj client.Object) {
		t.Helper()
		if err := c.Create(ctx, obj); err != nil {
			t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
		}
	}
	// withStatus creates obj, then sets its status subresource to what
	// set writes.
	withStatus := func(obj client.Object, set func()) {
		t.Helper()
		create(obj)
		set()
		if err := c.Status().Update(ctx, obj); err != nil {
			t.Fatalf("writing the status of %T %s: %v", obj, obj.GetName(), err)
		}
	}
	for _, name := range []string{ns, "shop", "office"} {
		create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	}

	public := &v1beta1.IPAddressPool{ObjectMeta: meta(ns, "public"), Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.0/28"}}}
	withStatus(public, func() { public.Status = v1beta1.IPAddressPoolStatus{AssignedIPv4: 1, AvailableIPv4: 15} })
	office := &v1beta1.IPAddressPool{ObjectMeta: meta(ns, "office"), Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"198.51.100.0/28"}}}
	withStatus(office, func() { office.Status = v1beta1.IPAddressPoolStatus{AssignedIPv4: 1, AvailableIPv4: 15} })
	for _, name := range []string{"tor-a", "tor-b"} {
		addr := map[string]string{"tor-a": "203.0.113.1", "tor-b": "203.0.113.2"}[name]
		create(&v1beta2.BGPPeer{ObjectMeta: meta(ns, name), Spec: v1beta2.BGPPeerSpec{MyASN: 64500, ASN: 64501, Address: addr}})
	}
	create(&v1beta1.BGPAdvertisement{ObjectMeta: meta(ns, "public"), Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"public"}}})
	create(&v1beta1.L2Advertisement{ObjectMeta: meta(ns, "lan"), Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"office", "public"}}})

	service := func(namespace, name, pool, ip string) {
		t.Helper()
		svc := &corev1.Service{ObjectMeta: meta(namespace, name), Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Port: 80}},
		}}
		if pool != "" {
			svc.Annotations = map[string]string{"metallb.io/ip-allocated-from-pool": pool}
		}
		withStatus(svc, func() {
			if ip != "" {
				svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
			}
		})
	}
	service("shop", "web", "public", "192.0.2.1")
	service("shop", "db", "", "")
	service("office", "printer", "office", "198.51.100.1")
	create(&eventsv1.Event{
		ObjectMeta:          meta("shop", "db.failed"),
		EventTime:           metav1.NewMicroTime(statusNow.Add(-time.Minute)),
		ReportingController: "metallb.io/ironlb-controller",
		ReportingInstance:   "ironlb-controller-0",
		Action:              "Allocate",
		Reason:              status.ReasonAllocationFailed,
		Regarding:           corev1.ObjectReference{Kind: "Service", APIVersion: "v1", Namespace: "shop", Name: "db"},
		Note:                `Failed to allocate IP for "shop/db": no available IPs in pool "public"`,
		Type:                corev1.EventTypeWarning,
	})

	bgp := &v1beta1.ServiceBGPStatus{ObjectMeta: meta(ns, "bgp-node-a-web")}
	withStatus(bgp, func() {
		bgp.Status = v1beta1.MetalLBServiceBGPStatus{Node: "node-a", ServiceNamespace: "shop", ServiceName: "web", Peers: []string{"tor-a", "tor-b"}}
	})
	l2 := &v1beta1.ServiceL2Status{ObjectMeta: meta(ns, "l2-node-b-printer")}
	withStatus(l2, func() {
		l2.Status = v1beta1.MetalLBServiceL2Status{Node: "node-b", ServiceNamespace: "office", ServiceName: "printer", Interfaces: []v1beta1.InterfaceInfo{{Name: "eth0"}}}
	})

	since := metav1.NewTime(statusNow.Add(-26 * time.Hour))
	a := &v1beta1.SpeakerStatus{ObjectMeta: meta(ns, "node-a")}
	withStatus(a, func() {
		a.Status = v1beta1.SpeakerStatusStatus{
			Node: "node-a", Phase: "normal",
			LastApply: &v1beta1.ApplyResult{Time: metav1.NewTime(statusNow.Add(-5 * time.Minute)), Path: "fast", Succeeded: true, DurationMilliseconds: 12},
			Sessions: []v1beta1.BGPSession{
				{Peer: "tor-a", Address: "203.0.113.1", State: "Established", Since: &since, PrefixesSent: 1, PrefixesReceived: 1, BFD: "up"},
				{Peer: "tor-b", Address: "203.0.113.2", State: "Established", Since: &since, PrefixesSent: 1},
			},
		}
	})
	b := &v1beta1.SpeakerStatus{ObjectMeta: meta(ns, "node-b")}
	withStatus(b, func() {
		b.Status = v1beta1.SpeakerStatusStatus{
			Node: "node-b", Phase: "normal",
			LastApply: &v1beta1.ApplyResult{
				Time: metav1.NewTime(statusNow.Add(-30 * time.Second)), Path: "full", Stage: "reload",
				Message: "line 12: % Unknown command", DurationMilliseconds: 900,
			},
			Sessions: []v1beta1.BGPSession{{Peer: "tor-a", Address: "203.0.113.1", State: "Active", LastError: "Hold Timer Expired"}},
		}
	})

	// The node router on node-a: an FRRConfiguration selects it, its
	// FRRNodeState says it is in force.
	create(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{"rack": "a"}}})
	create(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-b", Labels: map[string]string{"rack": "b"}}})
	create(&frrk8sv1beta1.FRRConfiguration{ObjectMeta: meta(ns, "receive-default"), Spec: frrk8sv1beta1.FRRConfigurationSpec{
		NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{"rack": "a"}},
	}})
	ns1 := &frrk8sv1beta1.FRRNodeState{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}}
	withStatus(ns1, func() {
		ns1.Status = frrk8sv1beta1.FRRNodeStateStatus{LastConversionResult: "success", LastReloadResult: "success"}
	})

	state := func(name, component, node string, result v1beta1.ConfigurationStateResult, errorSummary string) {
		t.Helper()
		labels := map[string]string{"metallb.io/component-type": component}
		if node != "" {
			labels["metallb.io/node-name"] = node
		}
		cs := &v1beta1.ConfigurationState{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}}
		withStatus(cs, func() { cs.Status = v1beta1.ConfigurationStateStatus{Result: result, ErrorSummary: errorSummary} })
	}
	state("controller", "controller", "", v1beta1.ConfigurationStateResultValid, "")
	state("speaker-node-a", "speaker", "node-a", v1beta1.ConfigurationStateResultValid, "")
	state("speaker-node-b", "speaker", "node-b", v1beta1.ConfigurationStateResultInvalid, `BGPPeer "tor-b": spec.bfdProfile: no BFDProfile is named "fast"`)
}
