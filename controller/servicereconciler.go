package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/controller/assign"
	"github.com/ironlb/ironlb/ipam"
	"github.com/ironlb/ironlb/request"
)

// serviceReconciler books and releases the IPs of one Service and writes
// them to its status and annotations.
type serviceReconciler struct {
	client   client.Client
	cfg      Config
	st       *state
	events   EventRecorder
	metrics  *metrics
	log      *slog.Logger
	services chan<- event.GenericEvent
	pools    chan<- event.GenericEvent
	// warned holds, per Service key, the legacy annotations last warned
	// about, so that a Service gets its deprecatedAnnotation events once
	// per controller run and again only when they change. Only Reconcile
	// uses it, from its one worker.
	warned map[string]string
}

func (r *serviceReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	key := req.Namespace + "/" + req.Name
	var svc corev1.Service
	err := r.client.Get(ctx, req.NamespacedName, &svc)
	switch {
	case apierrors.IsNotFound(err):
		r.release(key, nil)
		delete(r.warned, key)
		return reconcile.Result{}, nil
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("reading service %s: %w", key, err)
	}
	if !request.Handled(&svc, r.cfg.LBClass) || svc.DeletionTimestamp != nil {
		return reconcile.Result{}, r.unhandled(ctx, &svc)
	}
	r.warnLegacy(key, &svc)

	var ns corev1.Namespace
	if err := r.client.Get(ctx, types.NamespacedName{Name: svc.Namespace}, &ns); err != nil && !apierrors.IsNotFound(err) {
		return reconcile.Result{}, fmt.Errorf("reading namespace %s: %w", svc.Namespace, err)
	}
	res, before, err := r.ensure(assign.Service{Svc: &svc, NamespaceLabels: ns.Labels})
	if errors.Is(err, errNoModel) {
		// The config reconciler enqueues every Service once a model exists.
		return reconcile.Result{}, nil
	}
	if err != nil {
		r.metrics.allocations.WithLabelValues("failed").Inc()
		r.log.Info("allocation failed", "service", key, "reason", err)
		r.events.Eventf(&svc, nil, corev1.EventTypeWarning, "AllocationFailed", "Allocate", "Failed to allocate IP for %q: %s", key, err)
		return reconcile.Result{}, nil
	}
	if res.Pool != before.Pool || !sameIPs(res.IPs, before.IPs) {
		r.metrics.allocations.WithLabelValues("allocated").Inc()
		r.poolChanged(before.Pool, res.Pool)
	}
	return reconcile.Result{}, r.write(ctx, &svc, res)
}

// ensure runs the assigner for a Service and returns its assignment and
// what it held before.
func (r *serviceReconciler) ensure(s assign.Service) (res, before assign.Result, err error) {
	r.st.mu.Lock()
	defer r.st.mu.Unlock()
	if r.st.assigner == nil {
		r.st.early[s.Key()] = struct{}{}
		return res, before, errNoModel
	}
	before = r.st.assigner.Holding(s.Key())
	res, err = r.st.assigner.Ensure(s)
	var full *ipam.PoolsFullError
	if errors.As(err, &full) {
		r.st.waiting[s.Key()] = struct{}{}
	} else {
		delete(r.st.waiting, s.Key())
	}
	return res, before, err
}

// write puts the assignment into the Service's status and annotation,
// and reports a change with an event. The status goes first: it is what
// the speakers announce, so a new Service's route waits for one API
// round trip, not two. Until the annotation follows, the speakers find
// the pool by the IP, which only one pool can hold. A status with the
// same IPs in another order is left as it is: MetalLB lists IPv4 first
// whatever the Service's family order, and adopting its Services must
// change nothing.
func (r *serviceReconciler) write(ctx context.Context, svc *corev1.Service, res assign.Result) error {
	key := svc.Namespace + "/" + svc.Name
	if !sameIPs(request.IngressIPs(svc), res.IPs) {
		patch := lockedPatch(svc)
		svc.Status.LoadBalancer.Ingress = ingress(res.IPs)
		if err := r.client.Status().Patch(ctx, svc, patch); err != nil {
			if apierrors.IsConflict(err) {
				r.log.Debug("service changed since it was read, waiting for its event", "service", key)
				return nil
			}
			return fmt.Errorf("writing status of service %s: %w", key, err)
		}
		r.log.Info("service IPs assigned", "service", key, "ip", res.IPs, "pool", res.Pool)
		r.events.Eventf(svc, nil, corev1.EventTypeNormal, "IPAllocated", "Allocate", "Assigned IP %s from pool %q", ipList(res.IPs), res.Pool)
	}
	if svc.Annotations[request.AnnotationAllocatedFromPool] != res.Pool {
		patch := lockedPatch(svc)
		if svc.Annotations == nil {
			svc.Annotations = map[string]string{}
		}
		svc.Annotations[request.AnnotationAllocatedFromPool] = res.Pool
		if err := r.client.Patch(ctx, svc, patch); err != nil {
			if apierrors.IsConflict(err) {
				r.log.Debug("service changed since it was read, waiting for its event", "service", key)
				return nil
			}
			return fmt.Errorf("annotating service %s: %w", key, err)
		}
	}
	return nil
}

// lockedPatch is a merge patch from svc that applies only to the version
// read: the IPs chosen for that version must not replace what another
// writer (a new leader, while this one's write was in flight) put in a
// newer one. On a conflict, the newer version's event reconciles again.
func lockedPatch(svc *corev1.Service) client.Patch {
	return client.MergeFromWithOptions(svc.DeepCopy(), client.MergeFromWithOptimisticLock{})
}

func (r *serviceReconciler) unhandled(ctx context.Context, svc *corev1.Service) error {
	key := svc.Namespace + "/" + svc.Name
	held := r.release(key, svc)
	if len(held.IPs) == 0 || svc.DeletionTimestamp != nil {
		return nil
	}
	if _, ok := svc.Annotations[request.AnnotationAllocatedFromPool]; ok {
		patch := client.MergeFrom(svc.DeepCopy())
		delete(svc.Annotations, request.AnnotationAllocatedFromPool)
		if err := r.client.Patch(ctx, svc, patch); err != nil {
			return fmt.Errorf("removing annotation of service %s: %w", key, err)
		}
	}
	// Only a Service that left type LoadBalancer loses its ingress: under
	// another loadBalancerClass the status belongs to another controller.
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer && len(svc.Status.LoadBalancer.Ingress) > 0 {
		patch := client.MergeFrom(svc.DeepCopy())
		svc.Status.LoadBalancer.Ingress = nil
		if err := r.client.Status().Patch(ctx, svc, patch); err != nil {
			return fmt.Errorf("clearing status of service %s: %w", key, err)
		}
	}
	return nil
}

// release frees a Service's IPs, retries the Services waiting for
// addresses and returns what was held.
func (r *serviceReconciler) release(key string, svc *corev1.Service) assign.Result {
	r.st.mu.Lock()
	if r.st.assigner == nil {
		r.st.mu.Unlock()
		return assign.Result{}
	}
	held := r.st.assigner.Holding(key)
	r.st.assigner.Release(key)
	delete(r.st.waiting, key)
	var retry []string
	if len(held.IPs) > 0 {
		for k := range r.st.waiting {
			retry = append(retry, k)
		}
	}
	r.st.mu.Unlock()

	if len(held.IPs) == 0 {
		return held
	}
	r.metrics.releases.Inc()
	r.log.Info("service IPs released", "service", key, "ip", held.IPs, "pool", held.Pool)
	if svc != nil {
		r.events.Eventf(svc, nil, corev1.EventTypeNormal, "IPReleased", "Release", "Released IP %s of pool %q", ipList(held.IPs), held.Pool)
	}
	r.poolChanged(held.Pool, "")
	slices.Sort(retry)
	for _, k := range retry {
		ns, name, _ := strings.Cut(k, "/")
		r.services <- event.GenericEvent{Object: &corev1.Service{ObjectMeta: objectMeta(ns, name)}}
	}
	return held
}

// legacyAnnotation is a legacy metallb.universe.tf/ annotation a Service
// sets, and its metallb.io replacement.
type legacyAnnotation struct {
	Legacy, Current string
}

// legacyInUse returns the legacy annotations among ann that ironlb reads,
// in the order of their names.
func legacyInUse(ann map[string]string) []legacyAnnotation {
	var out []legacyAnnotation
	for _, a := range []legacyAnnotation{
		{request.LegacyAnnotationAddressPool, request.AnnotationAddressPool},
		{request.LegacyAnnotationAllowSharedIP, request.AnnotationAllowSharedIP},
		{request.LegacyAnnotationLoadBalancerIPs, request.AnnotationLoadBalancerIPs},
	} {
		if _, ok := ann[a.Legacy]; ok {
			out = append(out, a)
		}
	}
	return out
}

// warnLegacy puts a deprecatedAnnotation warning event (MetalLB's
// reason) on a Service that sets legacy annotations, naming each with its
// replacement, once per controller run and again when they change. It is
// one event: the events API folds events of the same reason about the
// same object into one, keeping the first note.
func (r *serviceReconciler) warnLegacy(key string, svc *corev1.Service) {
	legacy := legacyInUse(svc.Annotations)
	var names, pairs []string
	for _, a := range legacy {
		names = append(names, a.Legacy)
		pairs = append(pairs, a.Legacy+" (use "+a.Current+" instead)")
	}
	seen := strings.Join(names, ",")
	if r.warned[key] == seen {
		return
	}
	if r.warned == nil {
		r.warned = map[string]string{}
	}
	r.warned[key] = seen
	if len(legacy) > 0 {
		r.events.Eventf(svc, nil, corev1.EventTypeWarning, "deprecatedAnnotation", "Validate",
			"Service uses deprecated annotation %s", strings.Join(pairs, ", "))
	}
}

func (r *serviceReconciler) poolChanged(names ...string) {
	for _, n := range names {
		if n != "" {
			r.pools <- event.GenericEvent{Object: &v1beta1.IPAddressPool{ObjectMeta: objectMeta(r.cfg.Namespace, n)}}
		}
	}
}

func ingress(ips []netip.Addr) []corev1.LoadBalancerIngress {
	out := make([]corev1.LoadBalancerIngress, 0, len(ips))
	for _, ip := range ips {
		out = append(out, corev1.LoadBalancerIngress{IP: ip.String()})
	}
	return out
}

// withIngress returns a copy of the Service whose status lists these IPs.
func withIngress(svc *corev1.Service, ips []netip.Addr) *corev1.Service {
	c := svc.DeepCopy()
	c.Status.LoadBalancer.Ingress = ingress(ips)
	return c
}

func ipList(ips []netip.Addr) string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return strings.Join(s, ", ")
}

// sameIPs reports whether a and b hold the same IPs, in any order.
func sameIPs(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for _, ip := range a {
		if !slices.Contains(b, ip) {
			return false
		}
	}
	return true
}
