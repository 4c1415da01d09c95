package apply

import (
	"strings"
)

// Delta is the difference between two configs as vtysh commands.
type Delta struct {
	// Script holds the commands, one per line, indented by context. Each
	// context is entered with its header and left with its exit command,
	// so the script runs the same in `vtysh -c` and `vtysh -f`. It does
	// not contain `configure terminal`. Empty when nothing changed.
	Script []byte
	// Commands counts the lines that change something (not context
	// headers or exits).
	Commands int
	// Checks are what `show running-config` must show afterwards.
	Checks []Check
}

// Check is one line that must be present in, or absent from, a context
// of the running config after the delta is applied.
type Check struct {
	// Context holds the headers from the top, e.g. ["router bgp 64512",
	// "address-family ipv4 unicast"]; empty for a top-level line.
	Context []string
	Line    string
	Present bool
}

// Diff returns the commands that turn the config old into desired. A nil
// old is an empty config. The order of the commands:
//
//  1. additions to everything but router contexts: prefix-lists,
//     community-lists, route-map entries, bfd peers and profiles, so what
//     a router references exists before the reference;
//  2. router contexts: first the removals inside the routers that stay
//     (nested contexts first; an `import vrf` that goes lets the VRF's
//     instance go), then the removed routers, then the new routers and
//     the additions to the others (lines first, then nested contexts),
//     each in the desired order;
//  3. removals from everything but router contexts, in reverse order, so
//     referenced objects go after their references.
func Diff(old, desired *Config) Delta {
	var d differ
	oldRoot := (*Node)(nil)
	if old != nil {
		oldRoot = old.Root
	}
	newRoot := desired.Root

	var out []string
	// 1. additions outside routers
	for _, n := range newRoot.Children {
		if isRouter(n.kind) {
			continue
		}
		out = append(out, d.addNode(nil, oldRoot, n)...)
	}
	// 2a. removals inside the routers that stay, before any router goes:
	// FRR keeps the BGP instance of a VRF that another router still
	// imports (`import vrf NAME`), so `no router bgp ... vrf NAME` would
	// not take effect before the import is gone.
	if oldRoot != nil {
		for _, n := range newRoot.Children {
			if o := oldRoot.child(n.Line); isRouter(n.kind) && o != nil {
				out = append(out, wrap(n, d.removals([]string{n.Line}, o, n, nil))...)
			}
		}
	}
	// 2b. removed routers
	if oldRoot != nil {
		for i := len(oldRoot.Children) - 1; i >= 0; i-- {
			o := oldRoot.Children[i]
			if isRouter(o.kind) && newRoot.child(o.Line) == nil {
				out = append(out, d.remove(nil, o))
			}
		}
	}
	// 2c. new routers and additions to the others
	for _, n := range newRoot.Children {
		if !isRouter(n.kind) {
			continue
		}
		o := oldRoot.child(n.Line)
		if o == nil {
			out = append(out, d.addNode(nil, nil, n)...)
			continue
		}
		out = append(out, wrap(n, d.additions([]string{n.Line}, o, n))...)
	}
	// 3. removals outside routers
	if oldRoot != nil {
		top := d.removals(nil, &Node{Children: nonRouters(oldRoot)}, newRoot, nil)
		out = append(out, top...)
	}
	if len(out) > 0 {
		d.delta.Script = []byte(strings.Join(out, "\n") + "\n")
	}
	return d.delta
}

type differ struct {
	delta Delta
}

func isRouter(k kind) bool { return k == kindRouterBGP || k == kindRouter }

func nonRouters(root *Node) []*Node {
	var out []*Node
	for _, c := range root.Children {
		if !isRouter(c.kind) {
			out = append(out, c)
		}
	}
	return out
}

func (d *differ) check(path []string, line string, present bool) {
	d.delta.Checks = append(d.delta.Checks, Check{Context: path, Line: line, Present: present})
}

func (d *differ) command(path []string, line string, present bool) string {
	d.delta.Commands++
	if present {
		d.check(path, line, true)
		return line
	}
	d.check(path, line, false)
	return negate(line)
}

// addNode returns the commands that add n (a child of the context old
// stands for, which may be nil) where it is missing or differs.
func (d *differ) addNode(path []string, old, n *Node) []string {
	if !n.isContext() {
		if old.child(n.Line) != nil || notApplied(n.Line) {
			return nil
		}
		return []string{d.command(path, n.Line, true)}
	}
	o := old.child(n.Line)
	sub := appendPath(path, n.Line)
	if o == nil && len(n.Children) == 0 {
		d.delta.Commands++
		if n.kind != kindAF {
			d.check(path, n.Line, true)
		}
		return []string{n.Line, exitFor(n.kind)}
	}
	inner := d.additions(sub, o, n)
	if o == nil {
		d.delta.Commands++
	}
	return wrap(n, inner)
}

// additions returns the commands that add to context old (nil: absent)
// what n has and old lacks: lines first, then nested contexts, each in
// n's order.
func (d *differ) additions(path []string, old, n *Node) []string {
	var out []string
	for _, c := range n.Children {
		if !c.isContext() {
			out = append(out, d.addNode(path, old, c)...)
		}
	}
	for _, c := range n.Children {
		if c.isContext() {
			out = append(out, d.addNode(path, old, c)...)
		}
	}
	return out
}

// removals returns the commands that remove from context old what n (nil:
// absent) lacks: nested contexts first, then lines, each in reverse order.
// suppress holds prefixes ("neighbor X ") of lines that go with a deleted
// neighbor and need no command of their own.
func (d *differ) removals(path []string, old, n *Node, suppress []string) []string {
	keys := lazyKeys{n: n}
	if old.kind == kindRouterBGP {
		suppress = append(suppress, deletedNeighbors(old, n, &keys)...)
	}
	var out []string
	for i := len(old.Children) - 1; i >= 0; i-- {
		c := old.Children[i]
		if !c.isContext() {
			continue
		}
		nc := n.child(c.Line)
		if nc == nil && removedWhole(c.kind) {
			out = append(out, d.remove(path, c))
			continue
		}
		out = append(out, wrap(c, d.removals(appendPath(path, c.Line), c, nc, suppress))...)
	}
	for i := len(old.Children) - 1; i >= 0; i-- {
		c := old.Children[i]
		if c.isContext() || n.child(c.Line) != nil || notApplied(c.Line) {
			continue
		}
		if keys.replaced(c.Line) {
			continue // replaced by the new value
		}
		if n.child(negate(c.Line)) != nil {
			continue // the addition of the opposite line does it
		}
		if suppressed(c.Line, suppress) {
			d.check(path, c.Line, false)
			continue
		}
		out = append(out, d.command(path, c.Line, false))
	}
	return out
}

// lazyKeys holds the value keys of a context's lines, computed on the
// first question: most deltas remove nothing, and a context may hold
// thousands of lines.
type lazyKeys struct {
	n    *Node
	keys map[string]bool
}

// replaced tells whether line holds a value that a line of the context
// sets anew.
func (l *lazyKeys) replaced(line string) bool {
	k, ok := valueKey(line)
	if !ok {
		return false
	}
	if l.keys == nil {
		l.keys = map[string]bool{}
		if l.n != nil {
			for _, c := range l.n.Children {
				if c.isContext() {
					continue
				}
				if k, ok := valueKey(c.Line); ok {
					l.keys[k] = true
				}
			}
		}
	}
	return l.keys[k]
}

// remove returns the command that removes a whole context.
func (d *differ) remove(path []string, c *Node) string {
	return d.command(path, c.Line, false)
}

// deletedNeighbors returns "neighbor X " for each neighbor or peer group
// whose defining line old has and n lacks without a replacement.
func deletedNeighbors(old, n *Node, keys *lazyKeys) []string {
	var out []string
	for _, c := range old.Children {
		if c.isContext() || n.child(c.Line) != nil {
			continue
		}
		m := neighborDefinition.FindStringSubmatch(c.Line)
		if m == nil || keys.replaced(c.Line) {
			continue
		}
		out = append(out, "neighbor "+m[1]+" ")
	}
	return out
}

// suppressed tells whether line (or its negation) configures one of the
// deleted neighbors, without being the line that deletes it.
func suppressed(line string, prefixes []string) bool {
	if neighborDefinition.MatchString(line) {
		return false
	}
	l := strings.TrimPrefix(line, "no ")
	for _, p := range prefixes {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// negate returns the command that undoes line.
func negate(line string) string {
	if rest, ok := strings.CutPrefix(line, "no "); ok {
		return rest
	}
	return "no " + line
}

// wrap puts inner into context n, or returns nothing when inner is empty.
func wrap(n *Node, inner []string) []string {
	if len(inner) == 0 {
		return nil
	}
	out := make([]string, 0, len(inner)+2)
	out = append(out, n.Line)
	for _, l := range inner {
		out = append(out, " "+l)
	}
	return append(out, exitFor(n.kind))
}

func appendPath(path []string, line string) []string {
	out := make([]string, len(path), len(path)+1)
	copy(out, path)
	return append(out, line)
}
