package speaker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
)

// NodeLabel names the node of a per-node status object (SpeakerStatus,
// ServiceBGPStatus, ServiceL2Status), as MetalLB sets it.
const NodeLabel = labelNode

// Labels of the per-Service status objects, as MetalLB sets them.
const (
	labelNode             = "metallb.io/node"
	labelServiceName      = "metallb.io/service-name"
	labelServiceNamespace = "metallb.io/service-namespace"
)

// serviceRef names a Service.
type serviceRef struct{ Namespace, Name string }

// statusObjectName is the stable name of a node's status object for a
// Service, so a restart finds and updates its own objects.
func statusObjectName(prefix, node string, s serviceRef) string {
	sum := sha256.Sum256([]byte(node + "\x00" + s.Namespace + "\x00" + s.Name))
	return prefix + "-" + hex.EncodeToString(sum[:8])
}

// statusKind is what syncStatuses needs to know of one per-Service status
// kind: how to list the node's objects, make a new one, and read and
// write the part that varies (V: the peers, or the interfaces).
type statusKind[T any, V any] struct {
	name  string // the kind, for errors
	list  func(ctx context.Context) ([]*T, error)
	make  func(name string, labels map[string]string) *T
	ref   func(*T) serviceRef
	value func(*T) V
	set   func(*T, serviceRef, V)
	equal func(a, b V) bool
}

// syncStatuses makes the node's status objects of one kind match want:
// one per Service, holding its value. Objects of Services no longer in
// want, and duplicates, are deleted. k.list may return the cache's own
// objects (listed without deep copies, as this runs on every
// reconcile): only copies are changed.
//
// When only is not nil, just the Services in it are looked at: their
// objects are read by name instead of listing every object of the node,
// and want must hold their values (it may hold more).
func syncStatuses[T any, P interface {
	*T
	client.Object
}, V any](ctx context.Context, c client.Client, ns, node, prefix string, k statusKind[T, V], want map[serviceRef]V, only []serviceRef) error {
	var objs []*T
	var err error
	if only == nil {
		objs, err = k.list(ctx)
	} else {
		objs, err = getStatuses[T, P](ctx, c, ns, statusPrefix(prefix, node), node, only)
		want = restrict(want, only)
	}
	if err != nil {
		return fmt.Errorf("listing %s: %w", k.name, err)
	}
	var errs []error
	seen := map[serviceRef]bool{}
	for _, obj := range objs {
		ref := statusRef(P(obj).GetLabels(), k.ref(obj))
		v, ok := want[ref]
		if !ok || seen[ref] {
			if err := c.Delete(ctx, P(obj)); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting %s %s: %w", k.name, P(obj).GetName(), err))
			}
			continue
		}
		seen[ref] = true
		if k.equal(k.value(obj), v) {
			continue
		}
		// The list holds the cache's own objects: change a copy. Only
		// this node writes its objects, so a patch without the
		// resourceVersion: the cache may not have seen the node's last
		// write yet, and an update would fail with a conflict.
		orig := obj
		obj = (*T)(P(obj).DeepCopyObject().(P))
		k.set(obj, ref, v)
		switch err := c.Status().Patch(ctx, P(obj), client.MergeFrom(P(orig))); {
		case apierrors.IsNotFound(err):
			// Deleted since the cache saw it (the owner of the moment
			// cleared it while this node was not in its memberlist
			// view yet): made again below.
			seen[ref] = false
		case err != nil:
			errs = append(errs, fmt.Errorf("updating %s %s: %w", k.name, P(obj).GetName(), err))
		}
	}
	for ref, v := range want {
		if seen[ref] {
			continue
		}
		labels := map[string]string{labelNode: node, labelServiceName: ref.Name, labelServiceNamespace: ref.Namespace}
		obj := k.make(statusObjectName(statusPrefix(prefix, node), node, ref), labels)
		if err := c.Create(ctx, P(obj)); err != nil && !apierrors.IsAlreadyExists(err) {
			errs = append(errs, fmt.Errorf("creating %s for %s/%s: %w", k.name, ref.Namespace, ref.Name, err))
			continue
		}
		k.set(obj, ref, v)
		if err := c.Status().Update(ctx, P(obj)); err != nil {
			errs = append(errs, fmt.Errorf("writing %s for %s/%s: %w", k.name, ref.Namespace, ref.Name, err))
		}
	}
	return errors.Join(errs...)
}

// statusRef names the Service of a node's status object by its labels,
// which the object has from its creation; its status is written by a
// second request, so a cache may hold the object without it, and an
// object named by its status alone would then look stale and be
// deleted and made again. fromStatus counts for objects without the
// labels.
func statusRef(labels map[string]string, fromStatus serviceRef) serviceRef {
	if name := labels[labelServiceName]; name != "" {
		return serviceRef{Namespace: labels[labelServiceNamespace], Name: name}
	}
	return fromStatus
}

// statusPrefix is the name prefix of a node's status objects of a kind.
func statusPrefix(kind, node string) string { return kind + "-" + node }

// getStatuses reads the status objects of the Services refs by their
// names; the missing ones are left out.
func getStatuses[T any, P interface {
	*T
	client.Object
}](ctx context.Context, c client.Client, ns, prefix, node string, refs []serviceRef) ([]*T, error) {
	var out []*T
	for _, ref := range refs {
		obj := P(new(T))
		err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: statusObjectName(prefix, node, ref)}, obj)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return nil, err
		default:
			out = append(out, (*T)(obj))
		}
	}
	return out, nil
}

// restrict returns the entries of want for refs.
func restrict[V any](want map[serviceRef]V, refs []serviceRef) map[serviceRef]V {
	out := make(map[serviceRef]V, len(refs))
	for _, ref := range refs {
		if v, ok := want[ref]; ok {
			out[ref] = v
		}
	}
	return out
}

// syncBGPStatuses makes the node's ServiceBGPStatus objects match want:
// one per Service announced by the node, listing its peers. With only
// not nil, just those Services are looked at (see syncStatuses).
func syncBGPStatuses(ctx context.Context, c client.Client, ns, node string, want map[serviceRef][]string, only []serviceRef) error {
	k := statusKind[v1beta1.ServiceBGPStatus, []string]{
		name: "ServiceBGPStatus",
		list: func(ctx context.Context) ([]*v1beta1.ServiceBGPStatus, error) {
			var l v1beta1.ServiceBGPStatusList
			err := c.List(ctx, &l, client.InNamespace(ns), client.MatchingLabels{labelNode: node}, client.UnsafeDisableDeepCopy)
			return pointers(l.Items), err
		},
		make: func(name string, labels map[string]string) *v1beta1.ServiceBGPStatus {
			return &v1beta1.ServiceBGPStatus{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}}
		},
		ref: func(o *v1beta1.ServiceBGPStatus) serviceRef {
			return serviceRef{Namespace: o.Status.ServiceNamespace, Name: o.Status.ServiceName}
		},
		value: func(o *v1beta1.ServiceBGPStatus) []string { return o.Status.Peers },
		set: func(o *v1beta1.ServiceBGPStatus, ref serviceRef, peers []string) {
			o.Status = v1beta1.MetalLBServiceBGPStatus{Node: node, ServiceName: ref.Name, ServiceNamespace: ref.Namespace, Peers: peers}
		},
		equal: slices.Equal[[]string],
	}
	return syncStatuses[v1beta1.ServiceBGPStatus](ctx, c, ns, node, "bgp", k, want, only)
}

// syncL2Statuses makes the node's ServiceL2Status objects match want:
// one per Service whose IPs the node answers for, with the interfaces.
func syncL2Statuses(ctx context.Context, c client.Client, ns, node string, want map[serviceRef][]string) error {
	k := statusKind[v1beta1.ServiceL2Status, []string]{
		name: "ServiceL2Status",
		list: func(ctx context.Context) ([]*v1beta1.ServiceL2Status, error) {
			var l v1beta1.ServiceL2StatusList
			err := c.List(ctx, &l, client.InNamespace(ns), client.MatchingLabels{labelNode: node}, client.UnsafeDisableDeepCopy)
			return pointers(l.Items), err
		},
		make: func(name string, labels map[string]string) *v1beta1.ServiceL2Status {
			return &v1beta1.ServiceL2Status{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}}
		},
		ref: func(o *v1beta1.ServiceL2Status) serviceRef {
			return serviceRef{Namespace: o.Status.ServiceNamespace, Name: o.Status.ServiceName}
		},
		value: func(o *v1beta1.ServiceL2Status) []string {
			names := make([]string, 0, len(o.Status.Interfaces))
			for _, i := range o.Status.Interfaces {
				names = append(names, i.Name)
			}
			return names
		},
		set: func(o *v1beta1.ServiceL2Status, ref serviceRef, names []string) {
			ifaces := make([]v1beta1.InterfaceInfo, 0, len(names))
			for _, n := range names {
				ifaces = append(ifaces, v1beta1.InterfaceInfo{Name: n})
			}
			o.Status = v1beta1.MetalLBServiceL2Status{Node: node, ServiceName: ref.Name, ServiceNamespace: ref.Namespace, Interfaces: ifaces}
		},
		equal: slices.Equal[[]string],
	}
	return syncStatuses[v1beta1.ServiceL2Status](ctx, c, ns, node, "l2", k, want, nil)
}

func pointers[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
