package ipam

import (
	"math"
	"math/bits"
	"net/netip"
)

// u128 is an unsigned 128-bit integer, enough to count and index the
// addresses of any IPv6 range without wrapping.
type u128 struct {
	hi, lo uint64
}

// u128FromAddr returns the address as a number. IPv4 addresses use the
// low 32 bits.
func u128FromAddr(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{lo: uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])}
	}
	b := a.As16()
	var n u128
	for i := range 8 {
		n.hi = n.hi<<8 | uint64(b[i])
		n.lo = n.lo<<8 | uint64(b[i+8])
	}
	return n
}

// addr4 returns the low 32 bits of n as an IPv4 address.
func (n u128) addr4() netip.Addr {
	v := uint32(n.lo)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// addr6 returns n as an IPv6 address.
func (n u128) addr6() netip.Addr {
	var b [16]byte
	for i := range 8 {
		b[7-i] = byte(n.hi >> (8 * i))
		b[15-i] = byte(n.lo >> (8 * i))
	}
	return netip.AddrFrom16(b)
}

func (n u128) cmp(m u128) int {
	switch {
	case n.hi < m.hi:
		return -1
	case n.hi > m.hi:
		return 1
	case n.lo < m.lo:
		return -1
	case n.lo > m.lo:
		return 1
	}
	return 0
}

func (n u128) less(m u128) bool { return n.cmp(m) < 0 }

func (n u128) isMax() bool { return n.hi == math.MaxUint64 && n.lo == math.MaxUint64 }

// add returns n+m, wrapping on overflow; callers rule overflow out first.
func (n u128) add(m u128) u128 {
	lo, carry := bits.Add64(n.lo, m.lo, 0)
	hi, _ := bits.Add64(n.hi, m.hi, carry)
	return u128{hi: hi, lo: lo}
}

// sub returns n-m, wrapping on underflow; callers rule underflow out first.
func (n u128) sub(m u128) u128 {
	lo, borrow := bits.Sub64(n.lo, m.lo, 0)
	hi, _ := bits.Sub64(n.hi, m.hi, borrow)
	return u128{hi: hi, lo: lo}
}

func (n u128) inc() u128 { return n.add(u128{lo: 1}) }

func (n u128) dec() u128 { return n.sub(u128{lo: 1}) }

// int64Sat returns n as an int64, saturating at math.MaxInt64.
func (n u128) int64Sat() int64 {
	if n.hi != 0 || n.lo > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n.lo)
}

func (n u128) and(m u128) u128 { return u128{hi: n.hi & m.hi, lo: n.lo & m.lo} }

func (n u128) xor(m u128) u128 { return u128{hi: n.hi ^ m.hi, lo: n.lo ^ m.lo} }

func (n u128) isZero() bool { return n.hi == 0 && n.lo == 0 }

// onesCount returns the number of bits set in n.
func (n u128) onesCount() int { return bits.OnesCount64(n.hi) + bits.OnesCount64(n.lo) }
