package apply

import (
	"bytes"
	"fmt"
	"strings"
)

// daemonSet is a set of the FRR daemons VtySock talks to.
type daemonSet uint8

const (
	zebra daemonSet = 1 << iota
	bgpd
	staticd
	bfdd
)

// daemonOrder lists the daemons in the order vtysh sends a command to
// them (its vtysh_client table).
var daemonOrder = []daemon{{zebra, "zebra"}, {bgpd, "bgpd"}, {staticd, "staticd"}, {bfdd, "bfdd"}}

type daemon struct {
	set  daemonSet
	name string
}

// daemonNamed returns the daemon called name, or 0.
func daemonNamed(name string) daemonSet {
	for _, d := range daemonOrder {
		if d.name == name {
			return d.set
		}
	}
	return 0
}

// passiveDaemons run in a pathspace without receiving any command a
// script holds: vtysh sends them only `enable`, `configure` and `end`.
var passiveDaemons = []string{"watchfrr"}

func (s daemonSet) names() []string {
	var out []string
	for _, d := range daemonOrder {
		if s&d.set != 0 {
			out = append(out, d.name)
		}
	}
	return out
}

// Audiences of FRR 8.4's vtysh, restricted to the daemons above. They
// were read from the sockets vtysh writes each command to (strace of
// `vtysh -c`), and TestVtySockMatchesVtysh compares the daemons' configs
// after a script has gone through vtysh and through VtySock.
const (
	routeMaps   = zebra | bgpd        // route-map entries and lib/routemap commands
	prefixLists = zebra | bgpd | bfdd // ip and ipv6 prefix-list
)

// step is one command of a script and the daemons it goes to.
type step struct {
	cmd string // the script's line without its indentation
	to  daemonSet
	// resync: the command is an `exit` back to the config node, after
	// which vtysh sends `end` and `configure` to every daemon so that they
	// all stand in the same node again.
	resync bool
}

// unsupportedError tells why a script can not go through VtySock's own
// dispatch; VtySock then hands it to its fallback.
type unsupportedError struct {
	line   int
	reason string
}

func (e *unsupportedError) Error() string {
	return fmt.Sprintf("line %d: %s", e.line, e.reason)
}

// frame is a context the script has entered.
type frame struct {
	kind kind
	to   daemonSet
}

// plan splits a script (as Diff writes it) into steps and tells each one's
// daemons, as vtysh 8.4 would. It knows the commands ironlb's renderer and
// Diff produce: everything in router bgp, route-map entries with the
// match and set commands listed in routeMapLines, prefix-lists, bgp
// community and as-path lists, and the bfd block; any other command, or
// a context left without its exit, is an *unsupportedError.
func plan(script []byte) ([]step, error) {
	var (
		steps []step
		stack []frame
	)
	for n, raw := range bytes.Split(script, []byte("\n")) {
		lineNo := n + 1
		if bytes.IndexByte(raw, 0) >= 0 {
			return nil, &unsupportedError{lineNo, "NUL byte"}
		}
		cmd := strings.TrimSpace(string(raw))
		line := strings.Join(strings.Fields(cmd), " ")
		if line == "" || line[0] == '!' {
			continue
		}
		parent := kindRoot
		if len(stack) > 0 {
			parent = stack[len(stack)-1].kind
		}
		switch {
		case line == "exit" || line == "exit-address-family":
			if len(stack) == 0 || (line == "exit-address-family") != (parent == kindAF) {
				return nil, &unsupportedError{lineNo, fmt.Sprintf("%q outside its context", line)}
			}
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			steps = append(steps, step{cmd: cmd, to: top.to, resync: len(stack) == 0})
			continue
		case line == "end" || line == "quit" || strings.HasPrefix(line, "exit-") || strings.HasPrefix(line, "do "):
			return nil, &unsupportedError{lineNo, fmt.Sprintf("%q changes the node", line)}
		}
		if k := opensIn(parent, line); k != kindLine {
			to := contextAudience(parent, k)
			if to == 0 {
				return nil, &unsupportedError{lineNo, fmt.Sprintf("context %q", line)}
			}
			stack = append(stack, frame{kind: k, to: to})
			steps = append(steps, step{cmd: cmd, to: to})
			continue
		}
		var to daemonSet
		if len(stack) == 0 {
			to = topLineAudience(line)
		} else {
			to = lineAudience(stack[len(stack)-1], line)
		}
		if to == 0 {
			return nil, &unsupportedError{lineNo, fmt.Sprintf("command %q", Redact(line))}
		}
		steps = append(steps, step{cmd: cmd, to: to})
	}
	if len(stack) > 0 {
		return nil, &unsupportedError{0, "a context is not left at the end"}
	}
	return steps, nil
}

// contextAudience returns the daemons of a context header of kind k
// opened in parent, or 0 when plan does not know them.
func contextAudience(parent, k kind) daemonSet {
	switch {
	case parent == kindRoot && k == kindRouterBGP, parent == kindRouterBGP && k == kindAF:
		return bgpd
	case parent == kindRoot && k == kindRouteMap:
		return routeMaps
	case parent == kindRoot && k == kindBFD, parent == kindBFD && (k == kindBFDPeer || k == kindBFDProfile):
		return bfdd
	}
	return 0
}

// topLineAudience returns the daemons of a line outside any context.
func topLineAudience(line string) daemonSet {
	l := strings.TrimPrefix(line, "no ")
	switch {
	case hasWords(l, "router bgp"):
		return bgpd
	case hasWords(l, "route-map"):
		return routeMaps
	case l == "bfd":
		return bfdd
	case hasWords(l, "ip prefix-list"), hasWords(l, "ipv6 prefix-list"):
		return prefixLists
	case hasWords(l, "bgp community-list"), hasWords(l, "bgp large-community-list"),
		hasWords(l, "bgp extcommunity-list"), hasWords(l, "bgp as-path access-list"):
		return bgpd
	}
	return 0
}

// lineAudience returns the daemons of a plain line inside context f.
func lineAudience(f frame, line string) daemonSet {
	switch f.kind {
	case kindRouterBGP, kindAF, kindBFD, kindBFDPeer, kindBFDProfile:
		// Nodes of one daemon: every command in them is that daemon's.
		return f.to
	case kindRouteMap:
		l := strings.TrimPrefix(line, "no ")
		for _, c := range routeMapLines {
			if hasWords(l, c.words) {
				return c.to
			}
		}
	}
	return 0
}

// routeMapLines are the commands in a route-map entry whose daemons are
// known, by their leading words. Most come from lib/routemap_cli.c and go
// to every daemon with route-maps; the BGP attributes are bgpd's own,
// and `match source-protocol` and `set src` zebra's.
var routeMapLines = []struct {
	words string
	to    daemonSet
}{
	{"match tag", routeMaps},
	{"set tag", routeMaps},
	{"match ip address", routeMaps},
	{"match ipv6 address prefix-list", routeMaps},
	{"match ip next-hop prefix-list", routeMaps},
	{"match interface", routeMaps},
	{"match metric", routeMaps},
	{"set metric", routeMaps},
	{"set ip next-hop", routeMaps},
	{"description", routeMaps},
	{"on-match", routeMaps},
	{"call", routeMaps},
	{"match community", bgpd},
	{"match large-community", bgpd},
	{"match as-path", bgpd},
	{"set community", bgpd},
	{"set large-community", bgpd},
	{"set local-preference", bgpd},
	{"set weight", bgpd},
	{"set origin", bgpd},
	{"set as-path prepend", bgpd},
	{"set ipv6 next-hop global", bgpd},
	{"set extcommunity rt", bgpd},
	{"match source-protocol", zebra},
	{"set src", zebra},
}

// hasWords tells whether line starts with the words w, as whole words.
func hasWords(line, w string) bool {
	return strings.HasPrefix(line, w) && (len(line) == len(w) || line[len(w)] == ' ')
}
