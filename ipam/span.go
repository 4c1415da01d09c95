package ipam

import (
	"net/netip"

	"github.com/google/btree"
)

// span does the bookkeeping of one range of a pool. It works on ranks:
// the position of an address among the addresses the pool may hand out.
// Without avoidBuggyIPs the rank is the address itself; with it, an IPv4
// address ranks among the addresses that end neither in .0 nor in .255,
// so ranks stay consecutive across /24 boundaries and a full /24 costs
// nothing to skip.
//
// The used addresses are kept as maximal runs of consecutive ranks in a
// B-tree ordered by start, so the lowest free address, marking and
// freeing all cost O(log runs), never a scan of the range.
type span struct {
	r     Range
	pool  *pool
	index int  // position among the pool's spans of the family
	buggy bool // avoid IPv4 addresses ending in .0 and .255
	empty bool // no address of r may be handed out
	lo    u128 // rank of the first usable address
	hi    u128 // rank of the last usable address
	runs  *btree.BTreeG[run]
	used  uint64 // number of used addresses
}

// run is a maximal block of consecutive used ranks, first <= last.
type run struct {
	first, last u128
}

func runLess(a, b run) bool { return a.first.less(b.first) }

// btreeDegree suits small and large trees alike.
const btreeDegree = 16

func newSpan(r Range, p *pool, avoidBuggy bool) *span {
	s := &span{r: r, pool: p, buggy: avoidBuggy && r.First.Is4()}
	if !s.buggy {
		s.lo, s.hi = u128FromAddr(r.First), u128FromAddr(r.Last)
		return s
	}
	// With IPv4 everything fits in a uint64, and the rank of the address
	// after Last cannot wrap.
	from := buggyRank(u128FromAddr(r.First).lo)
	to := buggyRank(u128FromAddr(r.Last).lo + 1)
	if from == to {
		s.empty = true
		return s
	}
	s.lo, s.hi = u128{lo: from}, u128{lo: to - 1}
	return s
}

// buggyRank returns how many IPv4 addresses below v end neither in .0
// nor in .255. v may be 1<<32.
func buggyRank(v uint64) uint64 {
	low := min(max(int64(v&0xff)-1, 0), 254)
	return (v>>8)*254 + uint64(low)
}

// isBuggy reports whether a is an IPv4 address that some firmwares
// mistake for a network or broadcast address.
func isBuggy(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	last := a.As4()[3]
	return last == 0 || last == 255
}

// usable reports whether a, which r contains, may be handed out.
func (s *span) usable(a netip.Addr) bool {
	return !s.buggy || !isBuggy(a)
}

// rank returns the rank of a usable address of the span.
func (s *span) rank(a netip.Addr) u128 {
	n := u128FromAddr(a)
	if s.buggy {
		return u128{lo: buggyRank(n.lo)}
	}
	return n
}

// addr returns the address of a rank of the span.
func (s *span) addr(n u128) netip.Addr {
	if s.buggy {
		v := n.lo/254<<8 | (n.lo%254 + 1)
		return u128{lo: v}.addr4()
	}
	return addrOf(s.r.First.Is4(), n)
}

// covering returns the run that contains rank n, if any.
func (s *span) covering(n u128) (run, bool) {
	if s.runs == nil {
		return run{}, false
	}
	var found run
	ok := false
	s.runs.DescendLessOrEqual(run{first: n}, func(r run) bool {
		found, ok = r, !r.last.less(n)
		return false
	})
	return found, ok
}

// full reports whether no address of the span is free.
func (s *span) full() bool {
	if s.empty {
		return true
	}
	r, ok := s.covering(s.lo)
	return ok && r.last == s.hi
}

// lowestFree returns the lowest free address; the span must not be full.
func (s *span) lowestFree() netip.Addr {
	if r, ok := s.covering(s.lo); ok {
		return s.addr(r.last.inc())
	}
	return s.addr(s.lo)
}

// isUsed reports whether the usable address a is marked used.
func (s *span) isUsed(a netip.Addr) bool {
	_, ok := s.covering(s.rank(a))
	return ok
}

// mark records the free, usable address a as used, merging runs.
func (s *span) mark(a netip.Addr) {
	if s.runs == nil {
		s.runs = btree.NewG(btreeDegree, runLess)
	}
	n := s.rank(a)
	cur := run{first: n, last: n}
	s.runs.DescendLessOrEqual(run{first: n}, func(prev run) bool {
		if prev.last.inc() == n {
			cur.first = prev.first
		}
		return false
	})
	if n != s.hi {
		if next, ok := s.runs.Get(run{first: n.inc()}); ok {
			s.runs.Delete(next)
			cur.last = next.last
		}
	}
	s.runs.ReplaceOrInsert(cur)
	s.used++
}

// free records the used address a as free, splitting its run.
func (s *span) free(a netip.Addr) {
	n := s.rank(a)
	r, ok := s.covering(n)
	if !ok {
		return
	}
	s.runs.Delete(r)
	if r.first != n {
		s.runs.ReplaceOrInsert(run{first: r.first, last: n.dec()})
	}
	if r.last != n {
		s.runs.ReplaceOrInsert(run{first: n.inc(), last: r.last})
	}
	s.used--
}

// available returns how many usable addresses are free.
func (s *span) available() u128 {
	if s.empty {
		return u128{}
	}
	spare := s.hi.sub(s.lo) // size - 1
	used := u128{lo: s.used}
	if spare.less(used) {
		return u128{}
	}
	left := spare.sub(used)
	if left.isMax() {
		// All of IPv6, nothing used: saturate rather than wrap.
		return left
	}
	return left.inc()
}
