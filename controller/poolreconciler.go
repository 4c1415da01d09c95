package controller

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/ipam"
)

// poolReconciler writes each IPAddressPool's usage into its status.
type poolReconciler struct {
	client  client.Client
	st      *state
	metrics *metrics
}

func (r *poolReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var pool v1beta1.IPAddressPool
	if err := r.client.Get(ctx, req.NamespacedName, &pool); err != nil {
		if apierrors.IsNotFound(err) {
			r.metrics.forgetPool(req.Name)
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("reading pool %s: %w", req.Name, err)
	}
	r.st.mu.Lock()
	var (
		usage ipam.Usage
		ok    bool
	)
	if r.st.assigner != nil {
		usage, ok = r.st.assigner.Usage(pool.Name)
	}
	r.st.mu.Unlock()
	if !ok {
		// Not in the model in force (yet): nothing true to report.
		return reconcile.Result{}, nil
	}
	r.metrics.poolUsage(pool.Name, usage)
	want := v1beta1.IPAddressPoolStatus{
		AssignedIPv4: usage.IPv4.Assigned, AvailableIPv4: usage.IPv4.Available,
		AssignedIPv6: usage.IPv6.Assigned, AvailableIPv6: usage.IPv6.Available,
	}
	if pool.Status == want {
		return reconcile.Result{}, nil
	}
	pool.Status = want
	if err := r.client.Status().Update(ctx, &pool); err != nil {
		return reconcile.Result{}, fmt.Errorf("updating status of pool %s: %w", pool.Name, err)
	}
	return reconcile.Result{}, nil
}

func objectMeta(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name}
}
