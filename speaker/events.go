package speaker

import (
	"context"
	"maps"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// Every event starts a reconcile that reads and rebuilds the whole node
// state, so events that cannot change it are dropped here: with 10,000
// Services, a Service created without an IP yet, or the endpoints of a
// ClusterIP Service, would each cost a full rebuild.

// announced reports whether a Service has load-balancer IPs: only those
// are announced.
func announced(o client.Object) bool {
	s, ok := o.(*corev1.Service)
	return !ok || len(s.Status.LoadBalancer.Ingress) > 0
}

// serviceChanged passes the Service events that can change announcements:
// of Services with IPs before or after, a change of spec (generation),
// status, labels or annotations.
func serviceChanged() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return announced(e.Object) },
		DeleteFunc: func(e event.DeleteEvent) bool { return announced(e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, ok1 := e.ObjectOld.(*corev1.Service)
			n, ok2 := e.ObjectNew.(*corev1.Service)
			if !ok1 || !ok2 {
				return true
			}
			if !announced(o) && !announced(n) {
				return false
			}
			return o.Generation != n.Generation ||
				!equality.Semantic.DeepEqual(o.Status, n.Status) ||
				!maps.Equal(o.Labels, n.Labels) ||
				!maps.Equal(o.Annotations, n.Annotations)
		},
	}
}

// endpointsOfAnnounced reports whether an EndpointSlice event matters:
// its Service has IPs, as the reader (the cache) sees it now. When the
// Service gets its IPs later, that event brings the reconcile, which then
// sees these endpoints.
func endpointsOfAnnounced(ctx context.Context, r client.Reader, o client.Object) bool {
	name := o.GetLabels()[discoveryv1.LabelServiceName]
	if name == "" {
		return false
	}
	var svc corev1.Service
	err := r.Get(ctx, client.ObjectKey{Namespace: o.GetNamespace(), Name: name}, &svc)
	if apierrors.IsNotFound(err) {
		return false // its deletion brings its own event
	}
	return err != nil || announced(&svc)
}
