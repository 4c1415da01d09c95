package controller

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/event"

	"github.com/ironlb/ironlb/controller/assign"
	"github.com/ironlb/ironlb/internal/scheme"
	"github.com/ironlb/ironlb/request"
)

// TestWriteFromStaleReadChangesNothing writes a Service's IPs from a copy
// older than the Service in the API server, whose status another writer
// (a new leader) has set since: the write must fail on the resource
// version, not replace the newer IPs. This bounds the harm of a write
// that left before the lease was lost and arrived after another replica
// allocated.
func TestWriteFromStaleReadChangesNothing(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
	}
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(svc).WithStatusSubresource(&corev1.Service{}).Build()
	var stale corev1.Service
	if err := c.Get(ctx, client.ObjectKeyFromObject(svc), &stale); err != nil {
		t.Fatal(err)
	}
	newer := stale.DeepCopy()
	newer.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.7"}}
	if err := c.Status().Update(ctx, newer); err != nil {
		t.Fatal(err)
	}
	newer.Annotations = map[string]string{request.AnnotationAllocatedFromPool: "pool-b"}
	if err := c.Update(ctx, newer); err != nil {
		t.Fatal(err)
	}

	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	r := &serviceReconciler{client: c, cfg: Config{Namespace: "metallb-system"}, st: newState(), events: noEvents{}, metrics: m,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), services: make(chan event.GenericEvent, 1), pools: make(chan event.GenericEvent, 1)}
	if err := r.write(ctx, stale.DeepCopy(), assign.Result{IPs: []netip.Addr{netip.MustParseAddr("192.0.2.3")}, Pool: "pool-a"}); err != nil {
		t.Errorf("write() = %v, want nil (the newer version's event reconciles again)", err)
	}
	var got corev1.Service
	if err := c.Get(ctx, client.ObjectKeyFromObject(svc), &got); err != nil {
		t.Fatal(err)
	}
	if ing := got.Status.LoadBalancer.Ingress; len(ing) != 1 || ing[0].IP != "192.0.2.7" {
		t.Errorf("status ingress = %v, want the newer [192.0.2.7] kept", ing)
	}
	if pool := got.Annotations[request.AnnotationAllocatedFromPool]; pool != "pool-b" {
		t.Errorf("pool annotation = %q, want the newer pool-b kept", pool)
	}
}
