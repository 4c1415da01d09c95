package members

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/netip"
	"slices"
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
	// speakers' addresses. Joining is retried every RejoinInterval
	// while this member is alone.
	Join []string
	// SecretKey encrypts and authenticates all traffic (AES-GCM); it
	// must be 16, 24 or 32 bytes (see KeyFromSecret). Members with
	// another key are not admitted. Required unless AllowInsecure.
	SecretKey []byte
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
	// RejoinInterval: while alone, the member tries Join again this
	// often; 0 means DefaultRejoinInterval.
	RejoinInterval time.Duration
	// LeaveTimeout bounds the wait for the leave message to go out
	// when Run ends; 0 means DefaultLeaveTimeout.
	LeaveTimeout time.Duration
	// SkipLeave makes Run end without announcing the leave, as a crash
	// would: the others then detect the failure. For tests.
	SkipLeave bool
	// Logger gets the member's logs and memberlist's, with the key
	// node; nil discards them.
	Logger *slog.Logger
	// OnChange gets the view of the cluster whenever it changes,
	// starting with this member alone. It is called from Run's
	// goroutine and should return quickly.
	OnChange func(View)
}

// View is what a member knows of the cluster. Each list is sorted.
type View struct {
	// Live members: alive or suspected, including this one.
	Live []string
	// Failed members were declared dead by the failure detector.
	Failed []string
	// Left members left gracefully.
	Left []string
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

	m := &Members{cfg: cfg, log: lg, ev: newEvents()}
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
	c.SecretKey = m.cfg.SecretKey
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
	emit()
	m.join()
	rejoin := time.NewTicker(m.cfg.RejoinInterval)
	defer rejoin.Stop()
	for {
		select {
		case <-ctx.Done():
			return m.stop()
		case <-m.ev.changed:
			emit()
		case <-rejoin.C:
			if m.ml.NumMembers() <= 1 {
				m.join()
			}
		}
	}
}

func (m *Members) join() {
	if len(m.cfg.Join) == 0 {
		return
	}
	n, err := m.ml.Join(m.cfg.Join)
	if err != nil {
		m.log.Warn("joining the cluster failed; retrying while alone", "join", m.cfg.Join, "error", err, "retry_in", m.cfg.RejoinInterval)
		return
	}
	m.log.Info("joined the cluster", "contacted", n)
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
	return slices.Equal(v.Live, o.Live) && slices.Equal(v.Failed, o.Failed) && slices.Equal(v.Left, o.Left)
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
}

func newEvents() *events {
	return &events{changed: make(chan struct{}, 1), states: map[string]memberlist.NodeStateType{}}
}

func (e *events) set(name string, s memberlist.NodeStateType) {
	e.mu.Lock()
	e.states[name] = s
	e.mu.Unlock()
	select {
	case e.changed <- struct{}{}:
	default:
	}
}

// NotifyJoin implements memberlist.EventDelegate.
func (e *events) NotifyJoin(n *memberlist.Node) { e.set(n.Name, memberlist.StateAlive) }

// NotifyLeave implements memberlist.EventDelegate. memberlist does not
// say whether the member failed or left (n.State is not kept up to
// date), so the metadata it last announced does.
func (e *events) NotifyLeave(n *memberlist.Node) {
	if string(n.Meta) == metaLeaving {
		e.set(n.Name, memberlist.StateLeft)
		return
	}
	e.set(n.Name, memberlist.StateDead)
}

// NotifyUpdate implements memberlist.EventDelegate.
func (e *events) NotifyUpdate(n *memberlist.Node) { e.set(n.Name, memberlist.StateAlive) }

// NodeMeta implements memberlist.Delegate.
func (e *events) NodeMeta(limit int) []byte {
	if e.leaving.Load() {
		return []byte(metaLeaving)
	}
	return nil
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
	v := View{Live: []string{}}
	for name, s := range e.states {
		switch s {
		case memberlist.StateDead:
			v.Failed = append(v.Failed, name)
		case memberlist.StateLeft:
			v.Left = append(v.Left, name)
		default:
			v.Live = append(v.Live, name)
		}
	}
	slices.Sort(v.Live)
	slices.Sort(v.Failed)
	slices.Sort(v.Left)
	return v
}
