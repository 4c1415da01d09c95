package members

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// Defaults of Config.
const (
	DefaultPort           = 7946
	DefaultLabel          = "ironlb"
	DefaultRejoinInterval = 10 * time.Second
	DefaultLeaveTimeout   = 2 * time.Second
)

// Config configures a member. The zero values of the optional fields
// mean the defaults given.
type Config struct {
	// Node is the member's name: the Kubernetes node name. Required.
	Node string
	// BindAddr is the address to listen on (UDP and TCP); "" means
	// 0.0.0.0.
	BindAddr string
	// BindPort is the port to listen on; 0 picks a free one (tests).
	// The speaker sets DefaultPort or its flag.
	BindPort int
	// AdvertiseAddr and AdvertisePort are what other members connect
	// to; "" and 0 mean the bound address and port (with 0.0.0.0,
	// memberlist picks a private address of the host).
	AdvertiseAddr string
	AdvertisePort int
	// Join lists members to join, "host:port", such as the other
	// speakers' addresses; SetJoin replaces it. Every RejoinInterval
	// the member joins again: all of them while it is alone, else those
	// given as IP and port that no live member has, so that the two
	// halves of a split cluster, each of which declared the other dead,
	// merge again.
	Join []string
	// SecretKey encrypts and authenticates all traffic (AES-GCM); it
	// must be 16, 24 or 32 bytes (see KeyFromSecret). Members with
	// another key are not admitted. Required unless AllowInsecure.
	SecretKey []byte
	// ExtraKeys are further keys (each 16, 24 or 32 bytes) accepted from
	// the others, next to SecretKey, while a key rotation rolls (see
	// Keys and SetKeys). They need SecretKey.
	ExtraKeys [][]byte
	// AllowInsecure allows running without SecretKey: anyone who can
	// reach the port can join and fake failures.
	AllowInsecure bool
	// Label is sent with every packet; members with another label are
	// ignored, so that clusters sharing a network stay apart. "" means
	// DefaultLabel.
	Label string
	// Timing is the failure detection profile; the zero value means
	// FastLAN().
	Timing Profile
	// RejoinInterval is how often the member joins again (see Join);
	// 0 means DefaultRejoinInterval.
	RejoinInterval time.Duration
	// LeaveTimeout bounds the wait for the leave message to go out
	// when Run ends; 0 means DefaultLeaveTimeout.
	LeaveTimeout time.Duration
	// SkipLeave makes Run end without announcing the leave, as a crash
	// would: the others then detect the failure. For tests.
	SkipLeave bool
	// Meta is this member's first metadata (see SetMeta); at most
	// MaxMetaSize bytes.
	Meta []byte
	// Logger gets the member's logs and memberlist's, with the key
	// node; nil discards them.
	Logger *slog.Logger
	// OnChange gets the view of the cluster whenever it changes,
	// starting once the first attempt to join has ended. It is called
	// from Run's goroutine and should return quickly.
	OnChange func(View)
}

// MaxMetaSize is the most metadata a member may publish.
const MaxMetaSize = memberlist.MetaMaxSize - len(metaLeaving)

// View is what a member knows of the cluster. Each list is sorted.
type View struct {
	// Live members: alive or suspected, including this one.
	Live []string
	// Failed members were declared dead by the failure detector.
	Failed []string
	// Left members left gracefully.
	Left []string
	// Meta holds the metadata of the live members that published
	// some, by name.
	Meta map[string][]byte
	// Refused says why the others refused this member, while it is
	// alone and its last attempt to join failed because its SecretKey
	// or Label differs from theirs; "" otherwise.
	Refused string
}

// KeyFromSecret derives a 32-byte SecretKey from a secret of any length
// (such as a Kubernetes Secret's value).
func KeyFromSecret(secret []byte) []byte {
	sum := sha256.Sum256(secret)
	return sum[:]
}

// Members is this node's membership in the cluster of speakers.
type Members struct {
	cfg Config
	log *slog.Logger
	ml  *memberlist.Memberlist
	ev  *events
	// keyring holds the keys; nil without encryption.
	keyring *memberlist.Keyring
	// metaSet signals Run that SetMeta changed the metadata.
	metaSet chan struct{}

	joinMu sync.Mutex
	join   []string
}

// New checks the configuration and starts the member: it listens at
// once, but joins nobody until Run. Run must be called to release it.
func New(cfg Config) (*Members, error) {
	if cfg.Node == "" {
		return nil, errors.New("memberlist: Node is required")
	}
	switch len(cfg.SecretKey) {
	case 16, 24, 32:
	case 0:
		if !cfg.AllowInsecure {
			return nil, errors.New("memberlist: SecretKey is required unless AllowInsecure is set")
		}
	default:
		return nil, fmt.Errorf("memberlist: SecretKey has %d bytes, want 16, 24 or 32 (see KeyFromSecret)", len(cfg.SecretKey))
	}
	if cfg.BindPort < 0 || cfg.BindPort > 65535 || cfg.AdvertisePort < 0 || cfg.AdvertisePort > 65535 {
		return nil, fmt.Errorf("memberlist: ports %d and %d out of range", cfg.BindPort, cfg.AdvertisePort)
	}
	if cfg.Timing == (Profile{}) {
		cfg.Timing = FastLAN()
	}
	if err := cfg.Timing.validate(); err != nil {
		return nil, fmt.Errorf("memberlist: %w", err)
	}
	if cfg.BindAddr == "" {
		cfg.BindAddr = "0.0.0.0"
	}
	if len(cfg.Meta) > MaxMetaSize {
		return nil, fmt.Errorf("memberlist: Meta has %d bytes, want at most %d", len(cfg.Meta), MaxMetaSize)
	}
	if cfg.Label == "" {
		cfg.Label = DefaultLabel
	}
	if cfg.RejoinInterval <= 0 {
		cfg.RejoinInterval = DefaultRejoinInterval
	}
	if cfg.LeaveTimeout <= 0 {
		cfg.LeaveTimeout = DefaultLeaveTimeout
	}
	lg := cfg.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	lg = lg.With("node", cfg.Node)

	if len(cfg.ExtraKeys) > 0 && len(cfg.SecretKey) == 0 {
		return nil, errors.New("memberlist: ExtraKeys need a SecretKey")
	}
	keyring, err := newKeyring(Keys{Primary: cfg.SecretKey, Extra: cfg.ExtraKeys})
	if err != nil {
		return nil, err
	}
	m := &Members{cfg: cfg, log: lg, ev: newEvents(), metaSet: make(chan struct{}, 1), keyring: keyring, join: slices.Clone(cfg.Join)}
	m.ev.meta = slices.Clone(cfg.Meta)
	ml, err := memberlist.Create(m.memberlistConfig())
	if err != nil {
		return nil, fmt.Errorf("starting memberlist on %s:%d: %w", cfg.BindAddr, cfg.BindPort, err)
	}
	m.ml = ml
	return m, nil
}

func (m *Members) memberlistConfig() *memberlist.Config {
	c, p := memberlist.DefaultLANConfig(), m.cfg.Timing
	c.Name = m.cfg.Node
	c.BindAddr, c.BindPort = m.cfg.BindAddr, m.cfg.BindPort
	c.AdvertiseAddr, c.AdvertisePort = m.cfg.AdvertiseAddr, m.cfg.AdvertisePort
	if c.AdvertisePort == 0 {
		c.AdvertisePort = m.cfg.BindPort
	}
	c.Keyring = m.keyring
	c.Label = m.cfg.Label
	c.ProbeInterval, c.ProbeTimeout = p.ProbeInterval, p.ProbeTimeout
	c.IndirectChecks = p.IndirectChecks
	c.SuspicionMult, c.SuspicionMaxTimeoutMult = p.SuspicionMult, p.SuspicionMaxTimeoutMult
	c.AwarenessMaxMultiplier = p.AwarenessMaxMultiplier
	c.GossipInterval, c.GossipNodes = p.GossipInterval, p.GossipNodes
	c.RetransmitMult = p.RetransmitMult
	c.GossipToTheDeadTime = p.GossipToTheDeadTime
	c.PushPullInterval = p.PushPullInterval
	c.TCPTimeout = p.TCPTimeout
	c.DeadNodeReclaimTime = p.DeadNodeReclaimTime
	c.Events, c.Delegate = m.ev, m.ev
	c.Logger = log.New(logWriter{m.log}, "", 0)
	return c
}

// Addr returns the address and port other members reach this one at.
func (m *Members) Addr() netip.AddrPort {
	n := m.ml.LocalNode()
	ip, _ := netip.AddrFromSlice(n.Addr)
	return netip.AddrPortFrom(ip.Unmap(), n.Port)
}

// View returns what this member knows of the cluster now.
func (m *Members) View() View { return m.ev.view() }

// SetMeta sets the metadata this member publishes to the others, such
// as whether it can serve; they see it in View.Meta shortly after. It
// may be called at any time, also before Run, and does not block.
func (m *Members) SetMeta(meta []byte) error {
	if len(meta) > MaxMetaSize {
		return fmt.Errorf("memberlist: metadata has %d bytes, want at most %d", len(meta), MaxMetaSize)
	}
	if !m.ev.setMeta(meta) {
		return nil
	}
	select {
	case m.metaSet <- struct{}{}:
	default:
	}
	return nil
}

// Run joins the cluster, reports every change of the view to OnChange,
// and retries joining while alone, until ctx ends. Then it leaves
// gracefully (unless SkipLeave) and shuts the member down.
func (m *Members) Run(ctx context.Context) error {
	defer m.ml.Shutdown()
	m.log.Info("memberlist started", "addr", m.Addr(), "profile", m.cfg.Timing.Name, "encrypted", len(m.cfg.SecretKey) > 0)
	var last View
	emit := func() {
		v := m.ev.view()
		if v.equal(last) && last.Live != nil {
			return
		}
		last = v
		m.log.Debug("members changed", "live", v.Live, "failed", v.Failed, "left", v.Left)
		if m.cfg.OnChange != nil {
			m.cfg.OnChange(v)
		}
	}
	// Metadata updates wait for their broadcast: they go out from a
	// goroutine of their own, so that views keep flowing meanwhile.
	// So do the joins after the first: a member that does not answer
	// holds a join up for the TCP timeout.
	// A join in progress need not hold the leave up: it ends after the
	// member it dials.
	updates, stopUpdates := context.WithCancel(ctx)
	var metaWG, joinWG sync.WaitGroup
	metaWG.Go(func() { m.publishMeta(updates) })
	defer func() {
		stopUpdates()
		metaWG.Wait()
		joinWG.Wait()
	}()
	m.joinAgain(ctx)
	emit()
	joinWG.Go(func() { m.rejoinLoop(updates) })
	for {
		select {
		case <-ctx.Done():
			stopUpdates()
			metaWG.Wait()
			return m.stop()
		case <-m.ev.changed:
			emit()
		}
	}
}

// SetJoin replaces the members to join (see Config.Join), as the
// speakers come and go; the next join uses them.
func (m *Members) SetJoin(join []string) {
	join = slices.Clone(join)
	slices.Sort(join)
	m.joinMu.Lock()
	defer m.joinMu.Unlock()
	if !slices.Equal(join, m.join) {
		m.log.Info("members to join changed", "join", join)
	}
	m.join = join
}

// rejoinLoop joins again every RejoinInterval (a tick that comes while
// a join still runs is dropped).
func (m *Members) rejoinLoop(ctx context.Context) {
	tick := time.NewTicker(m.cfg.RejoinInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		m.joinAgain(ctx)
	}
}

// joinAgain joins the members rejoinTargets picks, one after the other
// until ctx ends.
func (m *Members) joinAgain(ctx context.Context) {
	m.joinMu.Lock()
	join := m.join
	m.joinMu.Unlock()
	var live []netip.AddrPort
	for _, n := range m.ml.Members() {
		if ip, ok := netip.AddrFromSlice(n.Addr); ok {
			live = append(live, netip.AddrPortFrom(ip.Unmap(), n.Port))
		}
	}
	alone := len(live) <= 1
	targets := rejoinTargets(join, alone, live, uint16(m.cfg.BindPort))
	if len(targets) == 0 {
		return
	}
	var (
		n    int
		errs []error
	)
	for _, t := range targets {
		if ctx.Err() != nil {
			return
		}
		c, err := m.ml.Join([]string{t})
		n += c
		errs = append(errs, err)
	}
	// As memberlist's own Join: one member contacted is a join, whatever
	// the others of the list (down, or gone) answered.
	err := errors.Join(errs...)
	switch {
	case n == 0 && alone:
		m.ev.setRefused(refusal(err))
		m.log.Warn("joining the cluster failed; retrying while alone", "join", targets, "error", err, "retry_in", m.cfg.RejoinInterval)
	case n == 0:
		// A member of the list that is down: expected, and tried again.
		m.log.Debug("joining members not seen live failed", "join", targets, "error", err)
	case alone:
		m.ev.setRefused("")
		m.log.Info("joined the cluster", "contacted", n, "failed", err)
	default:
		m.log.Info("joined members not seen live", "join", targets, "contacted", n, "failed", err)
	}
}

// rejoinTargets returns the entries of join to join again: all of them
// while the member is alone, else those that name an IP (and a port,
// port when they name none) that no live member has. Those are the
// members the failure detector declared dead or never saw, such as the
// other half of a split cluster, which itself may not be alone either.
// Entries that name a host are only joined while alone: their members
// cannot be told apart from the live ones.
func rejoinTargets(join []string, alone bool, live []netip.AddrPort, port uint16) []string {
	if alone {
		return slices.Clone(join)
	}
	var out []string
	for _, j := range join {
		ap, err := netip.ParseAddrPort(j)
		if err != nil {
			ip, err := netip.ParseAddr(j)
			if err != nil {
				continue
			}
			ap = netip.AddrPortFrom(ip, port)
		}
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		if !slices.Contains(live, ap) {
			out = append(out, j)
		}
	}
	return out
}

// publishMeta broadcasts the metadata whenever SetMeta changes it.
func (m *Members) publishMeta(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.metaSet:
		}
		if err := m.ml.UpdateNode(m.cfg.LeaveTimeout); err != nil {
			m.log.Debug("broadcasting metadata not confirmed", "error", err)
		}
	}
}

// refusal returns why a join failed when the others refused this
// member's credentials, or "" for any other failure (nobody there).
func refusal(err error) string {
	msg := err.Error()
	lower := strings.ToLower(msg)
	for _, s := range []string{"decrypt", "encryption", "label"} {
		if strings.Contains(lower, s) {
			return "the other members use another secret key or label: " + msg
		}
	}
	return ""
}

func (m *Members) stop() error {
	if !m.cfg.SkipLeave {
		// memberlist tells the others that a member went away, not
		// whether it failed or left; the metadata says it is leaving.
		m.ev.leaving.Store(true)
		if err := m.ml.UpdateNode(m.cfg.LeaveTimeout); err != nil {
			m.log.Warn("announcing the leave failed", "error", err)
		}
		if err := m.ml.Leave(m.cfg.LeaveTimeout); err != nil {
			m.log.Warn("leaving the cluster gracefully failed", "error", err)
		}
	}
	if err := m.ml.Shutdown(); err != nil {
		return fmt.Errorf("shutting down memberlist: %w", err)
	}
	m.log.Info("memberlist stopped", "left", !m.cfg.SkipLeave)
	return nil
}

func (v View) equal(o View) bool {
	return slices.Equal(v.Live, o.Live) && slices.Equal(v.Failed, o.Failed) && slices.Equal(v.Left, o.Left) &&
		maps.EqualFunc(v.Meta, o.Meta, bytes.Equal) && v.Refused == o.Refused
}

// metaLeaving is the node metadata of a member that is leaving.
const metaLeaving = "ironlb:leaving"

// events tracks the state of every member memberlist told about, and
// gives this member's metadata. memberlist calls its methods with its
// node lock held, so they only record and signal.
type events struct {
	changed chan struct{}
	// leaving is set when this member is about to leave.
	leaving atomic.Bool

	mu     sync.Mutex
	states map[string]memberlist.NodeStateType
	metas  map[string][]byte
	// meta is this member's own metadata.
	meta    []byte
	refused string
}

func newEvents() *events {
	return &events{changed: make(chan struct{}, 1), states: map[string]memberlist.NodeStateType{}, metas: map[string][]byte{}}
}

func (e *events) signal() {
	select {
	case e.changed <- struct{}{}:
	default:
	}
}

func (e *events) set(name string, s memberlist.NodeStateType, meta []byte) {
	e.mu.Lock()
	e.states[name] = s
	if s == memberlist.StateAlive {
		e.metas[name] = slices.Clone(meta)
	} else {
		delete(e.metas, name)
	}
	e.mu.Unlock()
	e.signal()
}

// setMeta sets this member's metadata and reports whether it changed.
func (e *events) setMeta(meta []byte) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if bytes.Equal(e.meta, meta) {
		return false
	}
	e.meta = slices.Clone(meta)
	return true
}

func (e *events) setRefused(why string) {
	e.mu.Lock()
	changed := e.refused != why
	e.refused = why
	e.mu.Unlock()
	if changed {
		e.signal()
	}
}

// NotifyJoin implements memberlist.EventDelegate.
func (e *events) NotifyJoin(n *memberlist.Node) { e.set(n.Name, memberlist.StateAlive, n.Meta) }

// NotifyLeave implements memberlist.EventDelegate. memberlist does not
// say whether the member failed or left (n.State is not kept up to
// date), so the metadata it last announced does.
func (e *events) NotifyLeave(n *memberlist.Node) {
	if string(n.Meta) == metaLeaving {
		e.set(n.Name, memberlist.StateLeft, nil)
		return
	}
	e.set(n.Name, memberlist.StateDead, nil)
}

// NotifyUpdate implements memberlist.EventDelegate.
func (e *events) NotifyUpdate(n *memberlist.Node) { e.set(n.Name, memberlist.StateAlive, n.Meta) }

// NodeMeta implements memberlist.Delegate.
func (e *events) NodeMeta(limit int) []byte {
	if e.leaving.Load() {
		return []byte(metaLeaving)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.meta)
}

// NotifyMsg implements memberlist.Delegate; no user messages are sent.
func (e *events) NotifyMsg([]byte) {}

// GetBroadcasts implements memberlist.Delegate.
func (e *events) GetBroadcasts(overhead, limit int) [][]byte { return nil }

// LocalState implements memberlist.Delegate.
func (e *events) LocalState(join bool) []byte { return nil }

// MergeRemoteState implements memberlist.Delegate.
func (e *events) MergeRemoteState(buf []byte, join bool) {}

func (e *events) view() View {
	e.mu.Lock()
	defer e.mu.Unlock()
	v := View{Live: []string{}, Refused: e.refused}
	for name, s := range e.states {
		switch s {
		case memberlist.StateDead:
			v.Failed = append(v.Failed, name)
		case memberlist.StateLeft:
			v.Left = append(v.Left, name)
		default:
			v.Live = append(v.Live, name)
			if meta := e.metas[name]; len(meta) > 0 && string(meta) != metaLeaving {
				if v.Meta == nil {
					v.Meta = map[string][]byte{}
				}
				v.Meta[name] = slices.Clone(meta)
			}
		}
	}
	if len(v.Live) > 1 {
		v.Refused = ""
	}
	slices.Sort(v.Live)
	slices.Sort(v.Failed)
	slices.Sort(v.Left)
	return v
}
