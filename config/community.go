package config

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/ironlb/ironlb/api/v1beta1"
)

// Community is a BGP community value: a standard community (RFC 1997),
// written a:b with two 16-bit halves, or a large community (RFC 8092),
// written large:a:b:c with three 32-bit parts. It is comparable, so it
// can key a map.
type Community struct {
	// Large tells a large community from a standard one.
	Large bool
	// Global is the upper half (usually an AS number) of a standard
	// community, or the global administrator of a large one.
	Global uint32
	// Local1 is the lower half of a standard community, or the first
	// local data part of a large one.
	Local1 uint32
	// Local2 is the second local data part of a large community, and 0
	// for a standard one.
	Local2 uint32
}

// largeMarker starts a large community, as in MetalLB.
const largeMarker = "large:"

// ParseCommunity parses a standard community "a:b" (each 0 to 65535) or
// a large community "large:a:b:c" (each 0 to 4294967295), in decimal.
func ParseCommunity(s string) (Community, error) {
	if rest, ok := strings.CutPrefix(s, largeMarker); ok {
		parts := strings.Split(rest, ":")
		if len(parts) != 3 {
			return Community{}, fmt.Errorf("large community %q: want large:a:b:c", s)
		}
		var v [3]uint32
		for i, part := range parts {
			n, err := parseDecimal(part, 32)
			if err != nil {
				return Community{}, fmt.Errorf("large community %q: part %d: %w", s, i+1, err)
			}
			v[i] = uint32(n)
		}
		return Community{Large: true, Global: v[0], Local1: v[1], Local2: v[2]}, nil
	}
	hi, lo, ok := strings.Cut(s, ":")
	if !ok || strings.Contains(lo, ":") {
		return Community{}, fmt.Errorf("community %q: want a:b or large:a:b:c", s)
	}
	a, err := parseDecimal(hi, 16)
	if err != nil {
		return Community{}, fmt.Errorf("community %q: first half: %w", s, err)
	}
	b, err := parseDecimal(lo, 16)
	if err != nil {
		return Community{}, fmt.Errorf("community %q: second half: %w", s, err)
	}
	return Community{Global: uint32(a), Local1: uint32(b)}, nil
}

// parseDecimal parses an unsigned decimal number of at most bits bits.
// Unlike strconv alone it accepts digits only, not signs or underscores.
func parseDecimal(s string, bits int) (uint64, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' }) {
		return 0, fmt.Errorf("%q is not a decimal number", s)
	}
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("%q is not a %d-bit number", s, bits)
	}
	return n, nil
}

// String returns the community as ParseCommunity reads it:
// "65000:100" or "large:65000:1:2".
func (c Community) String() string {
	if c.Large {
		return largeMarker + c.Value()
	}
	return c.Value()
}

// Value returns the community as FRR writes it: "65000:100" for a
// standard community (set community), "65000:1:2" for a large one (set
// large-community).
func (c Community) Value() string {
	if c.Large {
		return fmt.Sprintf("%d:%d:%d", c.Global, c.Local1, c.Local2)
	}
	return fmt.Sprintf("%d:%d", c.Global, c.Local1)
}

// compareCommunities orders standard communities before large ones,
// then by number.
func compareCommunities(a, b Community) int {
	rank := func(c Community) int {
		if c.Large {
			return 1
		}
		return 0
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.Global, b.Global),
		cmp.Compare(a.Local1, b.Local1), cmp.Compare(a.Local2, b.Local2))
}

// aliasDef is a community alias and where it was defined.
type aliasDef struct {
	value  Community
	object string // the Community object
	index  int    // position in its spec.communities
}

// communities builds the alias map from the Community objects, in name
// order. An alias defined twice is an error on every definition but the
// first.
func (b *builder) communities(objs []*v1beta1.Community) map[string]Community {
	checkNames(b, KindCommunity, objs)
	b.aliases = map[string]aliasDef{}
	out := map[string]Community{}
	for _, o := range objs {
		for i, a := range o.Spec.Communities {
			field := fmt.Sprintf("spec.communities[%d]", i)
			if a.Name == "" || strings.ContainsFunc(a.Name, unicode.IsSpace) {
				b.add(KindCommunity, o.Name, field+".name", "%q is not an alias: it must be non-empty without whitespace", a.Name)
				continue
			}
			v, err := ParseCommunity(a.Value)
			if err != nil {
				b.add(KindCommunity, o.Name, field+".value", "%v", err)
			}
			if first, ok := b.aliases[a.Name]; ok {
				b.add(KindCommunity, o.Name, field+".name", "alias %q is already defined by spec.communities[%d] of Community %q",
					a.Name, first.index, first.object)
				continue
			}
			b.aliases[a.Name] = aliasDef{value: v, object: o.Name, index: i}
			if err == nil {
				out[a.Name] = v
			}
		}
	}
	return out
}

// community resolves one entry of a BGPAdvertisement's communities:
// an alias first, as in MetalLB, then a literal value.
func (b *builder) community(s string) (Community, error) {
	if a, ok := b.aliases[s]; ok {
		return a.value, nil
	}
	c, err := ParseCommunity(s)
	if err == nil {
		return c, nil
	}
	if !strings.Contains(s, ":") {
		return Community{}, fmt.Errorf("no Community object defines the alias %q", s)
	}
	return Community{}, err
}
