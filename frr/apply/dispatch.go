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
	// mgmtd (FRR 9 and later) holds, from FRR 10 on, the configuration
	// of the daemons that are its backends (zebra, staticd): vtysh 10
	// sends it the commands vtysh 8.4 sent to zebra.
	mgmtd
)

// daemonOrder lists the daemons in the order vtysh sends a command to
// them (its vtysh_client table; FRR 10's puts mgmtd first).
var daemonOrder = []daemon{{mgmtd, "mgmtd"}, {zebra, "zebra"}, {bgpd, "bgpd"}, {staticd, "staticd"}, {bfdd, "bfdd"}}

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
// after a script has gone through vtysh and through VtySock. With mgmtd
// running, forMgmtd turns them into FRR 10's.
const (
	routeMaps   = zebra | bgpd        // route-map entries and lib/routemap commands
	prefixLists = zebra | bgpd | bfdd // ip and ipv6 prefix-list
)

// forMgmtd returns the daemons vtysh 10 sends a command to that vtysh
// 8.4 sent to s: in FRR 10, zebra takes its configuration from mgmtd
// (zebra's commands, lib's route-maps and prefix-lists are mgmtd's in
// vtysh 10's command table, and zebra without mgmtd refuses them), so
// zebra's part goes to mgmtd. Checked against FRR 10.3 by
// TestVtySockMatchesVtysh (hack/test-frr-image.sh); FRR 9, whose mgmtd
// served staticd only, was not checked.
func (s daemonSet) forMgmtd() daemonSet {
	if s&zebra == 0 {
		return s
	}
	return s&^zebra | mgmtd
}

// step is one command of a script and the daemons it goes to.
type step struct {
	cmd string // the script's line without its indentation
	to  daemonSet
	// to10 is the daemons of FRR 10's vtysh when they are not
	// to.forMgmtd(); 0 otherwise.
	to10 daemonSet
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
		var to, to10 daemonSet
		if len(stack) == 0 {
			to = topLineAudience(line)
		} else {
			to, to10 = lineAudience(stack[len(stack)-1], line)
		}
		if to == 0 {
			return nil, &unsupportedError{lineNo, fmt.Sprintf("command %q", Redact(line))}
		}
		steps = append(steps, step{cmd: cmd, to: to, to10: to10})
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

// lineAudience returns the daemons of a plain line inside context f, and
// FRR 10's when they are not the first's forMgmtd; 0 when not known.
func lineAudience(f frame, line string) (daemonSet, daemonSet) {
	switch f.kind {
	case kindRouterBGP, kindAF, kindBFD, kindBFDPeer, kindBFDProfile:
		// Nodes of one daemon: every command in them is that daemon's.
		return f.to, 0
	case kindRouteMap:
		l := strings.TrimPrefix(line, "no ")
		for _, c := range routeMapLines {
			if hasWords(l, c.words) {
				return c.to, c.to10
			}
		}
	}
	return 0, 0
}

// routeMapLines are the commands in a route-map entry whose daemons are
// known, by their leading words. Most come from lib/routemap_cli.c and go
// to every daemon with route-maps; the BGP attributes are bgpd's own,
// and `match source-protocol` and `set src` zebra's. FRR 10 moved
// `match source-protocol` to lib, so its vtysh sends it to bgpd as well
// as to mgmtd (to10).
var routeMapLines = []struct {
	words string
	to    daemonSet
	to10  daemonSet // FRR 10's daemons when not to.forMgmtd()
}{
	{"match tag", routeMaps, 0},
	{"set tag", routeMaps, 0},
	{"match ip address", routeMaps, 0},
	{"match ipv6 address prefix-list", routeMaps, 0},
	{"match ip next-hop prefix-list", routeMaps, 0},
	{"match interface", routeMaps, 0},
	{"match metric", routeMaps, 0},
	{"set metric", routeMaps, 0},
	{"set ip next-hop", routeMaps, 0},
	{"description", routeMaps, 0},
	{"on-match", routeMaps, 0},
	{"call", routeMaps, 0},
	{"match community", bgpd, 0},
	{"match large-community", bgpd, 0},
	{"match as-path", bgpd, 0},
	{"set community", bgpd, 0},
	{"set large-community", bgpd, 0},
	{"set local-preference", bgpd, 0},
	{"set weight", bgpd, 0},
	{"set origin", bgpd, 0},
	{"set as-path prepend", bgpd, 0},
	{"set ipv6 next-hop global", bgpd, 0},
	{"set extcommunity rt", bgpd, 0},
	{"match source-protocol", zebra, mgmtd | bgpd},
	{"set src", zebra, 0},
}

// hasWords tells whether line starts with the words w, as whole words.
func hasWords(line, w string) bool {
	return strings.HasPrefix(line, w) && (len(line) == len(w) || line[len(w)] == ' ')
}
