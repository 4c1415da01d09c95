package announcer

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

	"github.com/ironlb/ironlb/l2/election"
	"github.com/ironlb/ironlb/l2/iface"
)

// Defaults of Config.
const (
	DefaultHandoverGrace = 5 * time.Second
	DefaultRetryMin      = 500 * time.Millisecond
	DefaultRetryMax      = 30 * time.Second
)

// DefaultBurst returns the default times, after an IP is gained on an
// interface, at which it is announced: at once, then 0.1, 0.5, 1 and 2
// seconds later, in case the first packets are lost.
func DefaultBurst() []time.Duration {
	return []time.Duration{0, 100 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}
}

// Responder answers neighbor requests on one interface for the IPs it
// owns (arp.Responder, ndp.Responder). SetOwned and Announce are called
// while Run runs.
type Responder interface {
	// Run answers until ctx ends, then returns nil; an error means the
	// responder stopped and must be opened again.
	Run(ctx context.Context) error
	SetOwned(ips []netip.Addr) error
	// Announce sends one gratuitous announcement of ip.
	Announce(ip netip.Addr) error
}

// Opener opens a responder for one protocol on a link; the responder
// calls the hooks.
type Opener interface {
	Open(link iface.Link, proto Protocol, hooks Hooks) (Responder, error)
}

// Hooks are what a responder reports, with the owned IP concerned. They
// must not block.
type Hooks struct {
	// OnRequest is called for every request received for an owned IP.
	OnRequest func(ip netip.Addr)
	// OnAnswer is called for every answer sent.
	OnAnswer func(ip netip.Addr)
}

// Config configures an Announcer.
type Config struct {
	// Node is this node's name, logged with every message.
	Node string
	// Opener opens the responders; Sockets{} in production.
	Opener Opener
	// Registerer gets the metrics; nil registers none.
	Registerer prometheus.Registerer
	// Logger gets the logs, with the keys node, iface, ip and
	// protocol; nil discards them.
	Logger *slog.Logger
	// Exclude lists the name patterns (path.Match) of the interfaces
	// not used unless an advertisement names them; nil means
	// iface.DefaultExclude(), an empty list excludes nothing.
	Exclude []string
	// ExcludeNames are regular expressions of the names of interfaces
	// never used, even when an advertisement names them: MetalLB's
	// announcedInterfacesToExclude, unanchored as there. SetLinks drops
	// the links they match (see DropExcluded).
	ExcludeNames []*regexp.Regexp
	// Burst are the times after an IP is gained on an interface at
	// which it is announced, ascending; nil means DefaultBurst().
	Burst []time.Duration
	// Refresh, when positive, announces every IP again at this
	// interval after its burst: periodic gratuitous ARP and unsolicited
	// NA (the speaker's --gratuitous-arp-interval).
	Refresh time.Duration
	// HandoverGrace is how long the node keeps announcing an IP it
	// announced and now only hands over (see election.Assignment);
	// 0 means DefaultHandoverGrace, a negative value stops at once.
	HandoverGrace time.Duration
	// RetryMin and RetryMax bound the backoff before a responder that
	// failed is opened again; 0 means the defaults.
	RetryMin, RetryMax time.Duration
	// OnStatus, when set, gets the new status whenever it changes
	// (see Status). It is called from Run's goroutine and should
	// return quickly.
	OnStatus func([]IPStatus)
}

// Announcer keeps one responder per interface and protocol for the IPs
// this node owns, and announces an IP when it gains it. Update and
// SetLinks feed it; Run acts.
type Announcer struct {
	cfg Config
	log *slog.Logger
	m   *metrics

	wake chan struct{}

	mu         sync.Mutex
	assignment election.Assignment
	links      []iface.Link
	status     []IPStatus
	// again is set by Reannounce until Run acted on it.
	again bool
}

// New checks the configuration, registers the metrics and returns an
// Announcer.
func New(cfg Config) (*Announcer, error) {
	if cfg.Opener == nil {
		return nil, errors.New("L2 announcer: Opener is required")
	}
	if cfg.Exclude == nil {
		cfg.Exclude = iface.DefaultExclude()
	}
	if err := iface.ValidatePatterns(cfg.Exclude); err != nil {
		return nil, fmt.Errorf("L2 announcer: %w", err)
	}
	if cfg.Burst == nil {
		cfg.Burst = DefaultBurst()
	}
	if len(cfg.Burst) == 0 {
		return nil, errors.New("L2 announcer: Burst is empty")
	}
	for i, d := range cfg.Burst {
		if d < 0 || (i > 0 && d < cfg.Burst[i-1]) {
			return nil, fmt.Errorf("L2 announcer: Burst %v is not ascending from 0", cfg.Burst)
		}
	}
	if cfg.Refresh < 0 {
		return nil, fmt.Errorf("L2 announcer: Refresh %v is negative", cfg.Refresh)
	}
	if cfg.HandoverGrace == 0 {
		cfg.HandoverGrace = DefaultHandoverGrace
	}
	if cfg.RetryMin == 0 {
		cfg.RetryMin = DefaultRetryMin
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = DefaultRetryMax
	}
	if cfg.RetryMin < 0 || cfg.RetryMax < cfg.RetryMin {
		return nil, fmt.Errorf("L2 announcer: retry backoff from %v to %v", cfg.RetryMin, cfg.RetryMax)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Announcer{cfg: cfg, log: log.With("node", cfg.Node), m: m, wake: make(chan struct{}, 1)}, nil
}

// Update sets what this node announces: election.Result.For(node). An
// assignment of another node is refused and logged.
func (a *Announcer) Update(as election.Assignment) {
	if as.Node != a.cfg.Node {
		a.log.Error("ignoring the assignment of another node", "assigned", as.Node)
		return
	}
	a.mu.Lock()
	a.assignment = as
	a.mu.Unlock()
	a.poke()
}

// SetLinks sets the node's links, as an iface.Watcher reports them,
// less those ExcludeNames match. Until the first call nothing is
// announced.
func (a *Announcer) SetLinks(links []iface.Link) {
	a.mu.Lock()
	a.links = DropExcluded(links, a.cfg.ExcludeNames)
	a.mu.Unlock()
	a.poke()
}

// Status returns the IPs the node should announce now, sorted, with the
// interfaces they are announced on. The Layer 2 status of the Services
// is made from it; an IP without interfaces is one the node cannot
// serve.
func (a *Announcer) Status() []IPStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.status)
}

// Reannounce announces every IP the node owns again, with the burst of a
// gained IP, on every interface it is announced on; the IPs it only
// hands over are left alone. Call it after Update when the membership
// may have been split and merged again: a client that followed another
// node meanwhile comes back to this one. The IPs of the assignment of
// the last Update count, also when Run has not acted on it yet.
func (a *Announcer) Reannounce() {
	a.mu.Lock()
	a.again = true
	a.mu.Unlock()
	a.poke()
}

func (a *Announcer) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// inputs returns the assignment, the links and whether to announce
// everything again, which it clears.
func (a *Announcer) inputs() (election.Assignment, []iface.Link, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	again := a.again
	a.again = false
	return a.assignment, a.links, again
}

func (a *Announcer) setStatus(st []IPStatus) {
	a.mu.Lock()
	a.status = st
	a.mu.Unlock()
	if a.cfg.OnStatus != nil {
		a.cfg.OnStatus(slices.Clone(st))
	}
}

// Run opens, feeds and closes the responders until ctx ends, then
// closes them all and returns nil. Call it once.
func (a *Announcer) Run(ctx context.Context) error {
	l := newLoop(a)
	respCtx, stopAll := context.WithCancel(ctx)
	defer func() {
		stopAll()
		l.wg.Wait()
	}()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		now := time.Now()
		next := l.reconcile(respCtx, now)
		var fire <-chan time.Time
		if !next.IsZero() {
			timer.Reset(next.Sub(now))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-a.wake:
		case <-fire:
		case e := <-l.exits:
			l.exited(e, time.Now())
		}
		timer.Stop()
	}
}

// DropExcluded returns the links whose names none of res matches, in
// their order; links itself is not changed.
func DropExcluded(links []iface.Link, res []*regexp.Regexp) []iface.Link {
	return slices.DeleteFunc(slices.Clone(links), func(l iface.Link) bool {
		return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(l.Name) })
	})
}
