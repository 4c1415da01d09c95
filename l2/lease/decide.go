package lease

import (
	"errors"
	"time"
)

// Defaults of Timing.
const (
	DefaultDuration      = 5 * time.Second
	DefaultRenewDeadline = 4 * time.Second
	DefaultRetryPeriod   = time.Second
)

// Timing is how Leases are held.
type Timing struct {
	// Duration is how long a Lease that is not renewed stays held: a
	// node that saw the same record for this long takes the Lease. It
	// is written into the Lease (leaseDurationSeconds, rounded up).
	Duration time.Duration
	// RenewDeadline is how long the holder answers after it sent its
	// last successful renewal. It is shorter than Duration, so the
	// holder stops before any other node may take the Lease; the
	// difference absorbs clocks that run at different rates.
	RenewDeadline time.Duration
	// RetryPeriod is how often the holder renews, and how often a node
	// the election picked reads a Lease held by another or retries a
	// failed write.
	RetryPeriod time.Duration
}

// DefaultTiming returns the default Timing.
func DefaultTiming() Timing {
	return Timing{Duration: DefaultDuration, RenewDeadline: DefaultRenewDeadline, RetryPeriod: DefaultRetryPeriod}
}

// Validate checks that 0 < RetryPeriod < RenewDeadline < Duration.
func (t Timing) Validate() error {
	switch {
	case t.RetryPeriod <= 0:
		return errors.New("the lease retry period must be positive")
	case t.RenewDeadline <= t.RetryPeriod:
		return errors.New("the lease renew deadline must be longer than the retry period")
	case t.Duration <= t.RenewDeadline:
		return errors.New("the lease duration must be longer than the renew deadline")
	}
	return nil
}

// Record is a Lease as a node read or wrote it.
type Record struct {
	// Holder is the node that holds the Lease; "" when it was released
	// or does not exist.
	Holder string
	// Version is the Lease's resourceVersion; "" when it does not exist.
	Version string
	// Duration is the leaseDurationSeconds the holder wrote; 0 when
	// unset.
	Duration time.Duration
}

// Known is what this node knows of one Lease. The times are this
// node's clock.
type Known struct {
	// Seen is set once the Lease was read or written: Record is valid.
	Seen   bool
	Record Record
	// ObservedAt is when this node first had Record: when the answer
	// that carried it arrived, so not before its holder wrote it.
	ObservedAt time.Time
	// RenewedAt is when this node sent the write that made Record,
	// with this node as its holder; zero when this node did not write
	// Record (it took over the Lease of a former run of itself, say).
	RenewedAt time.Time
	// TriedAt is when this node last sent a read or write of the
	// Lease, whether it worked or not; zero before the first.
	TriedAt time.Time
	// Failed is set when that read or write failed.
	Failed bool
}

// Input is what Decide decides from, for one IP.
type Input struct {
	// Node is this node's name.
	Node string
	// Elected is set when the election gives the IP to this node.
	Elected bool
	// Announcing is set while the announcer still answers for the IP:
	// a Lease is released only once it stopped.
	Announcing bool
	Lease      Known
	Now        time.Time
}

// Action is what to do with a Lease.
type Action int

// The actions, in the order a Lease goes through them.
const (
	// None: nothing now.
	None Action = iota
	// Read the Lease.
	Read
	// Acquire the Lease: create it, or write this node as its holder
	// over the record last read.
	Acquire
	// Renew the Lease this node holds.
	Renew
	// Release the Lease this node holds: write no holder.
	Release
)

func (a Action) String() string {
	switch a {
	case Read:
		return "read"
	case Acquire:
		return "acquire"
	case Renew:
		return "renew"
	case Release:
		return "release"
	}
	return "none"
}

// Decision is what Decide says.
type Decision struct {
	// Answer is set when the node may answer ARP and NDP for the IP.
	Answer bool
	// Action is what to do with the Lease now.
	Action Action
	// Wake is when to decide again by itself; zero: only when an input
	// changes.
	Wake time.Time
}

// Decide says whether this node answers for one IP and what it does
// with the IP's Lease. It does no I/O; the same input gives the same
// Decision.
//
//   - A node answers only while it holds the Lease, the election gives
//     it the IP, and less than RenewDeadline passed since it sent its
//     last successful renewal. It renews every RetryPeriod.
//   - A holder the election no longer picks stops answering, and
//     releases the Lease once the announcer stopped.
//   - A node the election picks takes a Lease that is released or
//     missing at once, and one held by another node only when it saw the
//     same record for the Lease's duration (the longer of Timing's and
//     the holder's); meanwhile it reads it every RetryPeriod.
//   - A node the election does not pick leaves other nodes' Leases
//     alone.
//
// A failed read or write is retried after RetryPeriod.
func Decide(t Timing, in Input) Decision {
	k := in.Lease
	// A failed read or write is retried after RetryPeriod; the holder
	// renews, and a node waiting for another's Lease reads it, every
	// RetryPeriod.
	period := k.TriedAt.Add(t.RetryPeriod)
	retry := time.Time{}
	if k.Failed {
		retry = period
	}
	at := func(when time.Time, a Action) Decision {
		if when.IsZero() || !in.Now.Before(when) {
			return Decision{Action: a}
		}
		return Decision{Wake: when}
	}
	mine := k.Seen && k.Record.Holder == in.Node
	switch {
	case !in.Elected:
		if !mine || in.Announcing {
			// The announcer reports when it stopped.
			return Decision{}
		}
		return at(retry, Release)
	case !k.Seen:
		return at(retry, Read)
	case mine:
		if k.RenewedAt.IsZero() {
			// A former run of this node held it: renew before
			// answering.
			return at(retry, Renew)
		}
		end := k.RenewedAt.Add(t.RenewDeadline)
		d := at(period, Renew)
		if in.Now.Before(end) {
			d.Answer = true
			d.Wake = earlier(d.Wake, end)
		}
		return d
	case k.Record.Holder == "":
		return at(retry, Acquire)
	}
	// Held by another node: taken once unchanged for its duration.
	if !in.Now.Before(k.ObservedAt.Add(max(t.Duration, k.Record.Duration))) {
		return at(retry, Acquire)
	}
	return at(period, Read)
}

func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
