package speaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/l2/announcer"
	"github.com/ironlb/ironlb/l2/election"
	"github.com/ironlb/ironlb/l2/iface"
	"github.com/ironlb/ironlb/l2/lease"
	"github.com/ironlb/ironlb/l2/members"
	"github.com/ironlb/ironlb/state"
)

// DefaultLinkSettle is L2Config.LinkSettle's default.
const DefaultLinkSettle = 2 * time.Second

// L2Config configures Layer 2 mode: answering ARP and NDP for the
// Service IPs this node wins in the election.
type L2Config struct {
	// Opener opens the ARP and NDP responders: announcer.Sockets{} in
	// production. Required.
	Opener announcer.Opener
	// Exclude lists the name patterns of the interfaces not used unless
	// an L2Advertisement names them; nil means iface.DefaultExclude().
	Exclude []string
	// ExcludeNames are regular expressions of the names of interfaces
	// never used, even when an L2Advertisement names them: MetalLB's
	// announcedInterfacesToExclude, unanchored as there. The node does
	// not offer the others to announce on them either.
	ExcludeNames []*regexp.Regexp
	// GratuitousInterval, when positive, announces every IP the node
	// owns again at this interval (gratuitous ARP, unsolicited NA),
	// after the burst of its takeover: MetalLB's
	// --gratuitous-arp-interval. 0 announces only on takeover.
	GratuitousInterval time.Duration
	// HandoverGrace is how long a node that drains keeps answering for
	// the IPs it hands over, so that the new owner announces first; 0
	// means announcer.DefaultHandoverGrace.
	HandoverGrace time.Duration
	// LinkSettle is how long a node whose interfaces all lost their
	// carrier waits, once one is back, before it offers to announce
	// again: time for memberlist to heal, so that it does not take
	// every IP while it still sees the others as failed. 0 means
	// DefaultLinkSettle.
	LinkSettle time.Duration
	// Memberlist finds the live speakers; nil means no memberlist:
	// the nodes whose Ready condition is true are live.
	Memberlist *MemberlistConfig
	// Ownership is how a node holds the IPs the election gives it:
	// OwnershipMemberlist ("" too) announces them at once;
	// OwnershipLease announces only those whose Kubernetes Lease it
	// holds (package lease), so that no two nodes answer for one IP.
	Ownership Ownership
	// Lease is the timing of OwnershipLease; the zero value means
	// lease.DefaultTiming().
	Lease lease.Timing
}

// Ownership is L2Config.Ownership.
type Ownership string

// The ownership modes.
const (
	OwnershipMemberlist Ownership = "memberlist"
	OwnershipLease      Ownership = "lease"
)

func (c *L2Config) validate() error {
	var errs []error
	if c.Opener == nil {
		errs = append(errs, errors.New("L2: an Opener must be set"))
	}
	if c.Exclude == nil {
		c.Exclude = iface.DefaultExclude()
	}
	if err := iface.ValidatePatterns(c.Exclude); err != nil {
		errs = append(errs, fmt.Errorf("L2: %w", err))
	}
	if c.HandoverGrace == 0 {
		c.HandoverGrace = announcer.DefaultHandoverGrace
	}
	if c.HandoverGrace < 0 {
		errs = append(errs, errors.New("L2: the handover grace must not be negative"))
	}
	if c.GratuitousInterval < 0 {
		errs = append(errs, errors.New("L2: the gratuitous ARP interval must not be negative"))
	}
	if c.LinkSettle == 0 {
		c.LinkSettle = DefaultLinkSettle
	}
	if c.LinkSettle < 0 {
		errs = append(errs, errors.New("L2: the link settle time must not be negative"))
	}
	if c.Memberlist != nil {
		errs = append(errs, c.Memberlist.validate())
	}
	switch c.Ownership {
	case "":
		c.Ownership = OwnershipMemberlist
	case OwnershipMemberlist:
	case OwnershipLease:
		if c.Lease == (lease.Timing{}) {
			c.Lease = lease.DefaultTiming()
		}
		if err := c.Lease.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("L2: %w", err))
		}
	default:
		errs = append(errs, fmt.Errorf("L2: ownership %q is neither %q nor %q", c.Ownership, OwnershipMemberlist, OwnershipLease))
	}
	return errors.Join(errs...)
}

// eventRecorder records events about objects (events.k8s.io).
type eventRecorder interface {
	Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any)
}

// l2Runtime is the speaker's Layer 2 side: the announcer, the link
// watcher and the member source, and what the reconciler remembers from
// one round to the next.
type l2Runtime struct {
	cfg     L2Config
	node    string
	ann     *announcer.Announcer
	members *memberSource // nil when memberlist is off
	keeper  *lease.Keeper // nil unless the ownership is by lease
	events  eventRecorder
	metrics *l2Metrics
	log     *slog.Logger

	now func() time.Time

	mu    sync.Mutex
	links []iface.Link // nil until the watcher reported
	// named are the interfaces the advertisements name, as of the last
	// reconcile.
	named []string
	guard linkGuard

	// The rest is only touched by the reconciler.
	owned   map[serviceRef]bool
	refused string
	// joinsSeen is the memberSource.reannounceCount acted on.
	joinsSeen uint64
	// stoppedAt is when the reconciler first saw the speaker stopping.
	stoppedAt time.Time
	// handedOver is closed once the node, stopping, announces no IP
	// it hands over any more.
	handedOver  chan struct{}
	closeHanded sync.Once
}

// setupL2 adds the Layer 2 side to the manager: the announcer, the link
// watcher and, with memberlist, the member source. poke asks for a
// reconcile.
func setupL2(mgr ctrl.Manager, cfg Config, poke func()) (*l2Runtime, error) {
	m, err := newL2Metrics(cfg.Registerer, cfg.L2.Ownership == OwnershipLease)
	if err != nil {
		return nil, fmt.Errorf("registering L2 metrics: %w", err)
	}
	log := cfg.Log.With("mode", "layer2")
	l := &l2Runtime{
		cfg: *cfg.L2, node: cfg.NodeName, events: mgr.GetEventRecorder("ironlb-speaker"), metrics: m, log: log, now: cfg.Now,
		guard: linkGuard{settle: cfg.L2.LinkSettle}, owned: map[serviceRef]bool{}, handedOver: make(chan struct{}),
	}
	l.ann, err = announcer.New(announcer.Config{
		Node:          cfg.NodeName,
		Opener:        cfg.L2.Opener,
		Registerer:    cfg.Registerer,
		Logger:        log,
		Exclude:       cfg.L2.Exclude,
		ExcludeNames:  cfg.L2.ExcludeNames,
		Refresh:       cfg.L2.GratuitousInterval,
		HandoverGrace: cfg.L2.HandoverGrace,
		Burst:         handoverBurst(cfg.L2.HandoverGrace),
		OnStatus: func([]announcer.IPStatus) {
			poke()
			if l.keeper != nil {
				l.keeper.Poke()
			}
		},
	})
	if err != nil {
		return nil, err
	}
	if cfg.L2.Ownership == OwnershipLease {
		if l.keeper, err = newKeeper(mgr, cfg, l.ann, poke); err != nil {
			return nil, err
		}
	}
	w, err := iface.NewWatcher(iface.Config{OnChange: func(links []iface.Link) {
		// The excluded interfaces are as good as absent: the node's
		// metadata does not offer them to the election either.
		l.setLinks(announcer.DropExcluded(links, cfg.L2.ExcludeNames))
		poke()
	}, Logger: log})
	if err != nil {
		return nil, err
	}
	runnables := []manager.Runnable{everyNode(l.ann.Run), everyNode(w.Run)}
	if l.keeper != nil {
		runnables = append(runnables, everyNode(l.keeper.Run))
	}
	if mc := cfg.L2.Memberlist; mc != nil {
		l.members = &memberSource{
			cfg: *mc, reader: mgr.GetAPIReader(), cache: mgr.GetClient(), node: cfg.NodeName, ns: cfg.Namespace,
			log: cfg.Log, onChange: poke, live: m.membersLive, metaSet: make(chan struct{}), refresh: make(chan struct{}, 1),
			informers: mgr.GetCache(),
		}
		if l.members.keys, err = newKeysGauge(cfg.Registerer); err != nil {
			return nil, err
		}
		runnables = append(runnables, l.members)
	}
	for _, r := range runnables {
		if err := mgr.Add(r); err != nil {
			return nil, fmt.Errorf("adding the L2 runnables: %w", err)
		}
	}
	return l, nil
}

// watchOwnL2Statuses makes a change of the node's own ServiceL2Status
// objects reconcile: another node deletes them when it sees this one
// gone, and they must come back once it is back.
func watchOwnL2Statuses(b *builder.Builder, cfg Config) *builder.Builder {
	return b.Watches(&v1beta1.ServiceL2Status{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		if o.GetNamespace() != cfg.Namespace || o.GetLabels()[labelNode] != cfg.NodeName {
			return nil
		}
		return []reconcile.Request{nodeKey}
	}))
}

// handoverBurst returns when the announcer announces an IP it gains: as
// by default, then once a second until a handover's grace has passed.
// While the old owner hands over, both answer requests; a client that
// took the old owner's answer moves on with the next announcement.
func handoverBurst(grace time.Duration) []time.Duration {
	b := announcer.DefaultBurst()
	for d := b[len(b)-1] + time.Second; d <= grace+time.Second; d += time.Second {
		b = append(b, d)
	}
	return b
}

// everyNode is a runnable that runs on every speaker, with no leader
// election.
type everyNode func(context.Context) error

func (f everyNode) Start(ctx context.Context) error { return f(ctx) }
func (everyNode) NeedLeaderElection() bool          { return false }

// setLinks takes the node's links from the watcher. When the last usable
// interface lost its carrier, the node gives up its IPs at once, also on
// the interfaces that come back: it announces again only once a
// reconcile elected it, after the settle time.
func (l *l2Runtime) setLinks(links []iface.Link) {
	l.mu.Lock()
	l.links = slices.Clone(links)
	lost := l.guard.observe(l.now(), linksMeta(links, l.named, l.cfg.Exclude).usable())
	l.mu.Unlock()
	if lost {
		l.log.Warn("every interface lost its carrier: giving up the IPs")
		l.assign(election.Assignment{Node: l.node}, nil)
	}
	l.ann.SetLinks(links)
}

// selfMeta returns this node's metadata for its links and the model at
// now, and when it changes by itself (zero: never); false until the
// watcher reported the links.
func (l *l2Runtime) selfMeta(now time.Time, model *config.Model, stopping bool) (nodeMeta, time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.links == nil {
		return nodeMeta{}, time.Time{}, false
	}
	l.named = namedInterfaces(model)
	actual := linksMeta(l.links, l.named, l.cfg.Exclude)
	actual.Draining = stopping
	self, wake := l.guard.step(now, actual)
	return self, wake, true
}

// reconcileL2 elects, hands the node's assignment to the announcer and
// writes the node's ServiceL2Status objects. It returns when it needs to
// run again by itself (0: never).
func (r *reconciler) reconcileL2(ctx context.Context, cluster *state.Cluster) (time.Duration, error) {
	l, now, stopping := r.l2, r.cfg.Now(), r.stopping.Load()
	self, wake, ok := l.selfMeta(now, cluster.Model, stopping)
	if !ok {
		if stopping {
			l.handOverDone() // nothing was announced yet
		}
		return 0, nil // the watcher pokes once it has the links
	}
	var view *members.View
	var joins uint64
	if l.members != nil {
		self.Heals = l.members.joinCount()
		if err := l.members.SetMeta(self.encode()); err != nil {
			return 0, err
		}
		l.members.nodesChanged(cluster.Nodes)
		joins = l.members.reannounceCount() // before the view: a join between the two is acted on next time
		v, ok := l.members.View()
		if !ok {
			if stopping {
				l.handOverDone() // nothing was announced yet
			}
			return until(now, wake), nil // memberlist pokes once it has joined
		}
		view = &v
		r.reportRefusal(ctx, v.Refused)
	}
	res, live := electL2(l2Inputs{cluster: cluster, node: r.cfg.NodeName, self: self, view: view})
	as := res.For(r.cfg.NodeName)
	var wanted []netip.Addr
	if l.keeper != nil { // only the keeper reads them
		wanted = l2ServiceIPs(cluster, res)
	}
	l.assign(as, wanted)
	l.reannounceAfterJoins(joins)
	st := l.ann.Status()
	if stopping {
		if l.stoppedAt.IsZero() {
			l.stoppedAt = now
		}
		if end := l.stoppedAt.Add(l.cfg.HandoverGrace); l.handingOver(as, st) && now.Before(end) {
			wake = earliestTime(wake, end)
		} else if !l.handingOver(as, st) {
			l.handOverDone()
		}
	}
	owned := ownedServices(res, r.cfg.NodeName)
	if l.keeper != nil {
		answered := l.keeper.Answered()
		owned = answeredServices(cluster, owned, answered)
		l.metrics.leasesHeld.Set(float64(len(answered)))
	}
	r.recordOwners(ctx, owned)
	r.metrics.speakerAnnounced.set(protocolLayer2, l2Announcements(cluster, owned))
	errs := []error{
		syncL2Statuses(ctx, r.client, r.cfg.Namespace, r.cfg.NodeName, l2StatusWant(cluster, owned, st)),
		r.clearStaleL2Statuses(ctx, owned, live),
	}
	return until(now, wake), errors.Join(errs...)
}

// assign hands the node's assignment to the announcer, through the
// lease keeper when ownership is by lease; wanted are the IPs of every
// Layer 2 Service (nil: unchanged).
func (l *l2Runtime) assign(as election.Assignment, wanted []netip.Addr) {
	if l.keeper != nil {
		l.keeper.Update(as, wanted)
		return
	}
	l.ann.Update(as)
}

// handingOver reports whether the node, stopping, still announces an
// IP it hands over or, by lease, still holds the Lease of one.
func (l *l2Runtime) handingOver(as election.Assignment, st []announcer.IPStatus) bool {
	if l.keeper != nil {
		return l.keeper.Releasing()
	}
	return handingOver(as, st)
}

// handOverDone tells a stopping speaker that the Layer 2 IPs are
// handed over.
func (l *l2Runtime) handOverDone() { l.closeHanded.Do(func() { close(l.handedOver) }) }

// handingOver reports whether the node still announces an IP it hands
// over.
func handingOver(as election.Assignment, st []announcer.IPStatus) bool {
	for _, t := range as.Handover {
		if slices.ContainsFunc(st, func(s announcer.IPStatus) bool { return s.IP == t.IP.Unmap() }) {
			return true
		}
	}
	return false
}

func earliestTime(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// until returns the time from now to t, at least a millisecond; 0 for
// the zero time.
func until(now, t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return max(t.Sub(now), time.Millisecond)
}

// recordOwners counts the Services the node gained and lost, and tells
// the gained ones that the node announces them now.
func (r *reconciler) recordOwners(ctx context.Context, owned map[serviceRef]bool) {
	l := r.l2
	gained, lost := ownerChanges(l.owned, owned)
	l.owned = owned
	l.metrics.announced.Set(float64(len(owned)))
	for _, ref := range lost {
		l.metrics.ownerChanges.WithLabelValues("lost").Inc()
		l.log.Info("stopped announcing service", "service", ref.Namespace+"/"+ref.Name)
	}
	for _, ref := range gained {
		l.metrics.ownerChanges.WithLabelValues("gained").Inc()
		l.log.Info("announcing service", "service", ref.Namespace+"/"+ref.Name)
		var svc corev1.Service
		if err := r.client.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, &svc); err != nil {
			l.log.Debug("reading service for its event", "service", ref.Namespace+"/"+ref.Name, "error", err)
			continue
		}
		l.events.Eventf(&svc, nil, corev1.EventTypeNormal, "NodeAnnouncing", "Announce", "announcing from node %q with protocol layer2", r.cfg.NodeName)
	}
}

// reportRefusal logs, and records on the Node, when the other speakers
// refuse this one (another memberlist key) and when they admit it again.
func (r *reconciler) reportRefusal(ctx context.Context, why string) {
	l := r.l2
	if why == l.refused {
		return
	}
	l.refused = why
	if why == "" {
		l.log.Info("memberlist admitted this node")
		return
	}
	l.log.Error("memberlist refused this node: it announces nothing until admitted", "reason", why)
	var n corev1.Node
	if err := r.client.Get(ctx, client.ObjectKey{Name: r.cfg.NodeName}, &n); err != nil {
		return
	}
	l.events.Eventf(&n, nil, corev1.EventTypeWarning, "MemberlistRefused", "Join", "the other speakers refused this node, so it announces no Layer 2 IP: %s", why)
}

// clearStaleL2Statuses deletes the ServiceL2Status objects that nodes
// which are gone left behind for the Services this node owns now.
func (r *reconciler) clearStaleL2Statuses(ctx context.Context, owned map[serviceRef]bool, live []string) error {
	if len(owned) == 0 {
		return nil
	}
	var list v1beta1.ServiceL2StatusList
	if err := r.client.List(ctx, &list, client.InNamespace(r.cfg.Namespace)); err != nil {
		return fmt.Errorf("listing ServiceL2Status: %w", err)
	}
	var errs []error
	for i := range list.Items {
		obj := &list.Items[i]
		node := obj.Labels[labelNode]
		ref := serviceRef{Namespace: obj.Status.ServiceNamespace, Name: obj.Status.ServiceName}
		if node == "" || node == r.cfg.NodeName || slices.Contains(live, node) || !owned[ref] {
			continue
		}
		if err := r.client.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting stale ServiceL2Status %s of node %s: %w", obj.Name, node, err))
		}
	}
	return errors.Join(errs...)
}

// l2Metrics are the speaker's Layer 2 metrics; the announcer has its
// own.
type l2Metrics struct {
	membersLive  prometheus.Gauge
	ownerChanges *prometheus.CounterVec
	announced    prometheus.Gauge
	// leasesHeld is registered only when ownership is by lease.
	leasesHeld prometheus.Gauge
}

func newL2Metrics(reg prometheus.Registerer, byLease bool) (*l2Metrics, error) {
	m := &l2Metrics{
		membersLive: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ironlb_speaker_l2_members_live",
			Help: "Speakers this node's memberlist sees alive, itself included.",
		}),
		ownerChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ironlb_speaker_l2_ownership_changes_total",
			Help: "Layer 2 Services this node started (gained) or stopped (lost) announcing.",
		}, []string{"change"}),
		announced: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ironlb_speaker_l2_services_announced",
			Help: "Layer 2 Services this node announces.",
		}),
		leasesHeld: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ironlb_speaker_l2_leases_held",
			Help: "Layer 2 Service IPs whose Lease this node holds and renews in time, so that it answers for them (--l2-ownership=lease).",
		}),
	}
	cs := []prometheus.Collector{m.membersLive, m.ownerChanges, m.announced}
	if byLease {
		cs = append(cs, m.leasesHeld)
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// poke asks for a reconcile; one pending is enough.
func (s *Speaker) poke() {
	select {
	case s.trigger <- event.GenericEvent{Object: &corev1.Node{}}:
	default:
	}
}

// departure is one step of a graceful stop and its end.
type departure struct {
	step string
	done <-chan struct{}
}

// departures lists what a graceful stop waits for: FRR withdrawing the
// routes, and the new owners taking the Layer 2 IPs over.
func (r *reconciler) departures() []departure {
	var out []departure
	if r.cfg.FRR != nil || r.cfg.FRRK8s != nil {
		out = append(out, departure{step: "bgp withdrawn", done: r.withdrawn})
	}
	if r.l2 != nil {
		out = append(out, departure{step: "layer2 handed over", done: r.l2.handedOver})
	}
	return out
}
