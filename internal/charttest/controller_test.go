package charttest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/internal/testenv"
)

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// freePort returns a TCP port free on 127.0.0.1 at the time of the call.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// kubeconfigAs writes a kubeconfig that reaches the test API server as the
// admin, impersonating the service account (as a pod's token would be
// seen: the user and its groups); with an empty sa, as the admin.
func kubeconfigAs(t *testing.T, env *testenv.Env, namespace, sa string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: env.Config.Host, CertificateAuthorityData: env.Config.CAData}
	cfg.AuthInfos["sa"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: env.Config.CertData,
		ClientKeyData:         env.Config.KeyData,
		Token:                 env.Config.BearerToken,
	}
	if sa != "" {
		cfg.AuthInfos["sa"].Impersonate = "system:serviceaccount:" + namespace + ":" + sa
		cfg.AuthInfos["sa"].ImpersonateGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}
	}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "sa"}
	cfg.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestControllerRunsUnderChartRBAC runs the `ironlb controller` binary with
// the chart's arguments, as the chart's service account with only the
// chart's RBAC: it must issue its webhook certificate into the chart's
// Secret, inject the CA into the chart's webhook configuration, serve the
// webhook with it, win the leader election, allocate an IP, and write
// status, state and events, without a single forbidden request.
func TestControllerRunsUnderChartRBAC(t *testing.T) {
	env := startAPIServer(t)
	bin := buildIronlb(t)
	ctx := context.Background()
	c := cases()[0]
	const ns = "metallb-system"
	objs := decode(t, render(t, c))
	createNamespaces(t, env, objs, "team-a")

	// The pool goes in before the webhook configuration: the API server
	// cannot reach the webhook's Service here.
	var vwc *unstructured.Unstructured
	var rest []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "ValidatingWebhookConfiguration" {
			vwc = o
			continue
		}
		rest = append(rest, o)
	}
	create(t, env, rest)
	pool := &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pool-a"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.10-192.0.2.19"}}}
	if err := env.Client.Create(ctx, pool); err != nil {
		t.Fatalf("creating pool: %v", err)
	}
	create(t, env, []*unstructured.Unstructured{vwc})
	if t.Failed() {
		t.FailNow()
	}

	// The chart's arguments, with the addresses moved to free local ports.
	deploy := container(t, podSpec(t, render(t, c), "Deployment", "ironlb-controller"), "controller")
	healthPort, webhookPort := freePort(t), freePort(t)
	self := createPod(t, env, ns, "ironlb-controller-x")
	args := append(chartArgs(deploy, map[string]string{"POD_NAMESPACE": ns, "POD_NAME": self.Name}),
		"--kubeconfig="+kubeconfigAs(t, env, ns, "ironlb-controller"),
		"--metrics-addr=0",
		"--health-addr=127.0.0.1:"+strconv.Itoa(healthPort),
		"--webhook-port="+strconv.Itoa(webhookPort),
		"--cert-dir="+filepath.Join(t.TempDir(), "certs"),
	)
	logs := runBinary(t, bin, args)

	// Ready means the webhook serves: the certificate is in place.
	waitReady(t, "the controller", healthPort)

	// The API server would trust what the webhook serves.
	var hook admissionregistrationv1.ValidatingWebhookConfiguration
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "ironlb-webhook"}, &hook); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(hook.Webhooks[0].ClientConfig.CABundle) {
		t.Fatal("the webhook configuration has no CA bundle")
	}
	conn, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(webhookPort)), &tls.Config{RootCAs: roots, ServerName: "ironlb-webhook.metallb-system.svc"})
	if err != nil {
		t.Fatalf("TLS to the webhook as the API server would connect: %v", err)
	}
	conn.Close()

	// The BGPPeer CRD's conversion goes to the same webhook, with the same CA.
	eventually(t, "the BGPPeer CRD's conversion webhook", func() (bool, string) {
		crd := &unstructured.Unstructured{}
		crd.SetAPIVersion("apiextensions.k8s.io/v1")
		crd.SetKind("CustomResourceDefinition")
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "bgppeers.metallb.io"}, crd); err != nil {
			return false, err.Error()
		}
		conv, _, _ := unstructured.NestedMap(crd.Object, "spec", "conversion")
		strategy, _, _ := unstructured.NestedString(conv, "strategy")
		svc, _, _ := unstructured.NestedMap(conv, "webhook", "clientConfig", "service")
		ca, _, _ := unstructured.NestedString(conv, "webhook", "clientConfig", "caBundle")
		want := base64.StdEncoding.EncodeToString(hook.Webhooks[0].ClientConfig.CABundle)
		ok := strategy == "Webhook" && svc["namespace"] == ns && svc["name"] == "ironlb-webhook" && svc["path"] == "/convert" && ca == want
		return ok, fmt.Sprintf("strategy %q, service %v, CA bundle matches %v", strategy, svc, ca == want)
	})

	// It allocates.
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}}},
	}
	if err := env.Client.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	eventually(t, "an IP for team-a/web", func() (bool, string) {
		var s corev1.Service
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(svc), &s); err != nil {
			return false, err.Error()
		}
		ing := s.Status.LoadBalancer.Ingress
		pool := s.Annotations["metallb.io/ip-allocated-from-pool"]
		return len(ing) == 1 && ing[0].IP == "192.0.2.10" && pool == "pool-a", fmt.Sprintf("ingress %v, pool %q", ing, pool)
	})
	eventually(t, "pool status", func() (bool, string) {
		var p v1beta1.IPAddressPool
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(pool), &p); err != nil {
			return false, err.Error()
		}
		return p.Status.AssignedIPv4 == 1 && p.Status.AvailableIPv4 == 9, fmt.Sprintf("%+v", p.Status)
	})
	eventually(t, "the IPAllocated event", func() (bool, string) {
		var list eventsv1.EventList
		if err := env.Client.List(ctx, &list, client.InNamespace("team-a")); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range list.Items {
			if e.Regarding.Name == "web" && e.Reason == "IPAllocated" {
				return true, ""
			}
			seen = append(seen, e.Reason)
		}
		return false, fmt.Sprint(seen)
	})
	// The ConfigurationState is written after the reconcile that
	// allocated, not before.
	var state v1beta1.ConfigurationState
	eventually(t, "the controller's ConfigurationState", func() (bool, string) {
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "controller"}, &state)
		return err == nil, fmt.Sprint(err)
	})
	if d := cmp.Diff([]metav1.OwnerReference{podOwner(self)}, state.OwnerReferences); d != "" {
		t.Errorf("the controller's ConfigurationState owners (-want +got):\n%s", d)
	}
	var lease coordinationv1.Lease
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "ironlb-controller.metallb.io"}, &lease); err != nil || lease.Spec.HolderIdentity == nil {
		t.Errorf("the leader election Lease: %v", err)
	}
	var sec corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "ironlb-webhook-cert"}, &sec); err != nil || len(sec.Data["tls.crt"]) == 0 {
		t.Errorf("the certificate Secret was not filled: %v", err)
	}

	noneForbidden(t, logs)
}

// runBinary runs bin with args until the test ends, then stops it with
// SIGTERM, as the kubelet would, and expects a clean exit.
func runBinary(t *testing.T, bin string, args []string) *lockedBuffer {
	t.Helper()
	runCtx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(runCtx, bin, args...)
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", args[0], err)
	}
	t.Cleanup(func() {
		cancel()
		// Wait reports the cancellation even after a clean exit.
		_ = cmd.Wait()
		if !cmd.ProcessState.Success() {
			t.Errorf("%s did not stop cleanly on SIGTERM: %v", args[0], cmd.ProcessState)
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", args[0], logs.String())
		}
	})
	return logs
}

// waitReady waits until /readyz on 127.0.0.1:port answers 200.
func waitReady(t *testing.T, what string, port int) {
	t.Helper()
	eventually(t, what+" to be ready", func() (bool, string) {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// noneForbidden fails the test for every request the log shows refused.
func noneForbidden(t *testing.T, logs *lockedBuffer) {
	t.Helper()
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(strings.ToLower(line), "forbidden") {
			t.Errorf("a request was forbidden: %s", line)
		}
	}
}

// createPod creates a Pod object (no kubelet runs it) standing for the
// component's own, which owns its ConfigurationState.
func createPod(t *testing.T, env *testenv.Env, namespace, name string) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "ironlb"}}},
	}
	if err := env.Client.Create(context.Background(), pod); err != nil {
		t.Fatalf("creating pod %s: %v", name, err)
	}
	return pod
}

// podOwner is the owner reference to pod that ironlb writes.
func podOwner(pod *corev1.Pod) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}
}

// chartArgs returns a container's arguments with the downward-API
// variables filled in.
func chartArgs(c corev1.Container, vars map[string]string) []string {
	var out []string
	for _, a := range c.Args {
		for k, v := range vars {
			a = strings.ReplaceAll(a, "$("+k+")", v)
		}
		out = append(out, a)
	}
	return out
}
