package members

import (
	"fmt"
	"time"
)

// Profile holds memberlist's failure-detection and gossip timings. See
// FastLAN for what they mean together.
type Profile struct {
	// Name of the profile, for logs.
	Name string
	// ProbeInterval is how often a member probes another, chosen in
	// turn from a shuffled list.
	ProbeInterval time.Duration
	// ProbeTimeout is how long a direct probe waits for its ack
	// before indirect probes start; about the 99th percentile RTT.
	ProbeTimeout time.Duration
	// IndirectChecks is how many members probe a member that missed a
	// direct probe, on the prober's behalf.
	IndirectChecks int
	// SuspicionMult sets how long a suspect member has to refute:
	// SuspicionMult * max(1, log10(members)) * ProbeInterval.
	SuspicionMult int
	// SuspicionMaxTimeoutMult bounds the longer timeout used while
	// memberlist waits for other members to confirm a suspicion; it
	// has no effect when SuspicionMult is 2 or less (no confirmations
	// are awaited).
	SuspicionMaxTimeoutMult int
	// AwarenessMaxMultiplier is how far a member that notices it is
	// slow (missed acks, refutations) stretches its own probe interval
	// and timeouts, so that it does not declare healthy members dead.
	AwarenessMaxMultiplier int
	// GossipInterval and GossipNodes: every GossipInterval, pending
	// messages (suspect, dead, alive) go to GossipNodes random members.
	GossipInterval time.Duration
	GossipNodes    int
	// RetransmitMult: each message is retransmitted
	// RetransmitMult * log(members+1) times.
	RetransmitMult int
	// GossipToTheDeadTime is how long dead members still get gossip,
	// so that they can refute.
	GossipToTheDeadTime time.Duration
	// PushPullInterval is how often a member syncs its full state with
	// a random member over TCP.
	PushPullInterval time.Duration
	// TCPTimeout bounds TCP connections: joins, push/pull and the TCP
	// fallback probe.
	TCPTimeout time.Duration
	// DeadNodeReclaimTime is after how long a dead member's name may
	// come back with another address (a restarted pod).
	DeadNodeReclaimTime time.Duration
}

// FastLAN is the default profile, tuned to fail over well under a second
// on a LAN of up to a few dozen nodes.
//
// Detection: a dead member is first probed, by one of the others, after
// about one ProbeInterval (100ms) on average; that probe fails after one
// more ProbeInterval, including the indirect and TCP probes; the member
// is then suspect for SuspicionMult * max(1, log10(n)) * ProbeInterval
// (200ms up to 10 members, 300ms at 30); the dead message then reaches
// the others within a GossipInterval or two (50-100ms). Expect 300-500ms
// from the failure to every member seeing it dead, rarely up to 800ms
// when the probe order is unlucky; BenchmarkFailureDetection measured a
// mean of 383ms and a worst of 449ms over 20 crashes (3 members on
// loopback).
//
// False positives: a live member is declared dead when it answers no
// probe for about 100ms and cannot refute within the suspicion time,
// i.e. when the speaker stalls for 300ms or more (a CPU limit that
// throttles it, an overloaded node, a burst of packet loss). Its IPs
// then move to another node and back when it refutes. Run the speaker
// without a tight CPU limit, or use LAN on busy or virtualized
// networks. Lifeguard's awareness (AwarenessMaxMultiplier) keeps a slow
// member from declaring others dead.
func FastLAN() Profile {
	return Profile{
		Name:                    "fast-lan",
		ProbeInterval:           100 * time.Millisecond,
		ProbeTimeout:            50 * time.Millisecond,
		IndirectChecks:          3,
		SuspicionMult:           2,
		SuspicionMaxTimeoutMult: 3,
		AwarenessMaxMultiplier:  8,
		GossipInterval:          50 * time.Millisecond,
		GossipNodes:             3,
		RetransmitMult:          3,
		GossipToTheDeadTime:     10 * time.Second,
		PushPullInterval:        10 * time.Second,
		TCPTimeout:              time.Second,
		DeadNodeReclaimTime:     10 * time.Second,
	}
}

// LAN is memberlist's own LAN profile: failures are seen after about 5
// to 7 seconds, with little risk of false positives.
func LAN() Profile {
	return Profile{
		Name:                    "lan",
		ProbeInterval:           time.Second,
		ProbeTimeout:            500 * time.Millisecond,
		IndirectChecks:          3,
		SuspicionMult:           4,
		SuspicionMaxTimeoutMult: 6,
		AwarenessMaxMultiplier:  8,
		GossipInterval:          200 * time.Millisecond,
		GossipNodes:             3,
		RetransmitMult:          4,
		GossipToTheDeadTime:     30 * time.Second,
		PushPullInterval:        30 * time.Second,
		TCPTimeout:              10 * time.Second,
		DeadNodeReclaimTime:     30 * time.Second,
	}
}

// ProfileNamed returns the profile of that name: "fast-lan" or "lan".
func ProfileNamed(name string) (Profile, error) {
	for _, p := range []Profile{FastLAN(), LAN()} {
		if p.Name == name {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("unknown memberlist profile %q (want fast-lan or lan)", name)
}

func (p Profile) validate() error {
	switch {
	case p.ProbeInterval <= 0 || p.ProbeTimeout <= 0 || p.GossipInterval <= 0 || p.TCPTimeout <= 0:
		return fmt.Errorf("profile %q: intervals and timeouts must be positive", p.Name)
	case p.ProbeTimeout >= p.ProbeInterval:
		return fmt.Errorf("profile %q: ProbeTimeout %v must be shorter than ProbeInterval %v", p.Name, p.ProbeTimeout, p.ProbeInterval)
	case p.SuspicionMult < 1 || p.SuspicionMaxTimeoutMult < 1 || p.GossipNodes < 1 || p.RetransmitMult < 1 || p.AwarenessMaxMultiplier < 1:
		return fmt.Errorf("profile %q: multipliers and counts must be at least 1", p.Name)
	case p.IndirectChecks < 0 || p.PushPullInterval < 0 || p.GossipToTheDeadTime < 0 || p.DeadNodeReclaimTime < 0:
		return fmt.Errorf("profile %q: negative value", p.Name)
	}
	return nil
}
