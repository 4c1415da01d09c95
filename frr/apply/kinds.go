package apply

import (
	"regexp"
	"strings"
)

// kind tells what a node is: a plain line or a context of some type. The
// type decides how the context is removed and where its delta goes in the
// batch.
type kind int

const (
	kindLine kind = iota
	kindRoot
	kindRouterBGP  // router bgp ASN [vrf NAME]
	kindRouter     // router ospf, router isis ...
	kindAF         // address-family inside router bgp
	kindRouteMap   // route-map NAME permit|deny SEQ
	kindBFD        // bfd
	kindBFDPeer    // peer ADDR ... inside bfd
	kindBFDProfile // profile NAME inside bfd
	kindInterface  // interface NAME
	kindVRF        // vrf NAME
	kindOther      // line vty, key chain, ...: removed line by line
)

// opensIn returns the kind of context line opens inside parent, or
// kindLine when it is a plain line there.
func opensIn(parent kind, line string) kind {
	switch parent {
	case kindRoot:
		switch {
		case strings.HasPrefix(line, "router bgp"):
			return kindRouterBGP
		case strings.HasPrefix(line, "router "):
			return kindRouter
		case strings.HasPrefix(line, "route-map "):
			return kindRouteMap
		case line == "bfd":
			return kindBFD
		case strings.HasPrefix(line, "interface "):
			return kindInterface
		case strings.HasPrefix(line, "vrf "):
			return kindVRF
		case strings.HasPrefix(line, "line vty"), strings.HasPrefix(line, "key chain "),
			line == "segment-routing", strings.HasPrefix(line, "nexthop-group "),
			strings.HasPrefix(line, "pbr-map "), line == "mpls ldp":
			return kindOther
		}
	case kindRouterBGP:
		switch {
		case strings.HasPrefix(line, "address-family "):
			return kindAF
		case strings.HasPrefix(line, "bmp targets "), strings.HasPrefix(line, "vnc "):
			return kindOther
		}
	case kindBFD:
		switch {
		case strings.HasPrefix(line, "peer "):
			return kindBFDPeer
		case strings.HasPrefix(line, "profile "):
			return kindBFDProfile
		}
	}
	return kindLine
}

// topLevelOnly are lines that exist only outside any context, so one seen
// in the first column ends the contexts of a config written without
// indentation or exits.
var topLevelOnly = []string{
	"ip prefix-list ", "ipv6 prefix-list ", "bgp community-list ",
	"bgp large-community-list ", "bgp extcommunity-list ",
	"bgp as-path access-list ", "access-list ", "ipv6 access-list ",
	"hostname ", "frr ", "log ", "service ", "debug ", "password ",
	"enable password ", "agentx",
}

func isTopLevelOnly(line string) bool {
	if opensIn(kindRoot, line) != kindLine {
		return true
	}
	for _, p := range topLevelOnly {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// removedWhole tells whether a context that disappears is removed with
// one `no HEADER` (true) or line by line inside it (false).
func removedWhole(k kind) bool {
	switch k {
	case kindRouterBGP, kindRouter, kindRouteMap, kindBFD, kindBFDPeer, kindBFDProfile:
		return true
	}
	return false
}

// exitFor is the command that leaves a context of kind k.
func exitFor(k kind) string {
	if k == kindAF {
		return "exit-address-family"
	}
	return "exit"
}

// notApplied are lines that are no commands for the daemons: FRR prints
// them, but they can be neither changed at run time nor negated.
func notApplied(line string) bool {
	return strings.HasPrefix(line, "frr version") || strings.HasPrefix(line, "frr defaults") ||
		line == "service integrated-vtysh-config"
}

// valueCommands are commands that hold one value: a new line with the
// same key replaces the old one, so the old one is never negated (which
// could remove the new value or, for remote-as, the whole neighbor). They
// are listed by their first word; in each pattern the groups make the key
// and the rest of the line is the value.
var valueCommands = map[string][]*regexp.Regexp{
	"bgp": {
		regexp.MustCompile(`^(bgp router-id) `),
		regexp.MustCompile(`^(bgp cluster-id) `),
		regexp.MustCompile(`^(bgp (?:large-|ext)?community-list (?:standard|expanded) \S+ seq \d+) `),
		regexp.MustCompile(`^(bgp as-path access-list \S+ seq \d+) `),
	},
	"timers": {regexp.MustCompile(`^(timers bgp) `)},
	"neighbor": {
		regexp.MustCompile(`^(neighbor \S+ (?:remote-as|description|password|update-source|port|local-as|ttl-security hops|advertisement-interval|timers connect|timers delayopen|bfd profile|solo|capability extended-nexthop)) `),
		// An unnumbered neighbor's AS, and the link of a link-local one.
		regexp.MustCompile(`^(neighbor \S+ interface remote-as) `),
		regexp.MustCompile(`^(neighbor \S+ interface) \S+$`),
		regexp.MustCompile(`^(neighbor \S+ ebgp-multihop)\b`),
		regexp.MustCompile(`^(neighbor \S+ timers) \d+ \d+$`),
		regexp.MustCompile(`^(neighbor \S+ (?:route-map|prefix-list|filter-list|distribute-list) )\S+( in| out)$`),
		regexp.MustCompile(`^(neighbor \S+ (?:maximum-prefix|allowas-in|weight|default-originate|addpath-tx-all-paths))\b`),
	},
	"network":           {regexp.MustCompile(`^(network \S+)`)},
	"maximum-paths":     {regexp.MustCompile(`^(maximum-paths(?: ibgp)?) `)},
	"aggregate-address": {regexp.MustCompile(`^(aggregate-address \S+)`)},
	"redistribute":      {regexp.MustCompile(`^(redistribute \S+)`)},
	"set":               {regexp.MustCompile(`^(set (?:local-preference|metric|weight|origin|tag|community|large-community|extcommunity rt|extcommunity soo|ip next-hop|ipv6 next-hop global|ipv6 next-hop local|ipv6 next-hop prefer-global|as-path prepend|src)) `)},
	"match":             {regexp.MustCompile(`^(match (?:ip address prefix-list|ipv6 address prefix-list|ip address|ipv6 address|community|large-community|extcommunity|as-path|interface|tag|metric|source-protocol|ip next-hop prefix-list|ipv6 next-hop prefix-list)) `)},
	"description":       {regexp.MustCompile(`^(description) `)},
	"on-match":          {regexp.MustCompile(`^(on-match) `)},
	"call":              {regexp.MustCompile(`^(call) `)},
	"detect-multiplier": {regexp.MustCompile(`^(detect-multiplier) `)},
	"receive-interval":  {regexp.MustCompile(`^(receive-interval) `)},
	"transmit-interval": {regexp.MustCompile(`^(transmit-interval) `)},
	"echo-interval":     {regexp.MustCompile(`^(echo-interval) `)},
	"echo":              {regexp.MustCompile(`^(echo (?:receive|transmit)-interval) `)},
	"minimum-ttl":       {regexp.MustCompile(`^(minimum-ttl) `)},
	"profile":           {regexp.MustCompile(`^(profile) `)},
	"hostname":          {regexp.MustCompile(`^(hostname) `)},
	"ip":                {regexp.MustCompile(`^(ip prefix-list \S+ seq \d+) `)},
	"ipv6":              {regexp.MustCompile(`^(ipv6 prefix-list \S+ seq \d+) `)},
}

// valueKey returns the key of a single-value command and whether line is
// one. Keys are only compared within one context.
func valueKey(line string) (string, bool) {
	word, _, _ := strings.Cut(line, " ")
	for _, re := range valueCommands[word] {
		m := re.FindStringSubmatchIndex(line)
		if m == nil {
			continue
		}
		key := line[m[2]:m[3]]
		for g := 2; 2*g+1 < len(m); g++ {
			if m[2*g] >= 0 {
				key += "*" + line[m[2*g]:m[2*g+1]]
			}
		}
		return key, true
	}
	return "", false
}

// neighborDefinition matches the lines whose removal deletes a BGP
// neighbor or peer group with everything configured for it: `neighbor
// IFACE interface [v6only] [remote-as AS|peer-group PG]` defines an
// unnumbered neighbor, while `neighbor ADDR interface IFACE` only scopes
// an address neighbor to a link.
var neighborDefinition = regexp.MustCompile(`^neighbor (\S+) (?:remote-as \S+|peer-group|interface(?: (?:v6only|remote-as|peer-group)\b.*)?)$`)
