package noderouter

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	"github.com/ironlb/ironlb/config"
)

// The orders of the model's lists.

// compareVRF puts the default VRF ("") first, then the others by name.
func compareVRF(a, b string) int { return strings.Compare(a, b) }

// comparePrefix orders IPv4 before IPv6, then by address, then shorter
// first.
func comparePrefix(a, b netip.Prefix) int {
	return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
}

// compareNeighbor puts unnumbered neighbors first, by interface, then
// the others by address (IPv4 first).
func compareNeighbor(a, b Neighbor) int {
	switch {
	case !a.Address.IsValid() && !b.Address.IsValid():
		return strings.Compare(a.Interface, b.Interface)
	case !a.Address.IsValid():
		return -1
	case !b.Address.IsValid():
		return 1
	}
	return a.Address.Compare(b.Address)
}

// compareSelector orders selectors by prefix, then ge, then le.
func compareSelector(a, b PrefixSelector) int {
	return cmp.Or(comparePrefix(a.Prefix, b.Prefix), cmp.Compare(a.GE, b.GE), cmp.Compare(a.LE, b.LE))
}

// compareRaw orders raw snippets by priority, then by origin.
func compareRaw(a, b Raw) int {
	return cmp.Or(cmp.Compare(a.Priority, b.Priority), strings.Compare(a.Origin.Kind, b.Origin.Kind), strings.Compare(a.Origin.Name, b.Origin.Name))
}

// compareCommunity puts standard communities before large ones, then
// orders by number.
func compareCommunity(a, b config.Community) int {
	rank := func(c config.Community) int {
		if c.Large {
			return 1
		}
		return 0
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.Global, b.Global), cmp.Compare(a.Local1, b.Local1), cmp.Compare(a.Local2, b.Local2))
}

// sortCommunities sorts and compacts cs in place; nil stays nil.
func sortCommunities(cs []config.Community) []config.Community {
	if len(cs) == 0 {
		return nil
	}
	slices.SortFunc(cs, compareCommunity)
	return slices.Compact(cs)
}
