package ipam

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Range is an inclusive span of addresses of one family, First <= Last.
type Range struct {
	First, Last netip.Addr
}

// ParseRange parses a CIDR ("192.0.2.0/24", "2001:db8::/64") or an
// inclusive first-last range ("192.0.2.10-192.0.2.20", spaces around the
// dash allowed). It rejects empty input, mixed families, first > last,
// zones, IPv4-mapped IPv6 addresses and prefixes with host bits set. Its
// errors name the reason; the caller adds which object and field.
func ParseRange(s string) (Range, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return Range{}, errors.New("empty range")
	}
	if first, last, ok := strings.Cut(in, "-"); ok {
		return parseFirstLast(s, strings.TrimSpace(first), strings.TrimSpace(last))
	}
	if !strings.Contains(in, "/") {
		return Range{}, fmt.Errorf("range %q: want a CIDR or a first-last range", s)
	}
	p, err := netip.ParsePrefix(in)
	if err != nil {
		return Range{}, fmt.Errorf("range %q: %w", s, err)
	}
	if p.Addr().Is4In6() {
		return Range{}, fmt.Errorf("range %q: IPv4-mapped IPv6 prefixes are not allowed", s)
	}
	if m := p.Masked(); m != p {
		return Range{}, fmt.Errorf("range %q: prefix has host bits set (did you mean %s?)", s, m)
	}
	return rangeOfPrefix(p), nil
}

func parseFirstLast(s, first, last string) (Range, error) {
	if first == "" || last == "" {
		return Range{}, fmt.Errorf("range %q: want both a first and a last address", s)
	}
	var r Range
	for _, part := range []struct {
		name string
		text string
		addr *netip.Addr
	}{{"first", first, &r.First}, {"last", last, &r.Last}} {
		a, err := netip.ParseAddr(part.text)
		if err != nil {
			return Range{}, fmt.Errorf("range %q: %s address: %w", s, part.name, err)
		}
		if a.Zone() != "" {
			return Range{}, fmt.Errorf("range %q: %s address has a zone", s, part.name)
		}
		if a.Is4In6() {
			return Range{}, fmt.Errorf("range %q: %s address is an IPv4-mapped IPv6 address", s, part.name)
		}
		*part.addr = a
	}
	if r.First.Is4() != r.Last.Is4() {
		return Range{}, fmt.Errorf("range %q: first and last address are of different families", s)
	}
	if r.Last.Less(r.First) {
		return Range{}, fmt.Errorf("range %q: first address is after last address", s)
	}
	return r, nil
}

// rangeOfPrefix returns the addresses of a masked prefix.
func rangeOfPrefix(p netip.Prefix) Range {
	first := p.Addr()
	n := u128FromAddr(first)
	bitLen := first.BitLen()
	for i := p.Bits(); i < bitLen; i++ {
		k := uint(bitLen - 1 - i)
		if k >= 64 {
			n.hi |= 1 << (k - 64)
		} else {
			n.lo |= 1 << k
		}
	}
	return Range{First: first, Last: addrOf(first.Is4(), n)}
}

// addrOf turns a number back into an address of the given family.
func addrOf(is4 bool, n u128) netip.Addr {
	if is4 {
		return n.addr4()
	}
	return n.addr6()
}

// validate reports why r is not a usable range.
func (r Range) validate() error {
	switch {
	case !r.First.IsValid() || !r.Last.IsValid():
		return fmt.Errorf("range %s: missing address", r)
	case r.First.Zone() != "" || r.Last.Zone() != "":
		return fmt.Errorf("range %s: addresses with zones are not allowed", r)
	case r.First.Is4In6() || r.Last.Is4In6():
		return fmt.Errorf("range %s: IPv4-mapped IPv6 addresses are not allowed", r)
	case r.First.Is4() != r.Last.Is4():
		return fmt.Errorf("range %s: first and last address are of different families", r)
	case r.Last.Less(r.First):
		return fmt.Errorf("range %s: first address is after last address", r)
	}
	return nil
}

// Contains reports whether a is inside r.
func (r Range) Contains(a netip.Addr) bool {
	return a.IsValid() && a.Is4() == r.First.Is4() && r.First.Compare(a) <= 0 && a.Compare(r.Last) <= 0
}

// Family returns the IP family of the range.
func (r Range) Family() Family {
	if r.First.Is4() {
		return IPv4
	}
	return IPv6
}

// String returns the range as a CIDR when it is exactly one prefix, and
// as "first-last" otherwise. ParseRange reads it back.
func (r Range) String() string {
	if !r.First.IsValid() || !r.Last.IsValid() {
		return fmt.Sprintf("%s-%s", r.First, r.Last)
	}
	if p, ok := r.prefix(); ok {
		return p.String()
	}
	return r.First.String() + "-" + r.Last.String()
}

// prefix returns the prefix whose addresses are exactly r, if any.
func (r Range) prefix() (netip.Prefix, bool) {
	if r.First.Is4() != r.Last.Is4() {
		return netip.Prefix{}, false
	}
	first, last := u128FromAddr(r.First), u128FromAddr(r.Last)
	host := first.xor(last)
	if !host.and(host.inc()).isZero() || !first.and(host).isZero() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(r.First, r.First.BitLen()-host.onesCount()), true
}

// NamedRange is a range with the name of what it belongs to, for Overlaps.
type NamedRange struct {
	Name  string
	Range Range
}

// Overlaps reports a pair of ranges that share at least one address. Of
// all overlapping pairs it picks the one whose later-starting range starts
// lowest, so the answer does not depend on map order or luck; a comes
// before b in the input. The ranges must be valid.
func Overlaps(ranges []NamedRange) (a, b NamedRange, ok bool) {
	order := make([]int, len(ranges))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int {
		return cmp.Or(ranges[i].Range.First.Compare(ranges[j].Range.First), cmp.Compare(i, j))
	})
	reach := -1 // the range seen so far that ends last
	for _, i := range order {
		if reach >= 0 && ranges[i].Range.First.Compare(ranges[reach].Range.Last) <= 0 {
			if reach < i {
				return ranges[reach], ranges[i], true
			}
			return ranges[i], ranges[reach], true
		}
		if reach < 0 || ranges[reach].Range.Last.Less(ranges[i].Range.Last) {
			reach = i
		}
	}
	return NamedRange{}, NamedRange{}, false
}
