package frr

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/ironlb/ironlb/config"
)

// Names of the route-maps Build makes. The outbound map of a peer is
// routeMapOutPrefix followed by the BGPPeer's name; the origin map of a
// class is routeMapClassPrefix followed by its advertisements' names.
const (
	routeMapIn          = "ironlb-in"
	routeMapOutPrefix   = "ironlb-out-"
	routeMapClassPrefix = "ironlb-adv-"
	// routeMapClassHashed starts the origin map of a class whose name
	// would be too long: a hash of the advertisements' names follows.
	routeMapClassHashed = "ironlb-advh-"
	// maxClassName bounds the length of an origin map's name.
	maxClassName = 128
)

// Route-map sequence numbers: an outbound map's entry for a class uses
// the class's tag, and its last entry denies the rest.
const (
	seqDenyRest = 65535
	// maxTag is the highest class tag, below seqDenyRest.
	maxTag = seqDenyRest - 1
)

// tokenProblem says why s cannot be one word of an frr.conf line, or
// returns "".
func tokenProblem(s string) string {
	switch {
	case s == "":
		return "is empty"
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return "contains whitespace or a control character"
	case s[0] == '!' || s[0] == '#':
		return "starts with a comment character"
	}
	return ""
}

// nameProblem says why s is not a Kubernetes object name (a DNS
// subdomain: lowercase letters, digits, '-' and '.'), which Build puts
// into route-map names, or returns "".
func nameProblem(s string) string {
	switch {
	case s == "":
		return "the name is empty"
	case len(s) > 253:
		return "the name is longer than 253 bytes"
	case strings.ContainsFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') }):
		return fmt.Sprintf("%q is not a valid object name (lowercase letters, digits, '-' and '.')", s)
	}
	return ""
}

// maxBFDProfileName is the longest BFD profile name FRR accepts.
const maxBFDProfileName = 64

// bfdNameProblem says why FRR rejects s as a BFD profile name, or
// returns "".
func bfdNameProblem(s string) string {
	if why := tokenProblem(s); why != "" {
		return fmt.Sprintf("profile name %q %s", s, why)
	}
	if len(s) > maxBFDProfileName {
		return fmt.Sprintf("profile name %q is longer than the %d bytes FRR accepts", s, maxBFDProfileName)
	}
	return ""
}

// maxPasswordLen is the longest TCP MD5 key Linux takes.
const maxPasswordLen = 80

// passwordProblem says why s cannot be a session password, without
// quoting it, or returns "".
func passwordProblem(s string) string {
	switch {
	case len(s) > maxPasswordLen:
		return fmt.Sprintf("is longer than %d bytes", maxPasswordLen)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return "contains whitespace or a control character"
	}
	return ""
}

// isLogLevel reports whether s is one of FRR's log levels.
func isLogLevel(s string) bool {
	switch s {
	case "emergencies", "alerts", "critical", "errors", "warnings", "notifications", "informational", "debugging":
		return true
	}
	return false
}

// communityStrings returns the values of a set route-map line the way
// FRR writes them back: standard communities in numeric order with the
// well-known ones by name, large communities in numeric order, each
// once.
func communityStrings(cs []config.Community) (standard, large []string) {
	sorted := slices.Clone(cs)
	slices.SortFunc(sorted, func(a, b config.Community) int {
		return cmp.Or(cmp.Compare(a.Global, b.Global), cmp.Compare(a.Local1, b.Local1), cmp.Compare(a.Local2, b.Local2))
	})
	sorted = slices.Compact(sorted)
	for _, c := range sorted {
		if c.Large {
			large = append(large, c.Value())
		} else {
			standard = append(standard, standardName(c))
		}
	}
	return standard, large
}

// standardName returns FRR's name of a well-known standard community, or
// its a:b form.
func standardName(c config.Community) string {
	if c.Global == 0 && c.Local1 == 0 {
		return "internet"
	}
	if c.Global == 65535 {
		switch c.Local1 {
		case 0:
			return "graceful-shutdown"
		case 1:
			return "accept-own"
		case 2:
			return "route-filter-translated-v4"
		case 3:
			return "route-filter-v4"
		case 4:
			return "route-filter-translated-v6"
		case 5:
			return "route-filter-v6"
		case 6:
			return "llgr-stale"
		case 7:
			return "no-llgr"
		case 8:
			return "accept-own-nexthop"
		case 666:
			return "blackhole"
		case 65281:
			return "no-export"
		case 65282:
			return "no-advertise"
		case 65283:
			return "local-AS"
		case 65284:
			return "no-peer"
		}
	}
	return strconv.FormatUint(uint64(c.Global), 10) + ":" + strconv.FormatUint(uint64(c.Local1), 10)
}
