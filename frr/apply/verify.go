package apply

import (
	"regexp"
	"strings"
)

// Verify returns the checks that running (a parsed `show running-config`)
// does not meet. Lines FRR is known to print differently are compared in
// a common form: prefix-list and community-list entries without their
// `seq N`. Lines FRR is known not to print are not required to be
// present: `hostname` (vtysh prints its own) and `neighbor X activate` in
// address-family ipv4 unicast (on by default).
func Verify(running *Config, checks []Check) []Check {
	v := verifier{forms: map[*Node]map[string]bool{}}
	var failed []Check
	for _, c := range checks {
		if !v.meets(running.Root, c) {
			failed = append(failed, c)
		}
	}
	return failed
}

type verifier struct {
	forms map[*Node]map[string]bool // context -> comparable forms of its lines
}

func (v *verifier) meets(root *Node, c Check) bool {
	ctx := root
	for _, h := range c.Context {
		ctx = ctx.child(h)
		if ctx == nil {
			return !c.Present || hidden(c)
		}
	}
	found := ctx.child(c.Line) != nil
	if !found && hasSeq(c.Line) {
		found = v.formsOf(ctx)[comparable(c.Line)]
	}
	if c.Present {
		return found || hidden(c)
	}
	return !found
}

func (v *verifier) formsOf(ctx *Node) map[string]bool {
	if f, ok := v.forms[ctx]; ok {
		return f
	}
	f := make(map[string]bool, len(ctx.Children))
	for _, c := range ctx.Children {
		f[comparable(c.Line)] = true
	}
	v.forms[ctx] = f
	return f
}

// hasSeq tells whether line is of a kind FRR prints with a `seq N`.
func hasSeq(line string) bool {
	for _, p := range []string{"ip prefix-list ", "ipv6 prefix-list ", "bgp community-list ",
		"bgp large-community-list ", "bgp extcommunity-list ", "bgp as-path access-list "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

var seqRE = regexp.MustCompile(`^((?:ip|ipv6) prefix-list \S+|bgp (?:large-|ext)?community-list (?:standard|expanded) \S+|bgp as-path access-list \S+) seq \d+ `)

// comparable drops what FRR adds or rewrites when printing a line.
func comparable(line string) string {
	if m := seqRE.FindStringSubmatchIndex(line); m != nil {
		return line[:m[3]] + " " + line[m[1]:]
	}
	return line
}

var (
	activateRE    = regexp.MustCompile(`^neighbor \S+ activate$`)
	defaultPortRE = regexp.MustCompile(`^neighbor \S+ port 179$`)
)

// hidden tells whether FRR may leave a present line out of its output.
func hidden(c Check) bool {
	return IsDefault(c.Context, c.Line)
}

// bfdDefaults are the values bfdd 8.4 does not print, in peers and
// profiles alike.
var bfdDefaults = map[string]bool{
	"receive-interval 300": true, "transmit-interval 300": true,
	"detect-multiplier 3": true, "echo-interval 50": true,
	"echo receive-interval 50": true, "echo transmit-interval 50": true,
	"minimum-ttl 254": true, "no shutdown": true, "no passive-mode": true,
	"no echo-mode": true,
}

// IsDefault tells whether FRR 8.4 may leave line, in the context given
// by its headers, out of `show running-config` because it holds a
// default: the machine's hostname instead of the config's, `neighbor X
// activate` in address-family ipv4 unicast, `neighbor X port 179`, bfd
// timers at their defaults. (Found by applying speaker-like configs to
// FRR 8.4.4 and reading them back; any other line FRR hides makes the
// fast path fall back to a full reload, which is correct, only slower.)
func IsDefault(context []string, line string) bool {
	if strings.HasPrefix(line, "hostname ") {
		return true
	}
	n := len(context)
	switch {
	case n == 0:
		return false
	case context[n-1] == "address-family ipv4 unicast":
		return activateRE.MatchString(line)
	case n == 1 && strings.HasPrefix(context[0], "router bgp"):
		return defaultPortRE.MatchString(line)
	case context[0] == "bfd" && n == 2:
		return bfdDefaults[line]
	}
	return false
}

// versionDefaults are lines bgpd 9.1 and later prints on its own when the
// config declares an older `frr version` (as configs read back from FRR
// 8.4 do): bgpd then keeps that version's default, and prints it because
// it is not its own. FRR 10.3 prints `no bgp enforce-first-as` so (the
// default became on in 9.1). ironlb renders no `frr version`, and Diff
// works from the desired configs alone, so such a line never enters a
// delta; comparisons with the running config skip it.
var versionDefaults = map[string]bool{"no bgp enforce-first-as": true}

// IsVersionDefault tells whether FRR may print line, in the context given
// by its headers, without the config holding it, because the config's
// `frr version` is older than the FRR running it.
func IsVersionDefault(context []string, line string) bool {
	return len(context) == 1 && strings.HasPrefix(context[0], "router bgp") && versionDefaults[line]
}
