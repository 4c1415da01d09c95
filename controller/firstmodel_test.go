package controller

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/internal/scheme"
)

// noEvents drops events.
type noEvents struct{}

func (noEvents) Eventf(runtime.Object, runtime.Object, string, string, string, string, ...any) {}

// TestServiceSeenBeforeFirstModel covers the gap of a controller's start
// (a new leader's first configuration): a Service created after the
// config reconciler listed the Services, and reconciled before the first
// model was in force, must still be reconciled once the model is in
// force. The client creates it and runs its reconcile right after the
// config reconciler's Service list.
func TestServiceSeenBeforeFirstModel(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	const namespace = "metallb-system"
	late := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "late"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
	}
	svcEvents := make(chan event.GenericEvent, 16)
	poolEvents := make(chan event.GenericEvent, 16)
	m, err := newMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := Config{Namespace: namespace, Log: log}
	st := newState()
	var sr *serviceReconciler
	listed := false
	base := fake.NewClientBuilder().WithScheme(s).
		WithObjects(
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}},
			&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "pool"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.0/28"}}},
		).
		WithStatusSubresource(&corev1.Service{}, &v1beta1.ConfigurationState{}).
		Build()
	c := interceptor.NewClient(base, interceptor.Funcs{
		List: func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
			err := c.List(ctx, list, opts...)
			if _, ok := list.(*corev1.ServiceList); ok && !listed {
				listed = true
				if err := c.Create(ctx, late.DeepCopy()); err != nil {
					t.Fatalf("creating the late Service: %v", err)
				}
				if _, err := sr.Reconcile(ctx, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "team-a", Name: "late"}}); err != nil {
					t.Fatalf("reconciling the late Service: %v", err)
				}
			}
			return err
		},
	})
	sr = &serviceReconciler{client: c, cfg: cfg, st: st, events: noEvents{}, metrics: m, log: log, services: svcEvents, pools: poolEvents}
	cr := &configReconciler{client: c, cfg: cfg, st: st, events: noEvents{}, metrics: m, log: log, services: svcEvents, pools: poolEvents}
	if _, err := cr.Reconcile(context.Background(), configKey); err != nil {
		t.Fatalf("config reconcile: %v", err)
	}
	if !listed {
		t.Fatal("the config reconciler listed no Services")
	}
	var queued []string
	for len(svcEvents) > 0 {
		o := (<-svcEvents).Object
		queued = append(queued, o.GetNamespace()+"/"+o.GetName())
	}
	for _, k := range queued {
		if k == "team-a/late" {
			return
		}
	}
	t.Errorf("team-a/late, reconciled before the first model, was not queued again once it was in force (queued: %v)", queued)
}
