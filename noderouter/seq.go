package noderouter

import (
	"cmp"
	"slices"
	"strconv"
)

// Stable numbers: what ToFRR numbers (prefix-list entries, the entries
// it adds to an outbound route-map) is numbered by a hash of the entry's
// own content, not by its rank among the others, so that adding,
// changing or removing one object leaves the numbers of every other
// entry alone. Two contents that hash to the same number (a collision)
// are resolved deterministically: the smaller content, in the order of
// its key, keeps the number and the other takes the next free one. Only
// the entries of such a collision can move when the set changes.

// slot is an entry to number: key is its content in canonical form.
type slot[T any] struct {
	key string
	val T
	seq uint32
}

// number gives each slot a number in [lo, hi]: the hash of its key, or
// on a collision the next free number after it (wrapping around), the
// slots taken in key order. It returns the slots sorted by number; it
// panics if there are more slots than numbers, which the callers rule
// out.
func number[T any](slots []slot[T], lo, hi uint32) []slot[T] {
	slices.SortFunc(slots, func(a, b slot[T]) int { return cmp.Compare(a.key, b.key) })
	span := uint64(hi) - uint64(lo) + 1
	if uint64(len(slots)) > span {
		panic("noderouter: more entries than sequence numbers")
	}
	taken := make(map[uint32]bool, len(slots))
	for i := range slots {
		off := uint64(fnv32a(slots[i].key)) % span
		for taken[uint32(uint64(lo)+off)] {
			off = (off + 1) % span
		}
		slots[i].seq = uint32(uint64(lo) + off)
		taken[slots[i].seq] = true
	}
	slices.SortFunc(slots, func(a, b slot[T]) int { return cmp.Compare(a.seq, b.seq) })
	return slots
}

// Prefix-list entries are numbered in [seqListLo, seqListHi], all of
// FRR's range but for the numbers FRR itself gives to entries written
// without one (multiples of 5 from 5 up, which stay far below).
const (
	seqListLo = 1 << 20
	seqListHi = 1<<32 - 1
)

// selectorKey is the canonical form of a prefix-list entry's content.
func selectorKey(s PrefixSelector) string {
	return s.Prefix.String() + " ge " + strconv.FormatUint(uint64(s.GE), 10) + " le " + strconv.FormatUint(uint64(s.LE), 10)
}

// fnv32a is the 32-bit FNV-1a hash of s (as hash/fnv computes it,
// without allocating).
func fnv32a(s string) uint32 {
	const offset, prime = 2166136261, 16777619
	h := uint32(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= prime
	}
	return h
}
