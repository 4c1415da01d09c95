package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/controller"
)

func TestAllocateReleaseAndRetry(t *testing.T) {
	cl := newCluster(t, false)
	ctx := context.Background()
	cl.create(pool("small", "192.0.2.10-192.0.2.11"))

	cl.create(service("default", "a"))
	cl.waitIngress("default", "a", "192.0.2.10")
	// The annotation follows the status (see serviceReconciler.write).
	cl.eventually("the pool annotation", func() (bool, string) {
		_, p := cl.ingress("default", "a")
		return p == "small", p
	})
	cl.waitEvent("default", "a", "IPAllocated", `Assigned IP 192.0.2.10 from pool "small"`)
	cl.create(service("default", "b"))
	cl.waitIngress("default", "b", "192.0.2.11")

	// The pool is full: c fails with the reason, then gets a's address
	// once a is deleted.
	cl.create(service("default", "c"))
	cl.waitEvent("default", "c", "AllocationFailed", `no available IPs in pool "small"`)
	if got, _ := cl.ingress("default", "c"); got != "" {
		t.Fatalf("c got IPs %q from a full pool", got)
	}
	if err := cl.c.Delete(ctx, service("default", "a")); err != nil {
		t.Fatal(err)
	}
	cl.waitIngress("default", "c", "192.0.2.10")

	// A Service that stops being a LoadBalancer loses its IP.
	var b corev1.Service
	if err := cl.c.Get(ctx, types.NamespacedName{Namespace: "default", Name: "b"}, &b); err != nil {
		t.Fatal(err)
	}
	b.Spec.Type = corev1.ServiceTypeClusterIP
	if err := cl.c.Update(ctx, &b); err != nil {
		t.Fatal(err)
	}
	cl.waitIngress("default", "b", "")
	cl.waitEvent("default", "b", "IPReleased", "192.0.2.11")

	// Pool status follows.
	cl.eventually("pool status", func() (bool, string) {
		var p v1beta1.IPAddressPool
		if err := cl.c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "small"}, &p); err != nil {
			return false, err.Error()
		}
		want := v1beta1.IPAddressPoolStatus{AssignedIPv4: 1, AvailableIPv4: 1}
		return p.Status == want, fmt.Sprintf("%+v", p.Status)
	})

	// A Service of another loadBalancerClass is left alone.
	other := "other.io/lb"
	cl.create(service("default", "foreign", func(s *corev1.Service) { s.Spec.LoadBalancerClass = &other }))
	cl.create(service("default", "d"))
	cl.waitIngress("default", "d", "192.0.2.11")
	if got, _ := cl.ingress("default", "foreign"); got != "" {
		t.Errorf("service of another class got IPs %q", got)
	}
}

func TestRestartNeverMovesIPs(t *testing.T) {
	cl := newCluster(t, false)
	ctx := context.Background()
	cl.create(pool("p", "192.0.2.20-192.0.2.23"))
	for _, n := range []string{"first", "second", "third"} {
		cl.create(service("default", n))
	}
	cl.waitIngress("default", "first", "192.0.2.20")
	cl.waitIngress("default", "second", "192.0.2.21")
	cl.waitIngress("default", "third", "192.0.2.22")

	// While the controller is down, "first" goes away and a new Service
	// comes. A restart must keep second and third where they are and give
	// the newcomer the free address, not theirs.
	cl.stopController()
	if err := cl.c.Delete(ctx, service("default", "first")); err != nil {
		t.Fatal(err)
	}
	cl.create(service("default", "newcomer"))
	cl.startController()

	cl.waitIngress("default", "newcomer", "192.0.2.20")
	for n, want := range map[string]string{"second": "192.0.2.21", "third": "192.0.2.22"} {
		if got, _ := cl.ingress("default", n); got != want {
			t.Errorf("after restart %s has %q, want %q", n, got, want)
		}
	}
}

func TestSharingAndRequestedIPs(t *testing.T) {
	cl := newCluster(t, false)
	cl.create(pool("p", "192.0.2.28/30"))
	share := withAnnotation("metallb.io/allow-shared-ip", "web")

	cl.create(service("default", "http", share, withPort(80)))
	cl.waitIngress("default", "http", "192.0.2.28")
	cl.create(service("default", "https", share, withPort(443)))
	cl.waitIngress("default", "https", "192.0.2.28")
	// Same key, clashing port: another address.
	cl.create(service("default", "http2", share, withPort(80)))
	cl.waitIngress("default", "http2", "192.0.2.29")

	// A requested IP is honoured.
	cl.create(service("default", "wants-31", withAnnotation("metallb.io/loadBalancerIPs", "192.0.2.31")))
	cl.waitIngress("default", "wants-31", "192.0.2.31")
	// A requested IP in use is refused with the reason.
	cl.create(service("default", "wants-28", withAnnotation("metallb.io/loadBalancerIPs", "192.0.2.28")))
	cl.waitEvent("default", "wants-28", "AllocationFailed", "192.0.2.28")
	// A requested IP outside every pool too.
	cl.create(service("default", "wants-out", func(s *corev1.Service) { s.Spec.LoadBalancerIP = "198.51.100.1" }))
	cl.waitEvent("default", "wants-out", "AllocationFailed", "198.51.100.1")
	// A malformed annotation names itself.
	cl.create(service("default", "bad", withAnnotation("metallb.io/loadBalancerIPs", "not-an-ip")))
	cl.waitEvent("default", "bad", "AllocationFailed", "annotations[metallb.io/loadBalancerIPs]")
}

func TestServiceAllocationFollowsNamespaceLabels(t *testing.T) {
	cl := newCluster(t, false)
	ctx := context.Background()
	gold := pool("gold", "192.0.2.40/32")
	gold.Spec.ServiceAllocation = &v1beta1.ServiceAllocation{NamespaceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"tier": "gold"}}}}
	cl.create(gold)
	cl.create(pool("open", "192.0.2.50/32"))

	cl.create(service("team-a", "web"))
	cl.waitIngress("team-a", "web", "192.0.2.50")

	// Label the namespace: a new Service there now gets the gold pool.
	var n corev1.Namespace
	if err := cl.c.Get(ctx, types.NamespacedName{Name: "team-a"}, &n); err != nil {
		t.Fatal(err)
	}
	n.Labels = map[string]string{"tier": "gold"}
	if err := cl.c.Update(ctx, &n); err != nil {
		t.Fatal(err)
	}
	cl.create(service("team-a", "api"))
	cl.waitIngress("team-a", "api", "192.0.2.40")
	// The existing one keeps its (still valid) address.
	if got, _ := cl.ingress("team-a", "web"); got != "192.0.2.50" {
		t.Errorf("web moved to %q", got)
	}
}

func TestInvalidConfigurationKeepsTheLastValidOne(t *testing.T) {
	cl := newCluster(t, false) // no webhook, so the invalid objects get in
	ctx := context.Background()
	cl.create(pool("a", "192.0.2.60/31"))
	cl.waitConfigState(v1beta1.ConfigurationStateResultValid, "")

	cl.create(pool("b", "192.0.2.61/32"))
	cl.waitConfigState(v1beta1.ConfigurationStateResultInvalid, `IPAddressPool "b"`)
	cl.waitEvent(ns, "b", "InvalidConfiguration", "192.0.2.61")

	// Allocation goes on with pool a alone.
	cl.create(service("default", "s1"))
	cl.create(service("default", "s2"))
	cl.waitIngress("default", "s1", "192.0.2.60")
	cl.waitIngress("default", "s2", "192.0.2.61")

	// Fixing the configuration makes it valid again, IPs unmoved.
	if err := cl.c.Delete(ctx, pool("b")); err != nil {
		t.Fatal(err)
	}
	cl.waitConfigState(v1beta1.ConfigurationStateResultValid, "")
	for n, want := range map[string]string{"s1": "192.0.2.60", "s2": "192.0.2.61"} {
		if got, _ := cl.ingress("default", n); got != want {
			t.Errorf("%s has %q, want %q", n, got, want)
		}
	}

	// A peer whose password Secret is missing makes the configuration
	// invalid without the password ever showing in the status.
	cl.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "peer-pass"},
		Type:       corev1.SecretTypeBasicAuth,
		StringData: map[string]string{"username": "x", "password": "s3cr3t-value"},
	})
	cl.create(&v1beta2.BGPPeer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "router"},
		Spec:       v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "192.0.2.1", PasswordSecret: corev1.SecretReference{Name: "peer-pass"}},
	})
	cl.waitConfigState(v1beta1.ConfigurationStateResultValid, "")
	if err := cl.c.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "peer-pass"}}); err != nil {
		t.Fatal(err)
	}
	cl.waitConfigState(v1beta1.ConfigurationStateResultInvalid, `BGPPeer "router"`)
	var cs v1beta1.ConfigurationState
	if err := cl.c.Get(ctx, types.NamespacedName{Namespace: ns, Name: controller.ConfigurationStateName}, &cs); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprintf("%+v", cs), "s3cr3t-value") {
		t.Error("the ConfigurationState shows the peer's password")
	}
}

// waitConfigState waits for the controller's ConfigurationState.
func (cl *cluster) waitConfigState(want v1beta1.ConfigurationStateResult, errText string) {
	cl.t.Helper()
	cl.eventually(fmt.Sprintf("configuration state %s with %q", want, errText), func() (bool, string) {
		var cs v1beta1.ConfigurationState
		if err := cl.c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: controller.ConfigurationStateName}, &cs); err != nil {
			return false, err.Error()
		}
		return cs.Status.Result == want && strings.Contains(cs.Status.ErrorSummary, errText), fmt.Sprintf("%s %q", cs.Status.Result, cs.Status.ErrorSummary)
	})
}

// TestLegacyAnnotationWarnings: a Service that uses the legacy
// metallb.universe.tf/ spellings is served, and gets a warning event
// with MetalLB's reason naming each with its replacement.
func TestLegacyAnnotationWarnings(t *testing.T) {
	cl := newCluster(t, false)
	cl.create(pool("a", "192.0.2.0/28"))
	cl.create(pool("b", "198.51.100.0/28"))
	cl.create(service("default", "old", withAnnotation("metallb.universe.tf/address-pool", "b"), withAnnotation("metallb.universe.tf/allow-shared-ip", "k")))
	cl.waitIngress("default", "old", "198.51.100.0")
	cl.waitEvent("default", "old", "deprecatedAnnotation",
		"Service uses deprecated annotation metallb.universe.tf/address-pool (use metallb.io/address-pool instead), metallb.universe.tf/allow-shared-ip (use metallb.io/allow-shared-ip instead)")
}
