package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/internal/testenv"
	"github.com/ironlb/ironlb/migrate"
)

func TestMigrateExitCodes(t *testing.T) {
	checkExitCodes(t, []exitCase{
		{name: "help", args: []string{"migrate", "-h"}, want: 0, wantStderr: []string{"usage: ironlb migrate check"}},
		{name: "check help", args: []string{"migrate", "check", "-h"}, want: 0, wantStderr: []string{"usage: ironlb migrate check", "-ignore-exclude-lb", "-lb-class"}},
		{name: "no action", args: []string{"migrate"}, want: 2, wantStderr: []string{"want `migrate check`"}},
		{name: "unknown action", args: []string{"migrate", "run"}, want: 2, wantStderr: []string{"want `migrate check`"}},
		{name: "unknown output format", args: []string{"migrate", "check", "-o", "yaml"}, want: 2, wantStderr: []string{`-o "yaml": want text or json`}},
		{name: "empty namespace", args: []string{"migrate", "check", "--namespace="}, want: 2, wantStderr: []string{"--namespace must not be empty"}},
		{
			name: "unreadable kubeconfig", args: []string{"migrate", "check", "--kubeconfig", filepath.Join(t.TempDir(), "missing")},
			want: 1, wantStderr: []string{"ironlb migrate: loading kubeconfig"},
		},
	})
}

// TestReadOnlyRefusesWrites: the client of the check cannot write, even
// if its code tried.
func TestReadOnlyRefusesWrites(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	rt := readOnly{next: http.DefaultTransport}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		req := httptest.NewRequest(method, srv.URL+"/api/v1/namespaces/default/services", nil)
		req.RequestURI = ""
		if resp, err := rt.RoundTrip(req); err == nil {
			resp.Body.Close()
			t.Errorf("%s went through", method)
		}
	}
	req := httptest.NewRequest(http.MethodGet, srv.URL+"/api/v1/services", nil)
	req.RequestURI = ""
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET refused: %v", err)
	}
	resp.Body.Close()
}

// methodRecorder records the methods of the requests that reach the API.
type methodRecorder struct {
	mu      sync.Mutex
	methods []string
	next    http.RoundTripper
}

func (m *methodRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	m.mu.Lock()
	m.methods = append(m.methods, req.Method+" "+req.URL.Path)
	m.mu.Unlock()
	return m.next.RoundTrip(req)
}

// TestMigrateCheckAPI writes, on a real API server, what a cluster
// running MetalLB v0.16 holds (its controller and speakers, its
// configuration, Services with the status and annotation MetalLB
// writes, shared and dual-stack) and checks what `ironlb migrate check`
// prints, that it only reads, and its exit code once a Service would
// move.
func TestMigrateCheckAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test API server (not with -short)")
	}
	env := testenv.Start(t, testenv.Options{ServiceCIDRs: "10.96.0.0/16,fd00:10:96::/108"})
	ctx := context.Background()
	createMetalLBCluster(t, env.Client)
	kubeconfig := writeKubeconfig(t, env)

	t.Run("text, reads only", func(t *testing.T) {
		cfg, err := migrateFlags([]string{"--kubeconfig", kubeconfig}, &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		rec := &methodRecorder{}
		rc := rest.CopyConfig(env.Config)
		rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { rec.next = rt; return rec })
		var stdout bytes.Buffer
		if err := cfg.run(ctx, rc, &stdout); err != nil {
			t.Fatalf("run: %v\n%s", err, stdout.String())
		}
		goldenFile(t, filepath.Join("testdata", "TestMigrateCheckAPI.golden"), stdout.Bytes())
		if len(rec.methods) == 0 {
			t.Fatal("no request reached the API server")
		}
		for _, m := range rec.methods {
			if !strings.HasPrefix(m, "GET ") {
				t.Errorf("the check sent %s", m)
			}
		}
	})

	t.Run("json, then a Service that would move", func(t *testing.T) {
		code, stdout, stderr := runIronlb(t, "", "migrate", "check", "--kubeconfig", kubeconfig, "-o", "json")
		if code != 0 {
			t.Fatalf("exit code %d; stderr:\n%s", code, stderr)
		}
		var rep migrate.Report
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("decoding the JSON: %v\n%s", err, stdout)
		}
		var verdicts []string
		for _, s := range rep.Services {
			verdicts = append(verdicts, s.Name+":"+string(s.Verdict))
		}
		want := []string{"dns-tcp:kept", "dns-udp:kept", "new:pending", "web:kept", "web-v6:kept", "big:kept"}
		slices.Sort(want)
		slices.Sort(verdicts)
		if diff := cmp.Diff(want, verdicts); diff != "" {
			t.Errorf("verdicts (-want +got):\n%s", diff)
		}

		metallbService(t, env.Client, "gone", "a", []string{"192.0.2.250"})
		code, stdout, stderr = runIronlb(t, "", "migrate", "check", "--kubeconfig", kubeconfig)
		if code != exitBlocking {
			t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitBlocking, stderr)
		}
		for _, w := range []string{"gone", "moved", "192.0.2.250 is not in any pool", "RESULT: 1 blocking"} {
			if !strings.Contains(stdout, w) {
				t.Errorf("output lacks %q:\n%s", w, stdout)
			}
		}
		if !strings.Contains(stderr, "1 blocking") {
			t.Errorf("stderr lacks the result:\n%s", stderr)
		}
	})
}

// createMetalLBCluster writes what MetalLB v0.16's manifests and
// controller leave in a cluster.
func createMetalLBCluster(t *testing.T, c client.Client) {
	t.Helper()
	ctx := context.Background()
	const ns = "metallb-system"
	create := func(obj client.Object) {
		t.Helper()
		if err := c.Create(ctx, obj); err != nil {
			t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
		}
	}
	create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	labels := map[string]string{"app": "metallb"}
	create(&appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "controller"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "controller", Image: "quay.io/metallb/controller:v0.16.1", Args: []string{"--port=7472", "--log-level=info", "--tls-min-version=VersionTLS12"}},
			}}},
		},
	})
	create(&appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "speaker"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "speaker", Image: "quay.io/metallb/speaker:v0.16.1", Args: []string{"--port=7472", "--log-level=info"}},
				{Name: "frr", Image: "quay.io/frrouting/frr:9.1.0"},
			}}},
		},
	})
	create(&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "a"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.10-192.0.2.19", "2001:db8::10-2001:db8::19"}}})
	create(&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"198.51.100.0/28"}}})
	create(&v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tor"}, Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "192.0.2.1"}})
	create(&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "all"}})

	share := map[string]string{"metallb.io/allow-shared-ip": "dns"}
	metallbService(t, c, "web", "a", []string{"192.0.2.19"})
	metallbService(t, c, "big", "b", []string{"198.51.100.14"})
	metallbService(t, c, "dns-tcp", "a", []string{"192.0.2.18"}, withSpec(func(s *corev1.Service) {
		s.Annotations = share
		s.Spec.Ports = []corev1.ServicePort{{Name: "dns", Protocol: corev1.ProtocolTCP, Port: 53}}
	}))
	metallbService(t, c, "dns-udp", "a", []string{"192.0.2.18"}, withSpec(func(s *corev1.Service) {
		s.Annotations = share
		s.Spec.Ports = []corev1.ServicePort{{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53}}
	}))
	// IPv6 first: MetalLB still lists IPv4 first.
	metallbService(t, c, "web-v6", "a", []string{"192.0.2.17", "2001:db8::17"}, withSpec(func(s *corev1.Service) {
		p := corev1.IPFamilyPolicyRequireDualStack
		s.Spec.IPFamilyPolicy, s.Spec.IPFamilies = &p, []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}
	}))
	metallbService(t, c, "new", "", nil)
}

type serviceOpt func(*corev1.Service)

func withSpec(f func(*corev1.Service)) serviceOpt { return f }

// metallbService creates default/<name> and writes its status and
// annotation as MetalLB's controller does: bare ingress IPs and the pool.
func metallbService(t *testing.T, c client.Client, name, pool string, ips []string, opts ...serviceOpt) {
	t.Helper()
	ctx := context.Background()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}},
		},
	}
	for _, o := range opts {
		o(svc)
	}
	if pool != "" {
		if svc.Annotations == nil {
			svc.Annotations = map[string]string{}
		}
		svc.Annotations["metallb.io/ip-allocated-from-pool"] = pool
	}
	if err := c.Create(ctx, svc); err != nil {
		t.Fatalf("creating service %s: %v", name, err)
	}
	if len(ips) == 0 {
		return
	}
	for _, ip := range ips {
		svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
	}
	if err := c.Status().Update(ctx, svc); err != nil {
		t.Fatalf("writing the status of service %s: %v", name, err)
	}
}
