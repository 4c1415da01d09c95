package announcer

import (
	"context"
	"errors"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/ironlb/ironlb/l2/election"
)

// running is an open responder.
type running struct {
	r      Responder
	cancel context.CancelFunc
	gen    int
	opened time.Time
	// ips are the IPs last given to SetOwned, sorted.
	ips []netip.Addr
}

// backoff delays opening a slot again after a failure.
type backoff struct {
	at    time.Time
	delay time.Duration
}

// burst schedules the announcements of one IP on one responder.
type burst struct {
	start time.Time
	step  int
	next  time.Time
}

type burstKey struct {
	s  slot
	ip netip.Addr
}

// exit reports that a responder's Run returned.
type exit struct {
	s   slot
	gen int
	err error
}

// loop is the state of Announcer.Run; only Run's goroutine touches it.
type loop struct {
	a          *Announcer
	responders map[slot]*running
	backoffs   map[slot]backoff
	bursts     map[burstKey]*burst
	// handoverUntil is when the node stops announcing an IP it hands
	// over.
	handoverUntil map[netip.Addr]time.Time
	// prev are the IPs the node announced after the last round.
	prev map[netip.Addr]bool
	// handedOver are the IPs the node handed over after the last round.
	handedOver map[netip.Addr]bool
	lastStatus []IPStatus
	gen        int
	exits      chan exit
	wg         sync.WaitGroup
}

func newLoop(a *Announcer) *loop {
	return &loop{
		a:             a,
		responders:    map[slot]*running{},
		backoffs:      map[slot]backoff{},
		bursts:        map[burstKey]*burst{},
		handoverUntil: map[netip.Addr]time.Time{},
		prev:          map[netip.Addr]bool{},
		handedOver:    map[netip.Addr]bool{},
		exits:         make(chan exit),
	}
}

// earliest returns the earlier of two wake-up times; zero means none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// reconcile brings the responders in line with the inputs at now, sends
// the announcements due and returns when it needs to run again (zero
// for no timer).
func (l *loop) reconcile(ctx context.Context, now time.Time) time.Time {
	as, links, again := l.a.inputs()
	want, handover, wake := l.wanted(as.Owned, as.Handover, now)
	p := makePlan(want, links, l.a.cfg.Exclude)

	for _, s := range sortedSlots(l.responders) {
		if _, ok := p.slots[s]; !ok {
			l.close(s)
		}
	}
	for s := range l.backoffs {
		if _, ok := p.slots[s]; !ok {
			delete(l.backoffs, s)
		}
	}
	for _, s := range sortedSlots(p.slots) {
		run := l.responders[s]
		if run == nil {
			if b, ok := l.backoffs[s]; ok && now.Before(b.at) {
				wake = earliest(wake, b.at)
				continue
			}
			if run = l.open(ctx, s, p, now); run == nil {
				wake = earliest(wake, l.backoffs[s].at)
				continue
			}
		}
		l.setOwned(s, run, p.slots[s], now)
	}
	if again {
		l.restartBursts(handover, now)
	}
	l.handoverBursts(handover, now)
	wake = earliest(wake, l.announce(now))

	ips := map[slot][]netip.Addr{}
	for s, run := range l.responders {
		ips[s] = run.ips
	}
	if st := status(want, handover, ips); !sameStatus(st, l.lastStatus) {
		l.lastStatus = st
		l.a.setStatus(st)
	}
	l.prev = map[netip.Addr]bool{}
	for ip := range want {
		l.prev[ip] = true
	}
	return wake
}

// wanted returns the IPs to announce with their allowed interfaces: the
// owned ones, and the handed over ones the node announced already, until
// their grace period ends; and the earliest end of a grace period.
func (l *loop) wanted(owned, handover []election.Target, now time.Time) (map[netip.Addr][]string, map[netip.Addr]bool, time.Time) {
	want := map[netip.Addr][]string{}
	for _, t := range owned {
		want[t.IP.Unmap()] = t.Interfaces
	}
	kept := map[netip.Addr]bool{}
	var wake time.Time
	inHandover := map[netip.Addr]bool{}
	for _, t := range handover {
		ip := t.IP.Unmap()
		if _, ok := want[ip]; ok {
			continue
		}
		inHandover[ip] = true
		if !l.prev[ip] || l.a.cfg.HandoverGrace < 0 {
			continue
		}
		until, ok := l.handoverUntil[ip]
		if !ok {
			until = now.Add(l.a.cfg.HandoverGrace)
			l.handoverUntil[ip] = until
			l.a.log.Info("handing over", "ip", ip, "until", until)
		}
		if !now.Before(until) {
			continue
		}
		want[ip] = t.Interfaces
		kept[ip] = true
		wake = earliest(wake, until)
	}
	for ip := range l.handoverUntil {
		if !inHandover[ip] || !l.prev[ip] && !kept[ip] {
			delete(l.handoverUntil, ip)
		}
	}
	return want, kept, wake
}

// open opens the responder of a slot and starts it, or records the
// failure and returns nil.
func (l *loop) open(ctx context.Context, s slot, p plan, now time.Time) *running {
	log := l.a.log.With("iface", s.Name, "protocol", s.Proto)
	r, err := l.a.cfg.Opener.Open(p.links[s], s.Proto, Hooks{
		OnRequest: func(ip netip.Addr) { l.a.m.requestsReceived.WithLabelValues(ip.String()).Inc() },
		OnAnswer: func(ip netip.Addr) {
			l.a.m.answered.WithLabelValues(string(s.Proto), s.Name, ip.String()).Inc()
			l.a.m.responsesSent.WithLabelValues(ip.String()).Inc()
		},
	})
	if err != nil {
		l.failed(s, now, err)
		return nil
	}
	rctx, cancel := context.WithCancel(ctx)
	l.gen++
	run := &running{r: r, cancel: cancel, gen: l.gen, opened: now}
	l.responders[s] = run
	l.wg.Add(1)
	go func(gen int) {
		defer l.wg.Done()
		err := r.Run(rctx)
		if err == nil && rctx.Err() == nil {
			err = errors.New("responder stopped")
		}
		select {
		case l.exits <- exit{s: s, gen: gen, err: err}:
		case <-ctx.Done():
		}
	}(run.gen)
	log.Info("opened responder")
	return run
}

// close stops the responder of a slot and forgets its announcements.
func (l *loop) close(s slot) {
	run := l.responders[s]
	run.cancel()
	delete(l.responders, s)
	for k := range l.bursts {
		if k.s == s {
			delete(l.bursts, k)
		}
	}
	l.a.m.announced.DeleteLabelValues(string(s.Proto), s.Name)
	log := l.a.log.With("iface", s.Name, "protocol", s.Proto)
	for _, ip := range run.ips {
		log.Info("stopped announcing", "ip", ip)
	}
	log.Info("closed responder")
}

// exited handles a responder whose Run returned.
func (l *loop) exited(e exit, now time.Time) {
	run := l.responders[e.s]
	if run == nil || run.gen != e.gen {
		return // closed on purpose
	}
	l.close(e.s)
	if now.Sub(run.opened) > l.a.cfg.RetryMax {
		delete(l.backoffs, e.s) // it ran well for a while: start over
	}
	l.failed(e.s, now, e.err)
}

// failed records a failure of a slot and when to try again.
func (l *loop) failed(s slot, now time.Time, err error) {
	b := l.backoffs[s]
	b.delay = min(max(2*b.delay, l.a.cfg.RetryMin), l.a.cfg.RetryMax)
	b.at = now.Add(b.delay)
	l.backoffs[s] = b
	l.a.m.failures.WithLabelValues(string(s.Proto), s.Name).Inc()
	l.a.log.Warn("responder failed", "iface", s.Name, "protocol", s.Proto, "error", err, "retry_in", b.delay)
}

// setOwned gives a responder its IPs and starts the announcements of
// those it gained.
func (l *loop) setOwned(s slot, run *running, ips []netip.Addr, now time.Time) {
	gained, lost := diff(run.ips, ips)
	if len(gained) == 0 && len(lost) == 0 {
		return
	}
	log := l.a.log.With("iface", s.Name, "protocol", s.Proto)
	if err := run.r.SetOwned(ips); err != nil {
		log.Warn("setting the IPs of a responder failed", "error", err)
	}
	run.ips = ips
	l.a.m.announced.WithLabelValues(string(s.Proto), s.Name).Set(float64(len(ips)))
	for _, ip := range lost {
		delete(l.bursts, burstKey{s, ip})
		log.Info("stopped announcing", "ip", ip)
	}
	for _, ip := range gained {
		l.startBurst(s, ip, now)
		log.Info("announcing", "ip", ip)
	}
}

// startBurst schedules the announcements of ip on the responder of s
// from now on, replacing any burst of it still running.
func (l *loop) startBurst(s slot, ip netip.Addr, now time.Time) {
	l.bursts[burstKey{s, ip}] = &burst{start: now, next: now.Add(l.a.cfg.Burst[0])}
}

// restartBursts starts the burst of every IP the responders announce
// again at now, but for those only handed over.
func (l *loop) restartBursts(handover map[netip.Addr]bool, now time.Time) {
	n := 0
	for s, run := range l.responders {
		for _, ip := range run.ips {
			if handover[ip] {
				continue
			}
			l.startBurst(s, ip, now)
			n++
		}
	}
	l.a.log.Info("announcing the owned IPs again", "announcements", n)
}

// handoverBursts drops the announcements still due for the IPs the
// node hands over: it answers for them until the grace period ends, but
// only the new owner announces them, or the clients would follow each
// node in turn. An IP the node owns again before the grace period ended
// gets its burst anew: its responder kept it, so it is no gain, but the
// clients may have followed the node it was handed to.
func (l *loop) handoverBursts(handover map[netip.Addr]bool, now time.Time) {
	for k := range l.bursts {
		if handover[k.ip] {
			delete(l.bursts, k)
		}
	}
	for s, run := range l.responders {
		for _, ip := range run.ips {
			if l.handedOver[ip] && !handover[ip] {
				l.startBurst(s, ip, now)
			}
		}
	}
	l.handedOver = handover
}

// announce sends the announcements due at now and returns when the next
// one is due.
func (l *loop) announce(now time.Time) time.Time {
	var wake time.Time
	keys := slices.SortedFunc(maps.Keys(l.bursts), func(a, b burstKey) int {
		if c := compareSlots(a.s, b.s); c != 0 {
			return c
		}
		return a.ip.Compare(b.ip)
	})
	for _, k := range keys {
		b := l.bursts[k]
		if now.Before(b.next) {
			wake = earliest(wake, b.next)
			continue
		}
		if err := l.responders[k.s].r.Announce(k.ip); err != nil {
			l.a.log.Warn("announcing failed", "iface", k.s.Name, "protocol", k.s.Proto, "ip", k.ip, "error", err)
		} else {
			l.a.m.announcements.WithLabelValues(string(k.s.Proto), k.s.Name, k.ip.String()).Inc()
			l.a.m.gratuitousSent.WithLabelValues(k.ip.String()).Inc()
			l.a.log.Debug("announced", "iface", k.s.Name, "protocol", k.s.Proto, "ip", k.ip, "step", b.step)
		}
		b.step++
		switch {
		case b.step < len(l.a.cfg.Burst):
			b.next = b.start.Add(l.a.cfg.Burst[b.step])
		case l.a.cfg.Refresh > 0:
			b.next = now.Add(l.a.cfg.Refresh)
		default:
			delete(l.bursts, k)
			continue
		}
		wake = earliest(wake, b.next)
	}
	return wake
}

func sortedSlots[V any](m map[slot]V) []slot {
	return slices.SortedFunc(maps.Keys(m), compareSlots)
}
