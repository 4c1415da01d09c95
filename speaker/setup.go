package speaker

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/internal/requeue"
	"github.com/ironlb/ironlb/noderouter"
	"github.com/ironlb/ironlb/state"
)

// Speaker is a speaker added to a manager; Run runs both.
type Speaker struct {
	cfg     Config
	r       *reconciler
	trigger chan event.GenericEvent
	ready   *readyGate
}

// the one request key of the speaker's reconciler.
var nodeKey = reconcile.Request{}

// Setup adds the speaker's reconciler to the manager.
func Setup(mgr ctrl.Manager, cfg Config) (*Speaker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("speaker configuration: %w", err)
	}
	if cfg.NodeRouter != nil {
		installed, err := frrk8sInstalled(mgr)
		if err != nil {
			return nil, err
		}
		if !installed {
			// A watch of a kind the API server does not serve would stop
			// the whole speaker: Helm does not add CRDs on upgrades.
			cfg.Log.Warn("the FRRConfiguration CRD is not installed: the node router is off (apply the chart's crds/)", "node", cfg.NodeName)
			cfg.NodeRouter = nil
		}
	}
	m, err := newMetrics(cfg.Registerer, cfg.NodeName)
	if err != nil {
		return nil, fmt.Errorf("registering metrics: %w", err)
	}
	renderer, err := frr.NewRenderer()
	if err != nil {
		return nil, fmt.Errorf("loading frr.conf templates: %w", err)
	}
	s := &Speaker{
		cfg: cfg,
		r: &reconciler{
			client: mgr.GetClient(), apiReader: mgr.GetAPIReader(), cfg: cfg, renderer: renderer, metrics: m, log: cfg.Log,
			store: state.NewStore(cfg.LBClass), build: frr.NewBuilder().Build,
			drain: drainClock{delay: cfg.DrainDelay}, withdrawn: make(chan struct{}),
		},
		trigger: make(chan event.GenericEvent, 1),
	}
	if cfg.Sessions != nil && cfg.ReadyWait > 0 {
		s.ready = &readyGate{wait: cfg.ReadyWait}
	}
	s.r.statuses = newStatusWriter(s.r.writeStatuses, cfg.Log)
	s.r.bgpStatuses = &bgpStatuses{client: mgr.GetClient(), ns: cfg.Namespace, node: cfg.NodeName, fullEvery: 5 * time.Minute, now: cfg.Now}
	if cfg.NodeRouter != nil {
		s.r.router = &nodeRouter{reader: mgr.GetClient(), namespace: cfg.Namespace, opts: noderouter.Options{AlwaysBlock: cfg.NodeRouter.AlwaysBlock}}
		s.r.nodeState = &nodeStateWriter{client: mgr.GetClient(), reader: mgr.GetAPIReader(), node: cfg.NodeName, fullEvery: 5 * time.Minute, now: cfg.Now}
		s.r.events = mgr.GetEventRecorder("ironlb-speaker")
	}
	if err := mgr.Add(s.r.statuses); err != nil {
		return nil, fmt.Errorf("adding the status writer: %w", err)
	}
	one := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request { return []reconcile.Request{nodeKey} })
	inNamespace := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		if o.GetNamespace() != cfg.Namespace {
			return nil
		}
		return []reconcile.Request{nodeKey}
	})
	b := ctrl.NewControllerManagedBy(mgr).Named("speaker").
		WithOptions(controller.Options{MaxConcurrentReconciles: 1, RateLimiter: requeue.Limiter[reconcile.Request]()}).
		Watches(&corev1.Node{}, one, builder.WithPredicates(nodeChanged())).
		Watches(&corev1.Secret{}, inNamespace).
		WatchesRawSource(source.Channel(s.trigger, one))
	for _, src := range storeSources(mgr.GetCache(), s.r.store) {
		b = b.WatchesRawSource(src)
	}
	specOrLabels := builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))
	for _, o := range []client.Object{&v1beta1.IPAddressPool{}, &v1beta2.BGPPeer{}, &v1beta1.BGPAdvertisement{}, &v1beta1.L2Advertisement{}, &v1beta1.BFDProfile{}, &v1beta1.Community{}} {
		b = b.Watches(o, inNamespace, specOrLabels)
	}
	if cfg.NodeRouter != nil {
		b = b.Watches(&frrk8s.FRRConfiguration{}, inNamespace, builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	}
	if cfg.L2 != nil {
		b = watchOwnL2Statuses(b, cfg)
	}
	if cfg.FRRK8s != nil {
		s.r.frrk8s = &frrk8sWriter{client: mgr.GetClient(), apiReader: mgr.GetAPIReader(), node: cfg.NodeName, ns: cfg.FRRK8s.Namespace}
		b = watchOwnFRRConfiguration(b, cfg)
	}
	if err := b.Complete(s.r); err != nil {
		return nil, fmt.Errorf("creating speaker controller: %w", err)
	}
	if cfg.L2 != nil {
		if s.r.l2, err = setupL2(mgr, cfg, s.poke); err != nil {
			return nil, fmt.Errorf("setting up Layer 2 mode: %w", err)
		}
	}
	if cfg.Sessions != nil {
		p := &sessionPoller{
			client: mgr.GetClient(), source: cfg.Sessions, ns: cfg.Namespace, node: cfg.NodeName, interval: cfg.SessionInterval, metrics: m, log: cfg.Log, now: cfg.Now,
			agentFresh: s.reapplyIfApplied, ready: s.ready,
		}
		if cfg.NodeRouter != nil {
			p.states = &sessionStates{client: mgr.GetClient(), reader: mgr.GetAPIReader(), ns: cfg.Namespace, node: cfg.NodeName, owner: cfg.Owner, fullEvery: 5 * time.Minute, now: cfg.Now}
			p.running, p.nodeState = cfg.NodeRouter.Running, s.r.nodeState
		}
		if err := mgr.Add(p); err != nil {
			return nil, fmt.Errorf("adding session poller: %w", err)
		}
	}
	return s, nil
}

// ReadyCheck is the speaker's readiness check. With BGP (Config.Sessions
// set) and Config.ReadyWait, it passes once FRR runs a config the
// speaker applied with every BGP session established, or ReadyWait after
// the first read of FRR's state, and stays passing; otherwise it always
// passes.
func (s *Speaker) ReadyCheck() healthz.Checker {
	if s.ready == nil {
		return healthz.Ping
	}
	return s.ready.check
}

// reapplyIfApplied reconciles again when the speaker has applied a
// config before: the agent that reports no apply since it started was
// restarted, and its FRR with it, so FRR may run no config at all. Before
// the speaker's first apply it does nothing: that apply is coming.
func (s *Speaker) reapplyIfApplied() {
	if s.r.appliedOnce() {
		s.cfg.Log.Warn("the frr agent has no config from this speaker (restarted?); applying again", "node", s.cfg.NodeName)
		s.poke()
	}
}

// nodeChanged passes node events that can change announcements: labels,
// cordoning and the Ready and NetworkUnavailable conditions, not the
// periodic heartbeats.
func nodeChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*corev1.Node)
		n, ok2 := e.ObjectNew.(*corev1.Node)
		if !ok1 || !ok2 {
			return true
		}
		return !equality.Semantic.DeepEqual(o.Labels, n.Labels) ||
			o.Spec.Unschedulable != n.Spec.Unschedulable ||
			condition(o, corev1.NodeReady) != condition(n, corev1.NodeReady) ||
			condition(o, corev1.NodeNetworkUnavailable) != condition(n, corev1.NodeNetworkUnavailable)
	}}
}

func condition(n *corev1.Node, t corev1.NodeConditionType) corev1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return corev1.ConditionUnknown
}

// Run runs the manager (and so the speaker) until ctx ends. Then, when
// drainOnStop is set, the node departs gracefully: it announces with the
// GRACEFUL_SHUTDOWN community for the drain delay, withdraws, and only
// then stops. Without it (or when FRR is unreachable) it stops at once
// and leaves the routes to BGP graceful restart and hold timers.
func (s *Speaker) Run(ctx context.Context, mgr manager.Manager, drainOnStop bool) error {
	mgrCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- mgr.Start(mgrCtx) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if drainOnStop && (s.cfg.FRR != nil || s.cfg.FRRK8s != nil || s.cfg.L2 != nil) {
		if err, stopped := s.depart(errc); stopped {
			return err
		}
	}
	cancel()
	return <-errc
}

// depart drives the graceful departure and waits until FRR withdrew and
// the Layer 2 IPs were handed over, or a bound passed. stopped reports
// that the manager ended meanwhile, with its error.
func (s *Speaker) depart(errc <-chan error) (err error, stopped bool) {
	s.r.stopping.Store(true)
	s.cfg.Log.Info("speaker stopping: moving traffic away", "node", s.cfg.NodeName, "delay", s.cfg.DrainDelay)
	select {
	case s.trigger <- event.GenericEvent{Object: &corev1.Node{}}:
	default: // a reconcile is already pending
	}
	wait := s.cfg.DrainDelay
	if s.cfg.L2 != nil {
		wait = max(wait, s.cfg.L2.HandoverGrace)
	}
	bound := time.NewTimer(wait + 30*time.Second)
	defer bound.Stop()
	for _, d := range s.r.departures() {
		select {
		case err := <-errc:
			return err, true
		case <-bound.C:
			s.cfg.Log.Error("speaker stopping: departure not done in time", "node", s.cfg.NodeName, "step", d.step)
			return nil, false
		case <-d.done:
			s.cfg.Log.Info("speaker stopping: departure step done", "node", s.cfg.NodeName, "step", d.step)
		}
	}
	return nil, false
}

// frrk8sInstalled reports whether the API server serves the
// FRRConfiguration kind.
func frrk8sInstalled(mgr ctrl.Manager) (bool, error) {
	gk := schema.GroupKind{Group: frrk8s.GroupVersion.Group, Kind: "FRRConfiguration"}
	_, err := mgr.GetRESTMapper().RESTMapping(gk, frrk8s.GroupVersion.Version)
	switch {
	case err == nil:
		return true, nil
	case meta.IsNoMatchError(err):
		return false, nil
	}
	return false, fmt.Errorf("looking up the FRRConfiguration kind: %w", err)
}
