package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/internal/requeue"
)

// Config is the controller's configuration, validated once by Validate.
type Config struct {
	// Namespace is where ironlb runs and reads its metallb.io objects.
	Namespace string
	// LBClass is --lb-class: the loadBalancerClass of the Services the
	// controller serves. Empty serves only the Services without a class
	// (see request.Handled).
	LBClass string
	// Webhook registers the validating webhook on the manager's webhook
	// server at WebhookPath, the BGPPeer conversion webhook at
	// ConversionPath, and the FRRConfiguration webhook at FRRWebhookPath.
	Webhook bool
	// Registerer receives the Prometheus metrics.
	Registerer prometheus.Registerer
	// Log is the controller's logger.
	Log *slog.Logger
	// Owner, when set, becomes an owner of the controller's
	// ConfigurationState (the controller's Pod, as in MetalLB).
	Owner *metav1.OwnerReference
	// Lease, when set (with leader election), must be held for the
	// controller to write anything.
	Lease Lease
}

// WebhookPath is where the validating webhook is served.
const WebhookPath = "/validate-metallb-io"

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Namespace == "" {
		errs = append(errs, errors.New("namespace must be set"))
	}
	if c.Registerer == nil {
		errs = append(errs, errors.New("a metrics registerer must be set"))
	}
	if c.Log == nil {
		errs = append(errs, errors.New("a logger must be set"))
	}
	return errors.Join(errs...)
}

// EventRecorder records events about objects (events.k8s.io).
type EventRecorder interface {
	Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any)
}

// Setup adds the controller's reconcilers (and webhook) to the manager.
func Setup(mgr ctrl.Manager, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("controller configuration: %w", err)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}
	st := newState()
	rec := mgr.GetEventRecorder("ironlb-controller")
	svcEvents := make(chan event.GenericEvent, 1024)
	poolEvents := make(chan event.GenericEvent, 1024)
	var c client.Client = mgr.GetClient()
	if cfg.Lease != nil {
		c = leaseClient{Client: c, lease: cfg.Lease}
	}

	inNamespace := func(_ context.Context, o client.Object) []reconcile.Request {
		if o.GetNamespace() != cfg.Namespace {
			return nil
		}
		return []reconcile.Request{configKey}
	}
	cr := &configReconciler{client: c, apiReader: mgr.GetAPIReader(), cfg: cfg, st: st, events: rec, metrics: m, log: cfg.Log.With("reconciler", "config"), services: svcEvents, pools: poolEvents}
	b := ctrl.NewControllerManagedBy(mgr).Named("config").
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, RateLimiter: requeue.Limiter[reconcile.Request]()})
	// Status writes (pool usage) change no generation and must not
	// trigger a rebuild; label changes do, for ipAddressPoolSelectors.
	specOrLabels := builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))
	for _, o := range []client.Object{&v1beta1.IPAddressPool{}, &v1beta2.BGPPeer{}, &v1beta1.BGPAdvertisement{}, &v1beta1.L2Advertisement{}, &v1beta1.BFDProfile{}, &v1beta1.Community{}} {
		b = b.Watches(o, handler.EnqueueRequestsFromMapFunc(inNamespace), specOrLabels)
	}
	b = b.Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(inNamespace))
	if err := b.Complete(cr); err != nil {
		return fmt.Errorf("creating config controller: %w", err)
	}

	sr := &serviceReconciler{client: c, cfg: cfg, st: st, events: rec, metrics: m, log: cfg.Log.With("reconciler", "service"), services: svcEvents, pools: poolEvents}
	servicesOfNamespace := func(ctx context.Context, o client.Object) []reconcile.Request {
		var list corev1.ServiceList
		if err := c.List(ctx, &list, client.InNamespace(o.GetName())); err != nil {
			sr.log.Error("listing services of namespace", "namespace", o.GetName(), "error", err)
			return nil
		}
		out := make([]reconcile.Request, 0, len(list.Items))
		for _, s := range list.Items {
			out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: s.Namespace, Name: s.Name}})
		}
		return out
	}
	err = ctrl.NewControllerManagedBy(mgr).Named("service").
		For(&corev1.Service{}).
		Watches(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(servicesOfNamespace)).
		WatchesRawSource(source.Channel(svcEvents, &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, RateLimiter: requeue.Limiter[reconcile.Request]()}).
		Complete(sr)
	if err != nil {
		return fmt.Errorf("creating service controller: %w", err)
	}

	pr := &poolReconciler{client: c, st: st, metrics: m}
	err = ctrl.NewControllerManagedBy(mgr).Named("pool-status").
		For(&v1beta1.IPAddressPool{}).
		WatchesRawSource(source.Channel(poolEvents, &handler.EnqueueRequestForObject{})).
		Complete(pr)
	if err != nil {
		return fmt.Errorf("creating pool status controller: %w", err)
	}

	if cfg.Webhook {
		v := &validator{reader: mgr.GetAPIReader(), namespace: cfg.Namespace, lbClass: cfg.LBClass, decoder: newDecoder(mgr.GetScheme()), log: cfg.Log.With("component", "webhook")}
		mgr.GetWebhookServer().Register(WebhookPath, &webhook.Admission{Handler: v})
		mgr.GetWebhookServer().Register(ConversionPath, ConversionHandler(cfg.Log.With("component", "conversion")))
		fv := &frrValidator{reader: mgr.GetAPIReader(), namespace: cfg.Namespace, lbClass: cfg.LBClass, decoder: newDecoder(mgr.GetScheme()), log: cfg.Log.With("component", "frr-webhook")}
		mgr.GetWebhookServer().Register(FRRWebhookPath, &webhook.Admission{Handler: fv})
	}
	return nil
}
