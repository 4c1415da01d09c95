package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/ironlb/ironlb/l2/election"
)

// Store reads and writes the Leases: a *Client.
type Store interface {
	Get(ctx context.Context, ip netip.Addr) (Record, error)
	Acquire(ctx context.Context, ip netip.Addr, last Record) (Record, error)
	Renew(ctx context.Context, ip netip.Addr, last Record) (Record, error)
	Release(ctx context.Context, ip netip.Addr, last Record) (Record, error)
	Delete(ctx context.Context, ip netip.Addr, last Record) error
	List(ctx context.Context) ([]Listed, error)
}

// DefaultSweepInterval is KeeperConfig.SweepInterval's default.
const DefaultSweepInterval = 5 * time.Minute

// maxInFlight bounds the reads and writes a Keeper runs at once.
const maxInFlight = 8

// KeeperConfig configures a Keeper.
type KeeperConfig struct {
	// Node is this node's name. Required.
	Node string
	// Store reads and writes the Leases. Required.
	Store Store
	// Timing is how Leases are held; it must be valid.
	Timing Timing
	// Apply gets the assignment the node may announce: the elected IPs
	// whose Lease it holds, and no Handover (two nodes never answer for
	// one IP). The announcer's Update. Required.
	Apply func(election.Assignment)
	// Announcing returns the IPs the announcer answers for now (its
	// Status). Required.
	Announcing func() []netip.Addr
	// OnChange, when set, is called when the IPs the node answers for
	// change, and after a Lease was released. It must not block.
	OnChange func()
	// SweepInterval is how often the Leases of IPs no Layer 2 Service
	// has are looked for, besides whenever the Services' IPs change; 0
	// means DefaultSweepInterval.
	SweepInterval time.Duration
	// Log logs the changes of ownership; nil discards.
	Log *slog.Logger
	// Now returns the time; nil means time.Now.
	Now func() time.Time
}

// Keeper holds the Leases of the IPs the election gives this node and
// passes on to the announcer only the IPs whose Lease it holds. Update
// feeds it; Run acts.
type Keeper struct {
	cfg  KeeperConfig
	log  *slog.Logger
	wake chan struct{}

	mu      sync.Mutex
	elected election.Assignment
	// wanted are the IPs of every Layer 2 Service; nil until Update
	// said so.
	wanted   map[netip.Addr]bool
	leases   map[netip.Addr]*entry
	answered []netip.Addr
	// stale are the Leases of IPs no Service has, as a sweep found them,
	// with when: they are deleted once unchanged for a lease duration.
	stale     map[netip.Addr]staleLease
	sweepDue  bool
	lastSweep time.Time
	// released is set when a Lease was released since the last step.
	released bool
	// applied is the assignment last given to Apply: a step that changes
	// nothing (most are renewals) does not wake the announcer.
	applied election.Assignment
}

// entry is one Lease the keeper follows.
type entry struct {
	known    Known
	inFlight bool
}

type staleLease struct {
	record Record
	seen   time.Time
}

// NewKeeper checks the configuration and returns a Keeper.
func NewKeeper(cfg KeeperConfig) (*Keeper, error) {
	var errs []error
	if cfg.Node == "" {
		errs = append(errs, errors.New("lease keeper: Node is required"))
	}
	if cfg.Store == nil || cfg.Apply == nil || cfg.Announcing == nil {
		errs = append(errs, errors.New("lease keeper: Store, Apply and Announcing are required"))
	}
	if err := cfg.Timing.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("lease keeper: %w", err))
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.SweepInterval < 0 {
		errs = append(errs, errors.New("lease keeper: the sweep interval must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Keeper{
		cfg: cfg, log: log, wake: make(chan struct{}, 1),
		leases: map[netip.Addr]*entry{}, stale: map[netip.Addr]staleLease{},
	}, nil
}

// Update sets what the election gives this node, and the IPs of every
// Layer 2 Service (nil: unknown; the Leases of the others are deleted).
func (k *Keeper) Update(as election.Assignment, wanted []netip.Addr) {
	k.mu.Lock()
	k.elected = as
	if wanted != nil {
		set := make(map[netip.Addr]bool, len(wanted))
		for _, ip := range wanted {
			set[ip.Unmap()] = true
		}
		if !maps.Equal(set, k.wanted) {
			k.sweepDue = true
		}
		k.wanted = set
	}
	k.mu.Unlock()
	k.Poke()
}

// Poke makes the keeper decide again: the announcer's status changed.
func (k *Keeper) Poke() {
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// Releasing reports whether the node holds a Lease the election no
// longer gives it, which it is about to release.
func (k *Keeper) Releasing() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	elected := k.electedSet()
	for ip, e := range k.leases {
		if e.known.Seen && e.known.Record.Holder == k.cfg.Node && !elected[ip] {
			return true
		}
	}
	return false
}

// Answered returns the IPs the node may answer for now, sorted.
func (k *Keeper) Answered() []netip.Addr {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.answered)
}

func (k *Keeper) electedSet() map[netip.Addr]bool {
	out := make(map[netip.Addr]bool, len(k.elected.Owned))
	for _, t := range k.elected.Owned {
		out[t.IP.Unmap()] = true
	}
	return out
}

// result is the outcome of one read or write.
type result struct {
	ip     netip.Addr
	action Action
	sent   time.Time
	record Record
	err    error
}

// Run holds the Leases until ctx ends, then returns nil; it does not
// release them (a graceful stop releases them through the election
// first). Call it once.
func (k *Keeper) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	results := make(chan result, maxInFlight)
	sweeps := make(chan []Listed, 1)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	sweeping := false // one sweep at a time: sweeps holds one result
	for {
		next, start := k.step()
		for _, op := range start {
			wg.Go(func() { results <- k.do(ctx, op) })
		}
		if !sweeping && k.takeSweep() {
			sweeping = true
			wg.Go(func() {
				listed, err := k.cfg.Store.List(ctx)
				if err != nil {
					k.log.Warn("listing the layer2 leases", "error", err)
					listed = nil
				}
				sweeps <- listed
			})
		}
		var fire <-chan time.Time
		if !next.IsZero() {
			timer.Reset(max(next.Sub(k.cfg.Now()), 0))
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case <-k.wake:
		case <-fire:
		case r := <-results:
			k.record(r)
		case listed := <-sweeps:
			sweeping = false
			for _, ip := range k.sweep(listed) {
				wg.Go(func() {
					if err := k.cfg.Store.Delete(ctx, ip.ip, ip.record); err != nil {
						k.log.Warn("deleting the lease of a gone service ip", "ip", ip.ip, "error", err)
					}
				})
			}
		}
		timer.Stop()
	}
}

// op is a read or write to run.
type op struct {
	ip     netip.Addr
	action Action
	last   Record
}

// step decides every Lease, applies the IPs to answer for and returns
// the reads and writes to start and when to step again.
func (k *Keeper) step() (time.Time, []op) {
	announcing := map[netip.Addr]bool{}
	for _, ip := range k.cfg.Announcing() {
		announcing[ip.Unmap()] = true
	}
	k.mu.Lock()
	now := k.cfg.Now()
	elected := k.electedSet()
	for ip := range elected {
		if k.leases[ip] == nil {
			k.leases[ip] = &entry{}
		}
	}
	var (
		next     time.Time
		ops      []op
		answer   = map[netip.Addr]bool{}
		inFlight = 0
	)
	for _, e := range k.leases {
		if e.inFlight {
			inFlight++
		}
	}
	for _, ip := range slices.SortedFunc(maps.Keys(k.leases), netip.Addr.Compare) {
		e := k.leases[ip]
		mine := e.known.Seen && e.known.Record.Holder == k.cfg.Node
		if !elected[ip] && !mine && !e.inFlight {
			delete(k.leases, ip) // another node's business
			continue
		}
		d := Decide(k.cfg.Timing, Input{Node: k.cfg.Node, Elected: elected[ip], Announcing: announcing[ip], Lease: e.known, Now: now})
		answer[ip] = d.Answer
		next = earlier(next, d.Wake)
		if d.Action == None || e.inFlight {
			continue
		}
		if inFlight >= maxInFlight {
			next = earlier(next, now.Add(k.cfg.Timing.RetryPeriod/10))
			continue
		}
		e.inFlight = true
		inFlight++
		ops = append(ops, op{ip: ip, action: d.Action, last: e.known.Record})
	}
	as := election.Assignment{Node: k.elected.Node}
	var answered []netip.Addr
	for _, t := range k.elected.Owned {
		if answer[t.IP.Unmap()] {
			as.Owned = append(as.Owned, t)
			answered = append(answered, t.IP.Unmap())
		}
	}
	changed := !slices.Equal(answered, k.answered) || k.released
	k.answered, k.released = answered, false
	apply := as.Node != "" && !reflect.DeepEqual(as, k.applied)
	if apply {
		k.applied = as
	}
	if len(k.stale) > 0 {
		next = earlier(next, k.lastSweep.Add(k.cfg.Timing.Duration))
	}
	next = earlier(next, k.lastSweep.Add(k.cfg.SweepInterval))
	k.mu.Unlock()
	if apply {
		k.cfg.Apply(as)
	}
	if changed {
		k.log.Debug("layer2 lease answers changed", "ips", len(answered))
		if k.cfg.OnChange != nil {
			k.cfg.OnChange()
		}
	}
	return next, ops
}

// do runs one read or write.
func (k *Keeper) do(ctx context.Context, o op) result {
	ctx, cancel := context.WithTimeout(ctx, k.cfg.Timing.RenewDeadline)
	defer cancel()
	r := result{ip: o.ip, action: o.action, sent: k.cfg.Now()}
	switch o.action {
	case Read:
		r.record, r.err = k.cfg.Store.Get(ctx, o.ip)
	case Acquire:
		r.record, r.err = k.cfg.Store.Acquire(ctx, o.ip, o.last)
	case Renew:
		r.record, r.err = k.cfg.Store.Renew(ctx, o.ip, o.last)
	case Release:
		r.record, r.err = k.cfg.Store.Release(ctx, o.ip, o.last)
	}
	return r
}

// record takes the outcome of a read or write.
func (k *Keeper) record(r result) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.cfg.Now()
	e := k.leases[r.ip]
	if e == nil {
		return
	}
	e.inFlight = false
	kn := &e.known
	wasFailing := kn.Failed
	kn.TriedAt, kn.Failed = r.sent, false
	wasMine := kn.Seen && kn.Record.Holder == k.cfg.Node
	switch {
	case r.err == nil || errors.Is(r.err, ErrChanged):
		if errors.Is(r.err, ErrChanged) {
			k.log.Debug("layer2 lease changed under a write", "ip", r.ip, "action", r.action.String())
		}
		if !kn.Seen || kn.Record != r.record {
			kn.ObservedAt = now
		}
		kn.Seen, kn.Record = true, r.record
		if r.err == nil && (r.action == Acquire || r.action == Renew) {
			kn.RenewedAt = r.sent
		} else if r.record.Holder != k.cfg.Node {
			kn.RenewedAt = time.Time{}
		}
	default:
		kn.Failed = true
		// Retried every period: warn once per run of failures.
		level := slog.LevelWarn
		if wasFailing {
			level = slog.LevelDebug
		}
		k.log.Log(context.Background(), level, "layer2 lease read or write failed", "ip", r.ip, "action", r.action.String(), "error", r.err)
	}
	isMine := kn.Seen && kn.Record.Holder == k.cfg.Node
	switch {
	case !wasMine && isMine:
		k.log.Info("acquired layer2 lease", "ip", r.ip)
	case wasMine && !isMine && r.action == Release:
		k.log.Info("released layer2 lease", "ip", r.ip)
		k.released = true
	case wasMine && !isMine:
		k.log.Warn("lost layer2 lease", "ip", r.ip, "holder", kn.Record.Holder)
	}
}

// takeSweep reports whether a sweep is due now, and marks it started.
func (k *Keeper) takeSweep() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.cfg.Now()
	if k.wanted == nil {
		return false
	}
	due := k.sweepDue || !now.Before(k.lastSweep.Add(k.cfg.SweepInterval)) ||
		(len(k.stale) > 0 && !now.Before(k.lastSweep.Add(k.cfg.Timing.Duration)))
	if !due {
		return false
	}
	k.sweepDue, k.lastSweep = false, now
	return true
}

// gone is a Lease to delete.
type gone struct {
	ip     netip.Addr
	record Record
}

// sweep returns the Leases of IPs no Layer 2 Service has that may be
// deleted: released ones, this node's, and those unchanged since an
// earlier sweep at least a lease duration ago (their holder stopped
// answering long since). A nil list is a failed sweep.
func (k *Keeper) sweep(listed []Listed) []gone {
	k.mu.Lock()
	defer k.mu.Unlock()
	if listed == nil {
		return nil
	}
	now := k.cfg.Now()
	var out []gone
	stale := map[netip.Addr]staleLease{}
	for _, l := range listed {
		if k.wanted[l.IP] {
			continue
		}
		if e := k.leases[l.IP]; e != nil && e.inFlight {
			continue
		}
		prev, seen := k.stale[l.IP]
		switch {
		case l.Record.Holder == "" || l.Record.Holder == k.cfg.Node && !slices.Contains(k.answered, l.IP):
			out = append(out, gone{ip: l.IP, record: l.Record})
		case seen && prev.record == l.Record && !now.Before(prev.seen.Add(max(k.cfg.Timing.Duration, l.Record.Duration))):
			out = append(out, gone{ip: l.IP, record: l.Record})
		case seen && prev.record == l.Record:
			stale[l.IP] = prev
		default:
			stale[l.IP] = staleLease{record: l.Record, seen: now}
		}
	}
	k.stale = stale
	return out
}
