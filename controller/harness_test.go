package controller_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/controller"
	"github.com/ironlb/ironlb/internal/testenv"
)

const ns = "metallb-system"

// cluster is a real API server with the controller running against it.
type cluster struct {
	t       *testing.T
	env     *testenv.Env
	c       client.Client
	webhook bool
	// owner is the controller's Pod, owner of its ConfigurationState.
	owner *metav1.OwnerReference
	// reg holds the metrics of the controller running now.
	reg *prometheus.Registry
	// lbClass is the controller's --lb-class, read when it starts.
	lbClass string
	stop    context.CancelFunc
	done    chan error
}

// newCluster starts an API server (with the webhook installed when asked)
// and the controller.
func newCluster(t *testing.T, withWebhook bool) *cluster {
	t.Helper()
	var opts testenv.Options
	if withWebhook {
		opts.Webhooks = &envtest.WebhookInstallOptions{ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{webhookConfig()}}
	}
	cl := newIdleCluster(t, opts)
	cl.webhook = withWebhook
	cl.startController()
	return cl
}

// newIdleCluster starts an API server with the test namespaces and no
// controller: the test creates objects, then calls startController.
func newIdleCluster(t *testing.T, opts testenv.Options) *cluster {
	t.Helper()
	env := testenv.Start(t, opts)
	cl := &cluster{t: t, env: env, c: env.Client}
	for _, n := range []string{ns, "default", "team-a"} {
		if err := cl.c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}}); err != nil && n != "default" {
			t.Fatalf("creating namespace %s: %v", n, err)
		}
	}
	t.Cleanup(cl.stopController)
	return cl
}

func webhookConfig() *admissionregistrationv1.ValidatingWebhookConfiguration {
	path := controller.WebhookPath
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "ironlb-validating"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "config.metallb.io",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Name: "ironlb-webhook", Namespace: ns, Path: &path}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
			// As in the chart: BGPPeers are judged in v1beta2, the API
			// server converting v1beta1 requests (matchPolicy Equivalent).
			MatchPolicy: ptr.To(admissionregistrationv1.Equivalent),
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete},
				Rule: admissionregistrationv1.Rule{
					APIGroups:   []string{"metallb.io"},
					APIVersions: []string{"v1beta1"},
					Resources:   []string{"ipaddresspools", "bgpadvertisements", "l2advertisements", "bfdprofiles", "communities"},
				},
			}, {
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete},
				Rule: admissionregistrationv1.Rule{
					APIGroups:   []string{"metallb.io"},
					APIVersions: []string{"v1beta2"},
					Resources:   []string{"bgppeers"},
				},
			}},
		}},
	}
}

// startController runs the controller in this process, as `ironlb
// controller` does, until stopController.
func (cl *cluster) startController() {
	t := cl.t
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts := ctrl.Options{
		Scheme:  cl.env.Scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Logger:  logr.FromSlogHandler(log.Handler()),
		// Every test (and every restart) runs its own controllers with
		// the same names in this one process.
		Controller: ctrlconfig.Controller{SkipNameValidation: ptr.To(true)},
	}
	if cl.webhook {
		wo := cl.env.WebhookOptions()
		opts.WebhookServer = webhook.NewServer(webhook.Options{Host: wo.LocalServingHost, Port: wo.LocalServingPort, CertDir: wo.LocalServingCertDir})
	}
	mgr, err := ctrl.NewManager(cl.env.Config, opts)
	if err != nil {
		t.Fatalf("creating manager: %v", err)
	}
	cl.reg = prometheus.NewRegistry()
	err = controller.Setup(mgr, controller.Config{Namespace: ns, LBClass: cl.lbClass, Webhook: cl.webhook, Registerer: cl.reg, Log: log, Owner: cl.owner})
	if err != nil {
		t.Fatalf("setting up controller: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cl.stop, cl.done = cancel, make(chan error, 1)
	go func() { cl.done <- mgr.Start(ctx) }()
	if cl.webhook {
		wo := cl.env.WebhookOptions()
		addr := net.JoinHostPort(wo.LocalServingHost, strconv.Itoa(wo.LocalServingPort))
		cl.eventually("webhook serving", func() (bool, string) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return false, err.Error()
			}
			c.Close()
			return true, ""
		})
	}
}

func (cl *cluster) stopController() {
	if cl.stop == nil {
		return
	}
	cl.stop()
	if err := <-cl.done; err != nil {
		cl.t.Errorf("controller stopped with: %v", err)
	}
	cl.stop = nil
}

// testWriter sends the controller's logs to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}

// eventually waits for cond to hold.
func (cl *cluster) eventually(what string, cond func() (bool, string)) {
	cl.t.Helper()
	testenv.Eventually(cl.t, what, cond)
}

func (cl *cluster) create(obj client.Object) {
	cl.t.Helper()
	if err := cl.c.Create(context.Background(), obj); err != nil {
		cl.t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

func pool(name string, addrs ...string) *v1beta1.IPAddressPool {
	return &v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: v1beta1.IPAddressPoolSpec{Addresses: addrs}}
}

func service(namespace, name string, mods ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeLoadBalancer,
			Ports:    []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}},
			Selector: map[string]string{"app": name},
		},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

func withAnnotation(k, v string) func(*corev1.Service) {
	return func(s *corev1.Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
}

func withPort(port int32) func(*corev1.Service) {
	return func(s *corev1.Service) {
		s.Spec.Ports = []corev1.ServicePort{{Name: "p", Protocol: corev1.ProtocolTCP, Port: port}}
	}
}

// ingress returns the IPs in a Service's status, and its pool annotation.
func (cl *cluster) ingress(namespace, name string) (string, string) {
	var s corev1.Service
	if err := cl.c.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, &s); err != nil {
		return "error: " + err.Error(), ""
	}
	var ips []string
	for _, in := range s.Status.LoadBalancer.Ingress {
		ips = append(ips, in.IP)
	}
	return strings.Join(ips, ","), s.Annotations["metallb.io/ip-allocated-from-pool"]
}

// waitIngress waits until a Service's status lists exactly these IPs.
func (cl *cluster) waitIngress(namespace, name, want string) {
	cl.t.Helper()
	cl.eventually(fmt.Sprintf("service %s/%s to have IPs %q", namespace, name, want), func() (bool, string) {
		got, pool := cl.ingress(namespace, name)
		return got == want, fmt.Sprintf("IPs %q pool %q", got, pool)
	})
}

// waitEvent waits for an event on the object with the reason and a note
// containing the text.
func (cl *cluster) waitEvent(namespace, name, reason, text string) {
	cl.t.Helper()
	cl.eventually(fmt.Sprintf("event %s on %s/%s containing %q", reason, namespace, name, text), func() (bool, string) {
		var list eventsv1.EventList
		if err := cl.c.List(context.Background(), &list, client.InNamespace(namespace)); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range list.Items {
			if e.Regarding.Name == name && e.Reason == reason && strings.Contains(e.Note, text) {
				return true, ""
			}
			seen = append(seen, e.Regarding.Name+":"+e.Reason+":"+e.Note)
		}
		return false, strings.Join(seen, " | ")
	})
}
