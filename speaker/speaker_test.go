package speaker_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/frr/apply"
	"github.com/ironlb/ironlb/internal/testenv"
	"github.com/ironlb/ironlb/speaker"
)

const ns = "metallb-system"

// recordingFRR stands in for the FRR agent in this test of the speaker's
// decisions against a real API server; the lab's e2e tests use real FRR.
type recordingFRR struct {
	mu      sync.Mutex
	applies []string
	// fresh: no apply since the (pretended) agent started, as its
	// Status tells.
	fresh bool
}

func (f *recordingFRR) Apply(_ context.Context, desired []byte) (apply.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applies = append(f.applies, string(desired))
	f.fresh = false
	return apply.Result{Path: apply.PathFast, Duration: time.Millisecond}, nil
}

// Status answers as the agent does: LastApply is nil until its first
// apply.
func (f *recordingFRR) Status(context.Context) (agent.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fresh || len(f.applies) == 0 {
		return agent.Status{}, nil
	}
	return agent.Status{LastApply: &agent.Record{At: time.Now()}}, nil
}

// restart pretends the agent (and its FRR) started again: it forgot
// every apply.
func (f *recordingFRR) restart() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fresh = true
	return len(f.applies)
}

func (f *recordingFRR) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.applies)
}

func (f *recordingFRR) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.applies) == 0 {
		return ""
	}
	return f.applies[len(f.applies)-1]
}

func (f *recordingFRR) all() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.applies...)
}

// seedBGP creates ironlb's namespace, node n1 with labels, a BGP pool
// 203.0.113.0/25, a peer and an advertisement of every pool, and returns
// a function that creates more objects or fails the test.
func seedBGP(t *testing.T, c client.Client, labels map[string]string) func(client.Object) {
	create := func(o client.Object) {
		t.Helper()
		if err := c.Create(t.Context(), o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
	create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	create(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: labels}})
	create(&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bgp"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.0/25"}}})
	create(&v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "router"}, Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "192.0.2.1"}})
	create(&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "all"}})
	return create
}

// startSpeaker runs a speaker for node n1 against env until the test
// ends, departing gracefully then, and returns the FRR it applies to.
// opts change its Config.
func startSpeaker(t *testing.T, env *testenv.Env, opts ...func(*speaker.Config)) *recordingFRR {
	t.Helper()
	frr, _ := runSpeaker(t, env, true, opts...)
	return frr
}

// runSpeaker runs a speaker for node n1 against env until stop is called
// (or the test ends) and returns the FRR it applies to. drainOnStop is
// Speaker.Run's: whether the node departs gracefully on stop. opts change
// its Config.
func runSpeaker(t *testing.T, env *testenv.Env, drainOnStop bool, opts ...func(*speaker.Config)) (frr *recordingFRR, stop func()) {
	t.Helper()
	frr = &recordingFRR{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme: env.Scheme, Metrics: metricsserver.Options{BindAddress: "0"}, Logger: logr.FromSlogHandler(log.Handler()),
		Controller: ctrlconfig.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := speaker.Config{NodeName: "n1", Namespace: ns, DrainDelay: 2 * time.Second, FRR: frr, Registerer: prometheus.NewRegistry(), Log: log}
	for _, o := range opts {
		o(&cfg)
	}
	sp, err := speaker.Setup(mgr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sp.Run(runCtx, mgr, drainOnStop) }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return frr, stop
}

// TestSpeakerReappliesToARestartedAgent restarts the agent (with its
// FRR) behind the speaker's back: no cluster event follows, yet the
// speaker must give FRR its config again.
func TestSpeakerReappliesToARestartedAgent(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	seedBGP(t, env.Client, nil)
	frr := startSpeaker(t, env, func(c *speaker.Config) {
		c.Sessions, c.SessionInterval = c.FRR.(*recordingFRR), 50*time.Millisecond
	})
	testenv.Eventually(t, "a config with the peer", func() (bool, string) {
		return strings.Contains(frr.last(), "neighbor 192.0.2.1 remote-as 64500"), frr.last()
	})
	want := frr.last()
	before := frr.restart()
	testenv.Eventually(t, "the config applied again", func() (bool, string) {
		return frr.count() > before && frr.last() == want, fmt.Sprintf("%d applies, last:\n%s", frr.count(), frr.last())
	})
}

func TestSpeakerAnnouncesAndDrains(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	c := env.Client
	create := seedBGP(t, c, map[string]string{"rack": "a"})

	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	create(svc)
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.5"}}
	if err := c.Status().Update(ctx, svc); err != nil {
		t.Fatal(err)
	}

	frr := startSpeaker(t, env, func(c *speaker.Config) { c.NodeOptions.DrainOnCordon = true })

	// No serving endpoint yet: the peer is configured, the IP not announced.
	testenv.Eventually(t, "a config with the peer", func() (bool, string) {
		l := frr.last()
		return strings.Contains(l, "neighbor 192.0.2.1 remote-as 64500") && !strings.Contains(l, "203.0.113.5"), l
	})

	// An endpoint on any node makes the ETP=Cluster Service announced.
	create(&discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: "web-1", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: ptr.To("n2"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
	})
	testenv.Eventually(t, "the service announced", func() (bool, string) {
		l := frr.last()
		return strings.Contains(l, "network 203.0.113.5/32"), l
	})
	testenv.Eventually(t, "ServiceBGPStatus", func() (bool, string) {
		var list v1beta1.ServiceBGPStatusList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		for _, s := range list.Items {
			if s.Status.ServiceName == "web" && s.Status.Node == "n1" && len(s.Status.Peers) == 1 && s.Status.Peers[0] == "router" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", list.Items)
	})
	testenv.Eventually(t, "SpeakerStatus with a successful apply", func() (bool, string) {
		var st v1beta1.SpeakerStatus
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "n1"}, &st); err != nil {
			return false, err.Error()
		}
		return st.Status.LastApply != nil && st.Status.LastApply.Succeeded && st.Status.Phase == "normal", fmt.Sprintf("%+v", st.Status)
	})
	testenv.Eventually(t, "ConfigurationState valid", func() (bool, string) {
		var cs v1beta1.ConfigurationState
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "speaker-n1"}, &cs); err != nil {
			return false, err.Error()
		}
		return cs.Status.Result == v1beta1.ConfigurationStateResultValid, string(cs.Status.Result)
	})

	// Cordoning the node (cordons drain: --drain-on-cordon): first the
	// GRACEFUL_SHUTDOWN community, then, after the drain delay, the
	// withdrawal.
	var n corev1.Node
	if err := c.Get(ctx, types.NamespacedName{Name: "n1"}, &n); err != nil {
		t.Fatal(err)
	}
	n.Spec.Unschedulable = true
	if err := c.Update(ctx, &n); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "graceful shutdown community", func() (bool, string) {
		for _, l := range frr.all() {
			if strings.Contains(l, "graceful-shutdown") && strings.Contains(l, "network 203.0.113.5/32") {
				return true, ""
			}
		}
		return false, frr.last()
	})
	testenv.Eventually(t, "withdrawal after the drain delay", func() (bool, string) {
		l := frr.last()
		return !strings.Contains(l, "203.0.113.5") && strings.Contains(l, "neighbor 192.0.2.1 remote-as 64500"), l
	})
	testenv.Eventually(t, "ServiceBGPStatus removed", func() (bool, string) {
		var list v1beta1.ServiceBGPStatusList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		return len(list.Items) == 0, fmt.Sprintf("%d left", len(list.Items))
	})

	// Uncordoned, it announces again.
	if err := c.Get(ctx, types.NamespacedName{Name: "n1"}, &n); err != nil {
		t.Fatal(err)
	}
	n.Spec.Unschedulable = false
	if err := c.Update(ctx, &n); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "announced again", func() (bool, string) {
		l := frr.last()
		return strings.Contains(l, "network 203.0.113.5/32") && !strings.Contains(l, "graceful-shutdown"), l
	})
}

// TestSpeakerStartsWithEveryService checks that a speaker started in a
// cluster that already has Services applies them all in its first
// config, never a part of them (which would withdraw routes the node
// announced before it restarted), and that later changes of single
// Services and endpoints reach FRR.
func TestSpeakerStartsWithEveryService(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	c := env.Client
	create := seedBGP(t, c, nil)
	const n = 100
	for i := range n {
		name := fmt.Sprintf("svc-%03d", i)
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}},
		}
		create(svc)
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: fmt.Sprintf("203.0.113.%d", i)}}
		if err := c.Status().Update(ctx, svc); err != nil {
			t.Fatal(err)
		}
		create(&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: ptr.To("n1"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		})
	}

	frr := startSpeaker(t, env)
	testenv.Eventually(t, "a first apply", func() (bool, string) { return len(frr.all()) > 0, "" })
	first := frr.all()[0]
	if got := strings.Count(first, "\n  network 203.0.113."); got != n {
		t.Fatalf("the first config applied announces %d Services, want all %d:\n%s", got, n, first)
	}

	// One Service deleted, one losing its endpoints, one moved to a new IP.
	if err := c.Delete(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "svc-000"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "svc-001-1"}}); err != nil {
		t.Fatal(err)
	}
	var moved corev1.Service
	if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: "svc-002"}, &moved); err != nil {
		t.Fatal(err)
	}
	moved.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.120"}}
	if err := c.Status().Update(ctx, &moved); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the three changes applied", func() (bool, string) {
		l := frr.last()
		return !strings.Contains(l, "network 203.0.113.0/32") && !strings.Contains(l, "network 203.0.113.1/32") &&
			!strings.Contains(l, "network 203.0.113.2/32") && strings.Contains(l, "network 203.0.113.120/32") &&
			strings.Count(l, "\n  network 203.0.113.") == n-2, l
	})
}
