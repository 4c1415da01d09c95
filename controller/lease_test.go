package controller

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ironlb/ironlb/internal/scheme"
)

// lease is a Lease that is held or not.
type lease struct{ err error }

func (l *lease) Held() error { return l.err }

var errLost = errors.New("lost")

func TestLeaseClientWritesOnlyWhileHeld(t *testing.T) {
	s, err := scheme.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc := func() *corev1.Service {
		return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "web"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	}
	writes := []struct {
		name  string
		write func(c client.Client) error
	}{
		{"create", func(c client.Client) error { return c.Create(ctx, svc()) }},
		{"update", func(c client.Client) error { return c.Update(ctx, svc()) }},
		{"patch", func(c client.Client) error { return c.Patch(ctx, svc(), client.MergeFrom(svc())) }},
		{"delete", func(c client.Client) error { return c.Delete(ctx, svc()) }},
		{"delete all", func(c client.Client) error { return c.DeleteAllOf(ctx, svc(), client.InNamespace("team-a")) }},
		{"status update", func(c client.Client) error { return c.Status().Update(ctx, svc()) }},
		{"status patch", func(c client.Client) error { return c.Status().Patch(ctx, svc(), client.MergeFrom(svc())) }},
		{"subresource patch", func(c client.Client) error {
			return c.SubResource("status").Patch(ctx, svc(), client.MergeFrom(svc()))
		}},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			base := fake.NewClientBuilder().WithScheme(s).WithObjects(svc()).WithStatusSubresource(&corev1.Service{}).Build()
			l := &lease{err: errLost}
			c := leaseClient{Client: base, lease: l}
			if err := w.write(c); !errors.Is(err, errLost) {
				t.Errorf("without the lease: %v, want the lease's error", err)
			}
			var got corev1.Service
			if err := c.Get(ctx, client.ObjectKeyFromObject(svc()), &got); err != nil {
				t.Errorf("reading without the lease: %v", err)
			}
			l.err = nil
			if err := w.write(c); errors.Is(err, errLost) {
				t.Errorf("with the lease: %v", err)
			}
		})
	}
}
