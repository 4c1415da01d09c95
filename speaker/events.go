package speaker

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/ironlb/ironlb/state"
)

// Services and EndpointSlices do not reach the reconcile as objects: each
// event updates the state.Store first, and only an event that changed
// the state there starts a reconcile. A Service created without an IP
// yet, a status write that changes nothing the speaker reads, or the
// endpoints of a ClusterIP Service then cost nothing, and the reconcile
// reads the state without listing 10,000 objects.
//
// The handlers run on the informers' goroutines before the request is
// queued, so a reconcile always sees the events that started it. The
// controller starts reconciling only once the handlers have seen every
// object of the first list (source.Kind waits for that), so a speaker
// that restarts never announces a partial state.

// storeSources returns the sources that feed st and queue the node's
// request.
func storeSources(c cache.Cache, st *state.Store) []source.Source {
	return []source.Source{
		source.Kind(c, &corev1.Service{}, storeHandler(st.SetService, st.DeleteService)),
		source.Kind(c, &discoveryv1.EndpointSlice{}, storeHandler(st.SetEndpointSlice, st.DeleteEndpointSlice)),
	}
}

// storeHandler passes the events of one kind to the store (set for
// creates and updates, del for deletes) and queues the node's request
// when the store reports a change.
func storeHandler[T client.Object](set func(T) bool, del func(namespace, name string) bool) handler.TypedEventHandler[T, reconcile.Request] {
	type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]
	kick := func(q queue, changed bool) {
		if changed {
			q.Add(nodeKey)
		}
	}
	return handler.TypedFuncs[T, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.TypedCreateEvent[T], q queue) { kick(q, set(e.Object)) },
		UpdateFunc: func(_ context.Context, e event.TypedUpdateEvent[T], q queue) { kick(q, set(e.ObjectNew)) },
		DeleteFunc: func(_ context.Context, e event.TypedDeleteEvent[T], q queue) {
			kick(q, del(e.Object.GetNamespace(), e.Object.GetName()))
		},
	}
}
