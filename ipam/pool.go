package ipam

import (
	"net/netip"

	"github.com/google/btree"
)

// Pool is an address pool as the caller configured it.
type Pool struct {
	// Name identifies the pool; it must be unique and non-empty.
	Name string
	// Ranges are the pool's addresses, of either family; they must not
	// overlap each other nor the ranges of other pools.
	Ranges []Range
	// AvoidBuggyIPs keeps IPv4 addresses ending in .0 and .255 out of
	// allocation, because some firmwares take them for network or
	// broadcast addresses.
	AvoidBuggyIPs bool
}

// pool is the bookkeeping of one Pool.
type pool struct {
	name       string
	avoidBuggy bool
	fams       [2]poolFamily
}

// poolFamily is the part of a pool in one IP family.
type poolFamily struct {
	spans []*span // sorted by first address
	// open holds the indexes into spans of the spans with a free
	// address, so first fit skips full ranges in O(log ranges).
	open *btree.BTreeG[int]
}

func intLess(a, b int) bool { return a < b }

// lowestFree returns the lowest free address of the family in the pool.
func (pf *poolFamily) lowestFree() (netip.Addr, bool) {
	if pf.open == nil {
		return netip.Addr{}, false
	}
	i, ok := pf.open.Min()
	if !ok {
		return netip.Addr{}, false
	}
	return pf.spans[i].lowestFree(), true
}

// mark records the free address a of span s as used.
func (pf *poolFamily) mark(s *span, a netip.Addr) {
	s.mark(a)
	if s.full() {
		pf.open.Delete(s.index)
	}
}

// free records the used address a of span s as free.
func (pf *poolFamily) free(s *span, a netip.Addr) {
	s.free(a)
	pf.open.ReplaceOrInsert(s.index)
}
