package speaker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/l2/iface"
	"github.com/ironlb/ironlb/l2/members"
	"github.com/ironlb/ironlb/state"
)

// MemberlistSecretKey is the key of the memberlist Secret that holds the
// shared secret.
const MemberlistSecretKey = "secretkey"

// MemberlistConfig configures the memberlist among the speakers.
type MemberlistConfig struct {
	// BindAddr is the address to listen on; the zero value means the
	// node's first InternalIP (IPv4 first).
	BindAddr netip.Addr
	// BindPort is the port to listen on (UDP and TCP) and to join the
	// others at; 0 means members.DefaultPort.
	BindPort int
	// Join lists extra members to join, "host:port". The speaker also
	// joins the other speakers at BindPort: the IPs of BindAddr's
	// family of the pods Pods selects, or else every other Node's
	// InternalIP of that family.
	Join []string
	// Pods selects the speaker pods in the speaker's namespace. When
	// set, the speaker joins their IPs (see podJoin), read from the
	// API when memberlist starts, instead of every other Node's
	// InternalIP: nodes without a speaker are not tried. nil means the
	// Nodes.
	Pods labels.Selector
	// SecretName names the Secret, in the speaker's namespace, whose
	// MemberlistSecretKey encrypts the memberlist traffic. Required
	// unless Insecure.
	SecretName string
	// Insecure allows running without encryption.
	Insecure bool
	// Profile is the failure detection timing; the zero value means
	// members.FastLAN().
	Profile members.Profile
	// RejoinInterval is how often the member joins again: the
	// speakers it does not see live (see members.Config.Join); 0 means
	// members.DefaultRejoinInterval.
	RejoinInterval time.Duration
	// JoinRefresh is how often the speakers' addresses are read again
	// for the join list, besides whenever the Nodes change; 0 means
	// DefaultJoinRefresh.
	JoinRefresh time.Duration
}

// DefaultJoinRefresh is MemberlistConfig.JoinRefresh's default.
const DefaultJoinRefresh = time.Minute

func (c *MemberlistConfig) validate() error {
	var errs []error
	if c.SecretName == "" && !c.Insecure {
		errs = append(errs, errors.New("memberlist: a secret must be named unless insecure"))
	}
	if c.BindPort == 0 {
		c.BindPort = members.DefaultPort
	}
	if c.BindPort < 0 || c.BindPort > 65535 {
		errs = append(errs, fmt.Errorf("memberlist: port %d out of range", c.BindPort))
	}
	if c.Profile == (members.Profile{}) {
		c.Profile = members.FastLAN()
	}
	if c.JoinRefresh == 0 {
		c.JoinRefresh = DefaultJoinRefresh
	}
	if c.JoinRefresh < 0 {
		errs = append(errs, errors.New("memberlist: the join refresh interval must not be negative"))
	}
	return errors.Join(errs...)
}

// memberSource runs this node's memberlist member as a manager Runnable
// and keeps its latest view for the reconciler. The member starts once
// the caches are synced, reading its key and the others' addresses from
// the API, and joins only once the reconciler has set its metadata: the
// others never see it live without knowing what it can announce.
type memberSource struct {
	cfg    MemberlistConfig
	reader client.Reader
	// cache reads the Nodes when the join list is refreshed; nil means
	// reader.
	cache    client.Reader
	node, ns string
	log      *slog.Logger
	// onChange is called after every change of the view.
	onChange func()
	live     prometheus.Gauge
	// informers and keys follow the memberlist Secret (memberkeys.go).
	informers secretInformers
	keys      prometheus.Gauge

	// metaSet is closed by the first SetMeta.
	metaSet  chan struct{}
	firstSet sync.Once
	// refresh asks for the join list to be read again (see
	// nodesChanged).
	refresh chan struct{}

	mu   sync.Mutex
	m    *members.Members
	view *members.View
	meta []byte
	// nodes are the names of the Nodes nodesChanged saw last.
	nodes []string
	// joins counts the views in which members joined or came back (see
	// joined); the node publishes it in its metadata (nodeMeta.Heals).
	joins uint64
	// reannounces counts the views in which members joined or came
	// back, here or, by their published joins, on another member (see
	// healedElsewhere).
	reannounces uint64
}

// NeedLeaderElection implements manager.LeaderElectionRunnable: every
// speaker runs its member.
func (s *memberSource) NeedLeaderElection() bool { return false }

// Start runs the member until ctx ends, then leaves gracefully.
func (s *memberSource) Start(ctx context.Context) error {
	keys, err := s.secretKey(ctx)
	if err != nil {
		return err
	}
	bind, join, err := s.addresses(ctx, s.reader)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return nil
	case <-s.metaSet:
	}
	s.mu.Lock()
	meta := s.meta
	s.mu.Unlock()
	m, err := members.New(members.Config{
		Node:           s.node,
		BindAddr:       bind.String(),
		BindPort:       s.cfg.BindPort,
		Join:           join,
		SecretKey:      keys.Primary,
		ExtraKeys:      keys.Extra,
		AllowInsecure:  s.cfg.Insecure,
		Timing:         s.cfg.Profile,
		RejoinInterval: s.cfg.RejoinInterval,
		Meta:           meta,
		Logger:         s.log,
		OnChange:       s.changed,
	})
	if err != nil {
		return fmt.Errorf("starting memberlist: %w", err)
	}
	s.mu.Lock()
	s.m = m
	if !slices.Equal(meta, s.meta) {
		_ = m.SetMeta(s.meta) // SetMeta checked the size already
	}
	s.mu.Unlock()
	refreshCtx, stopRefresh := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.refreshJoin(refreshCtx, m) })
	defer func() {
		stopRefresh()
		wg.Wait()
	}()
	if s.cfg.SecretName == "" {
		return m.Run(ctx)
	}
	s.keys.Set(float64(1 + len(keys.Extra)))
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return m.Run(gctx) })
	g.Go(func() error { return s.followKeys(gctx, m) })
	return g.Wait()
}

// refreshJoin reads the speakers' addresses again every JoinRefresh and
// when asked (nodesChanged), and gives them to m to join: the list of
// the start may lack the speakers that came since, or name old
// addresses. Reading fails: the last list stays.
func (s *memberSource) refreshJoin(ctx context.Context, m *members.Members) {
	every := s.cfg.JoinRefresh
	if every <= 0 {
		every = DefaultJoinRefresh
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	nodes := s.cache
	if nodes == nil {
		nodes = s.reader
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-s.refresh:
		}
		_, join, err := s.addresses(ctx, nodes)
		if err != nil {
			s.log.Warn("refreshing the memberlist join list failed; keeping the last one", "error", err)
			continue
		}
		m.SetJoin(join)
	}
}

// nodesChanged asks for the join list to be read again when the names
// of the Nodes changed since the last call (a node came or went).
func (s *memberSource) nodesChanged(nodes []state.Node) {
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	slices.Sort(names)
	s.mu.Lock()
	changed := s.nodes != nil && !slices.Equal(names, s.nodes)
	s.nodes = names
	s.mu.Unlock()
	if !changed {
		return
	}
	select {
	case s.refresh <- struct{}{}:
	default: // one pending is enough
	}
}

// secretKey reads the encryption keys from the Secret (see memberKeys);
// none when insecure and no Secret is named.
func (s *memberSource) secretKey(ctx context.Context) (members.Keys, error) {
	if s.cfg.SecretName == "" {
		s.log.Warn("memberlist runs without encryption: anyone who reaches its port can join and fake failures")
		return members.Keys{}, nil
	}
	var sec corev1.Secret
	if err := s.reader.Get(ctx, client.ObjectKey{Namespace: s.ns, Name: s.cfg.SecretName}, &sec); err != nil {
		return members.Keys{}, fmt.Errorf("reading the memberlist Secret %s/%s: %w", s.ns, s.cfg.SecretName, err)
	}
	return memberKeys(&sec)
}

// addresses returns the address to bind and the members to join: the
// configured ones and the other speakers, from their pods when
// cfg.Pods is set, else from the Nodes, which it reads from nodeReader.
func (s *memberSource) addresses(ctx context.Context, nodeReader client.Reader) (netip.Addr, []string, error) {
	var nodes corev1.NodeList
	switch {
	case s.cfg.Pods == nil:
		if err := nodeReader.List(ctx, &nodes); err != nil {
			return netip.Addr{}, nil, fmt.Errorf("listing nodes for memberlist: %w", err)
		}
	case !s.cfg.BindAddr.IsValid():
		var n corev1.Node
		if err := nodeReader.Get(ctx, client.ObjectKey{Name: s.node}, &n); err != nil {
			return netip.Addr{}, nil, fmt.Errorf("reading node %s for the memberlist address: %w", s.node, err)
		}
		nodes.Items = []corev1.Node{n}
	}
	bind := s.cfg.BindAddr
	if !bind.IsValid() {
		for _, n := range nodes.Items {
			if n.Name == s.node {
				bind = internalIP(&n, true)
				if !bind.IsValid() {
					bind = internalIP(&n, false)
				}
			}
		}
		if !bind.IsValid() {
			return netip.Addr{}, nil, fmt.Errorf("memberlist: node %s has no InternalIP to bind to; set the bind address", s.node)
		}
	}
	if s.cfg.Pods == nil {
		return bind, nodeJoin(nodes.Items, s.node, bind, s.cfg.BindPort, s.cfg.Join), nil
	}
	var pods corev1.PodList
	if err := s.reader.List(ctx, &pods, client.InNamespace(s.ns), client.MatchingLabelsSelector{Selector: s.cfg.Pods}); err != nil {
		return netip.Addr{}, nil, fmt.Errorf("listing the speaker pods %q in %s for memberlist: %w", s.cfg.Pods, s.ns, err)
	}
	return bind, podJoin(pods.Items, s.node, bind, s.cfg.BindPort, s.cfg.Join), nil
}

// internalIP returns the node's first InternalIP of a family.
func internalIP(n *corev1.Node, v4 bool) netip.Addr {
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil && ip.Unmap().Is4() == v4 {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

func (s *memberSource) changed(v members.View) {
	s.mu.Lock()
	back := joined(s.view, v)
	elsewhere := healedElsewhere(s.view, v)
	if len(back) > 0 {
		s.joins++
	}
	if len(back) > 0 || len(elsewhere) > 0 {
		s.reannounces++
	}
	s.view = &v
	s.mu.Unlock()
	if len(back) > 0 {
		s.log.Info("memberlist members joined or came back", "joined", back)
	}
	if len(elsewhere) > 0 {
		s.log.Info("memberlist members saw others join or come back", "members", elsewhere)
	}
	meta := make(map[string]string, len(v.Meta))
	for n, m := range v.Meta {
		meta[n] = string(m)
	}
	s.log.Info("memberlist view changed", "live", v.Live, "failed", v.Failed, "left", v.Left, "meta", meta)
	s.live.Set(float64(len(v.Live)))
	s.onChange()
}

// View returns the latest view; false until the first attempt to join
// has ended.
func (s *memberSource) View() (members.View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.view == nil {
		return members.View{}, false
	}
	return *s.view, true
}

// joinCount returns how many views so far had members join or come
// back.
func (s *memberSource) joinCount() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.joins
}

// reannounceCount returns how many views so far had members join or
// come back, here or on another member.
func (s *memberSource) reannounceCount() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reannounces
}

// SetMeta sets what this node publishes of itself.
func (s *memberSource) SetMeta(meta []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.meta != nil && slices.Equal(meta, s.meta) {
		return nil
	}
	if len(meta) > members.MaxMetaSize {
		return fmt.Errorf("memberlist metadata has %d bytes, want at most %d", len(meta), members.MaxMetaSize)
	}
	s.meta = slices.Clone(meta)
	s.firstSet.Do(func() { close(s.metaSet) })
	if s.m == nil {
		return nil
	}
	return s.m.SetMeta(meta)
}

// nodeMeta is what a speaker publishes of itself through memberlist for
// the elections of the others. A live member without it (a speaker that
// has not yet looked at its links) is no candidate.
type nodeMeta struct {
	// Draining is set while the speaker stops: it hands its IPs over.
	Draining bool `json:"drain,omitempty"`
	// Any is set when the node has a usable interface that no exclude
	// pattern matches, for the advertisements that name none.
	Any bool `json:"any,omitempty"`
	// Links are the usable interfaces among those the advertisements
	// name, sorted.
	Links []string `json:"links,omitempty"`
	// AllLinks stands for Links when they are too many to publish:
	// every named interface counts as usable.
	AllLinks bool `json:"allLinks,omitempty"`
	// Heals counts the views in which the node saw members join or come
	// back. A node that another declared dead for a while, and that
	// saw nobody go itself (its speaker stalled, say), learns from the
	// other's count going up that it may have had a stand-in, and
	// announces its IPs again (see healedElsewhere).
	Heals uint64 `json:"heals,omitempty"`
}

func (m nodeMeta) usable() bool { return m.Any || len(m.Links) > 0 || m.AllLinks }

// canAnnounce reports whether the node has a usable interface among
// allowed (empty: any).
func (m nodeMeta) canAnnounce(allowed []string) bool {
	if len(allowed) == 0 {
		return m.Any
	}
	return m.AllLinks || slices.ContainsFunc(allowed, func(n string) bool { return slices.Contains(m.Links, n) })
}

// encode returns the metadata to publish, within members.MaxMetaSize.
func (m nodeMeta) encode() []byte {
	b, _ := json.Marshal(m)
	if len(b) > members.MaxMetaSize {
		m.Links, m.AllLinks = nil, true
		b, _ = json.Marshal(m)
	}
	return b
}

func decodeMeta(b []byte) (nodeMeta, bool) {
	var m nodeMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nodeMeta{}, false
	}
	return m, true
}

// namedInterfaces returns the interfaces the advertisements name,
// sorted.
func namedInterfaces(model *config.Model) []string {
	if model == nil {
		return nil
	}
	var named []string
	for _, ad := range model.L2Advertisements {
		named = append(named, ad.Interfaces...)
	}
	slices.Sort(named)
	return slices.Compact(named)
}

// linksMeta describes the node's usable interfaces: whether any
// interface outside the exclude list is usable, and which of the named
// ones are.
func linksMeta(links []iface.Link, named, exclude []string) nodeMeta {
	m := nodeMeta{Any: len(iface.Select(links, nil, exclude)) > 0}
	for _, name := range named {
		if len(iface.Select(links, []string{name}, exclude)) > 0 {
			m.Links = append(m.Links, name)
		}
	}
	return m
}

// linkGuard holds back a node whose interfaces all lost their carrier
// for a settle time once one is back. It is a pure state machine: the
// caller passes the time.
type linkGuard struct {
	settle time.Duration
	// seen is set after the first observation.
	seen bool
	// down is set from the moment the node had no usable interface
	// until the settle time after one came back has passed.
	down bool
	// until is when the node may offer again; zero while it has no
	// usable interface.
	until time.Time
}

// observe records whether the node has a usable interface at now. It
// reports whether the node just lost its last one.
func (g *linkGuard) observe(now time.Time, usable bool) (lost bool) {
	first := !g.seen
	g.seen = true
	switch {
	case !usable:
		lost = !g.down
		g.down, g.until = true, time.Time{}
	case first:
	case g.down && g.until.IsZero():
		g.until = now.Add(g.settle)
	}
	return lost
}

// step observes the node's actual interfaces and returns the metadata to
// publish at now, and when it changes by itself (zero: never).
func (g *linkGuard) step(now time.Time, actual nodeMeta) (nodeMeta, time.Time) {
	g.observe(now, actual.usable())
	if !g.down || g.until.IsZero() {
		return actual, time.Time{}
	}
	if now.Before(g.until) {
		return nodeMeta{Draining: actual.Draining}, g.until
	}
	g.down, g.until = false, time.Time{}
	return actual, time.Time{}
}
