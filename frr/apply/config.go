package apply

import (
	"bytes"
	"net/netip"
	"strings"
)

// Node is a line of frr.conf; a context line (router bgp, address-family,
// route-map entry...) has the lines inside it as Children.
type Node struct {
	// Line is the normalized text: single spaces, canonical addresses.
	Line     string
	Children []*Node

	kind  kind
	index map[string]*Node // children by Line
}

// Config is a parsed frr.conf: its Root has no Line.
type Config struct {
	Root *Node
}

// child returns the child with the given line, if any.
func (n *Node) child(line string) *Node {
	if n == nil {
		return nil
	}
	return n.index[line]
}

// add appends a child unless one with the same line exists, and returns
// the child that holds the line. New nodes come from slab.
func (n *Node) add(line string, k kind, slab *nodeSlab) *Node {
	if c := n.index[line]; c != nil {
		return c
	}
	c := slab.next()
	c.Line, c.kind = line, k
	if n.index == nil {
		n.index = map[string]*Node{}
	}
	n.index[line] = c
	n.Children = append(n.Children, c)
	return c
}

func (n *Node) isContext() bool { return n.kind != kindLine }

// nodeSlab hands out Nodes allocated a chunk at a time: a config of
// 10,000 networks is 10,000 Nodes, parsed on every apply.
type nodeSlab struct{ free []Node }

func (s *nodeSlab) next() *Node {
	if len(s.free) == 0 {
		s.free = make([]Node, 256)
	}
	n := &s.free[0]
	s.free = s.free[1:]
	return n
}

// open is a context being filled while parsing.
type open struct {
	node     *Node
	indent   int
	indented bool // its first child was indented deeper than its header
	seen     bool // a child has been seen
}

// Parse reads frr.conf text, or the output of `show running-config`,
// into a tree. It never fails: unknown lines are kept as lines of the
// context they appear in. Context ends are taken from `exit`,
// `exit-address-family`, `end`, a `!` in the first column, and from
// indentation when the context's lines are indented.
func Parse(text []byte) *Config { return parse(text, normalize, nil) }

// parseShown parses the output of `show running-config`, which FRR
// prints normalized already, so it skips the address canonicalization.
// It keeps only the plain lines keep accepts (all when keep is nil):
// verifying a delta needs a handful of the running config's lines, not
// its thousands of networks.
func parseShown(text []byte, keep func(line string) bool) *Config {
	return parse(text, strings.TrimSpace, keep)
}

func parse(text []byte, norm func(string) string, keep func(string) bool) *Config {
	root := &Node{kind: kindRoot}
	var stack []*open
	top := func() *Node {
		if len(stack) == 0 {
			return root
		}
		return stack[len(stack)-1].node
	}
	var slab nodeSlab
	// One string for the whole text: the lines are its substrings, not
	// an allocation each.
	rest := string(trimShowPreamble(text))
	for rest != "" {
		var raw string
		raw, rest, _ = strings.Cut(rest, "\n")
		indent := len(raw) - len(strings.TrimLeft(raw, " \t"))
		line := norm(raw)
		if line == "" {
			continue
		}
		if line[0] == '!' || line[0] == '#' {
			if indent == 0 && line == "!" {
				stack = stack[:0]
			}
			continue
		}
		switch {
		case line == "end":
			stack = stack[:0]
			continue
		case line == "exit" || line == "quit":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		case strings.HasPrefix(line, "exit-"):
			// exit-address-family, exit-vrf, exit-vnc...: close up to and
			// including the innermost nested context.
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		// Indentation closes contexts whose lines were indented.
		for len(stack) > 0 {
			o := stack[len(stack)-1]
			if o.seen && o.indented && indent <= o.indent {
				stack = stack[:len(stack)-1]
				continue
			}
			break
		}
		// A top-level line closes every open context, whatever its indent.
		if indent == 0 && len(stack) > 0 && isTopLevelOnly(line) {
			stack = stack[:0]
		}
		// A context header that belongs to an ancestor closes the
		// contexts below that ancestor (an address-family after an
		// address-family without exit-address-family), unless the line
		// is indented deeper than the current context's header (`profile
		// P` inside a bfd peer is a line, not a bfd profile).
		if len(stack) > 0 && indent <= stack[len(stack)-1].indent && opensIn(top().kind, line) == kindLine {
			for i := len(stack) - 1; i >= 0; i-- {
				parent := kindRoot
				if i > 0 {
					parent = stack[i-1].node.kind
				}
				if opensIn(parent, line) != kindLine {
					stack = stack[:i]
					break
				}
			}
		}
		if len(stack) > 0 {
			o := stack[len(stack)-1]
			if !o.seen {
				o.seen = true
				o.indented = indent > o.indent
			}
		}
		parent := top()
		k := opensIn(parent.kind, line)
		if k == kindAF && (line == "address-family ipv4" || line == "address-family ipv6") {
			line += " unicast" // what FRR prints
		}
		if k == kindLine && keep != nil && !keep(line) {
			continue
		}
		n := parent.add(line, k, &slab)
		if k != kindLine {
			stack = append(stack, &open{node: n, indent: indent})
		}
	}
	return &Config{Root: root}
}

// trimShowPreamble drops what `show running-config` prints before the
// config itself ("Building configuration...", warnings of earlier
// commands in the same vtysh session).
func trimShowPreamble(text []byte) []byte {
	const marker = "Current configuration:\n"
	if i := bytes.Index(text, []byte(marker)); i >= 0 {
		return text[i+len(marker):]
	}
	return text
}

// normalize trims a line, collapses runs of blanks and writes IPv6
// addresses and prefixes in their canonical form. (A valid IPv4 text is
// canonical already.) Lines that need neither cost no allocation.
func normalize(raw string) string {
	s := strings.TrimSpace(raw)
	if strings.Contains(s, "  ") || strings.ContainsAny(s, "\t\r\v\f") {
		s = strings.Join(strings.Fields(s), " ")
	}
	if !strings.Contains(s, ":") {
		return s
	}
	var b strings.Builder
	rest, done := s, 0
	for off := 0; rest != ""; {
		tok, after, _ := strings.Cut(rest, " ")
		if c, ok := canonicalIPv6(tok); ok {
			b.WriteString(s[done:off])
			b.WriteString(c)
			done = off + len(tok)
		}
		off += len(tok) + 1
		rest = after
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// canonicalIPv6 returns the canonical form of an IPv6 address or prefix
// token when it differs from tok.
func canonicalIPv6(tok string) (string, bool) {
	if len(tok) < 2 || !strings.Contains(tok, ":") || !isAddrChar(tok[0]) {
		return "", false
	}
	var buf [64]byte
	var out []byte
	if strings.Contains(tok, "/") {
		p, err := netip.ParsePrefix(tok)
		if err != nil {
			return "", false
		}
		out = p.AppendTo(buf[:0])
	} else {
		a, err := netip.ParseAddr(tok)
		if err != nil {
			return "", false
		}
		out = a.AppendTo(buf[:0])
	}
	if string(out) == tok {
		return "", false
	}
	return string(out), true
}

func isAddrChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':'
}

// Bytes renders the tree back as frr.conf text with one space of
// indentation per level and explicit context ends.
func (c *Config) Bytes() []byte {
	var b bytes.Buffer
	for _, n := range c.Root.Children {
		writeNode(&b, n, 0)
		if n.isContext() {
			b.WriteString("!\n")
		}
	}
	return b.Bytes()
}

func writeNode(b *bytes.Buffer, n *Node, depth int) {
	pad := strings.Repeat(" ", depth)
	b.WriteString(pad + n.Line + "\n")
	if !n.isContext() {
		return
	}
	for _, c := range n.Children {
		writeNode(b, c, depth+1)
	}
	b.WriteString(pad + exitFor(n.kind) + "\n")
}
