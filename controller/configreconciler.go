package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/controller/assign"
	"github.com/ironlb/ironlb/internal/k8sconfig"
	"github.com/ironlb/ironlb/request"
)

// ConfigurationStateName is the name of the controller's
// ConfigurationState object in ironlb's namespace.
const ConfigurationStateName = "controller"

// configKey is the one request of the config reconciler: every change of
// configuration collapses into one rebuild.
var configKey = reconcile.Request{}

// configReconciler rebuilds the model when configuration changes. An
// invalid configuration leaves the last valid model in force.
type configReconciler struct {
	client   client.Client
	cfg      Config
	st       *state
	events   EventRecorder
	metrics  *metrics
	log      *slog.Logger
	services chan<- event.GenericEvent
	pools    chan<- event.GenericEvent

	// apiReader reads from the API server, not the cache.
	apiReader client.Reader
}

func (r *configReconciler) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	objs, err := k8sconfig.Load(ctx, r.client, r.cfg.Namespace)
	if err != nil {
		return reconcile.Result{}, err
	}
	model, buildErr := config.Build(objs)
	if buildErr != nil {
		r.metrics.configResult(false)
		r.log.Error("configuration invalid, keeping the last valid one", "error", buildErr)
		r.reportFieldErrors(objs, buildErr)
		return reconcile.Result{}, r.writeState(ctx, buildErr)
	}

	var services corev1.ServiceList
	if err := r.client.List(ctx, &services); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing services: %w", err)
	}
	nsLabels, err := namespaceLabels(ctx, r.client)
	if err != nil {
		return reconcile.Result{}, err
	}
	assigner, err := assign.New(model)
	if err != nil {
		return reconcile.Result{}, fmt.Errorf("building assigner: %w", err)
	}

	r.st.mu.Lock()
	restoreAll(assigner, r.st.assigner, services.Items, nsLabels, r.cfg.LBClass, r.log)
	r.st.model, r.st.assigner = model, assigner
	clear(r.st.waiting)
	early := make([]string, 0, len(r.st.early))
	for k := range r.st.early {
		early = append(early, k)
	}
	clear(r.st.early)
	r.st.mu.Unlock()
	r.metrics.configResult(true)
	r.log.Info("configuration loaded", "pools", len(model.Pools), "peers", len(model.Peers))

	if err := r.writeState(ctx, nil); err != nil {
		return reconcile.Result{}, err
	}
	// Every Service is checked against the new model, and every pool's
	// status recomputed.
	for i := range services.Items {
		r.services <- event.GenericEvent{Object: &services.Items[i]}
	}
	slices.Sort(early)
	for _, k := range early {
		ns, name, _ := strings.Cut(k, "/")
		r.services <- event.GenericEvent{Object: &corev1.Service{ObjectMeta: objectMeta(ns, name)}}
	}
	for i := range objs.Pools {
		r.pools <- event.GenericEvent{Object: &objs.Pools[i]}
	}
	return reconcile.Result{}, nil
}

// restoreAll books the IPs that Services hold in the new assigner before
// any new allocation: the IPs held under the previous model (authoritative,
// the cache may not show the latest status yet), else those in status.
// Older Services go first, so they win a conflict (assign.RestoreAll).
func restoreAll(next, prev *assign.Assigner, svcs []corev1.Service, nsLabels map[string]map[string]string, lbClass string, log *slog.Logger) {
	handled := make([]assign.Service, 0, len(svcs))
	for i := range svcs {
		svc := &svcs[i]
		if !request.Handled(svc, lbClass) {
			continue
		}
		s := assign.Service{Svc: svc, NamespaceLabels: nsLabels[svc.Namespace]}
		if prev != nil {
			if held := prev.Holding(s.Key()); len(held.IPs) > 0 {
				s.Svc = withIngress(svc, held.IPs)
			}
		}
		handled = append(handled, s)
	}
	refused := next.RestoreAll(handled)
	keys := make([]string, 0, len(refused))
	for k := range refused {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		log.Info("previous IPs not kept", "service", k, "reason", refused[k])
	}
}

// reportFieldErrors puts a warning event on each object the errors name.
func (r *configReconciler) reportFieldErrors(objs config.Objects, err error) {
	byKind := map[string][]client.Object{}
	add := func(kind string, o client.Object) { byKind[kind] = append(byKind[kind], o) }
	for i := range objs.Pools {
		add("IPAddressPool", &objs.Pools[i])
	}
	for i := range objs.BGPPeers {
		add("BGPPeer", &objs.BGPPeers[i])
	}
	for i := range objs.BGPAdvertisements {
		add("BGPAdvertisement", &objs.BGPAdvertisements[i])
	}
	for i := range objs.L2Advertisements {
		add("L2Advertisement", &objs.L2Advertisements[i])
	}
	for i := range objs.BFDProfiles {
		add("BFDProfile", &objs.BFDProfiles[i])
	}
	for i := range objs.Communities {
		add("Community", &objs.Communities[i])
	}
	for _, fe := range config.Errors(err) {
		for _, o := range byKind[fe.Kind] {
			if o.GetName() == fe.Name {
				r.events.Eventf(o.(runtime.Object), nil, corev1.EventTypeWarning, "InvalidConfiguration", "Validate", "%s", fe.Error())
			}
		}
	}
}

// writeState records the outcome in the controller's ConfigurationState.
func (r *configReconciler) writeState(ctx context.Context, buildErr error) error {
	return k8sconfig.ReportState(ctx, r.client, k8sconfig.StateRef{Namespace: r.cfg.Namespace, Name: ConfigurationStateName, Component: "controller", Owner: r.cfg.Owner, Reader: r.apiReader}, buildErr)
}

// namespaceLabels maps each namespace to its labels.
func namespaceLabels(ctx context.Context, c client.Reader) (map[string]map[string]string, error) {
	var nss corev1.NamespaceList
	if err := c.List(ctx, &nss); err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	out := make(map[string]map[string]string, len(nss.Items))
	for _, ns := range nss.Items {
		out[ns.Name] = ns.Labels
	}
	return out, nil
}

// errNoModel says no valid configuration was loaded yet.
var errNoModel = errors.New("no valid configuration loaded yet")
