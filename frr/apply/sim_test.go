package apply

import (
	"bufio"
	"fmt"
	"slices"
	"strings"
)

// simulate applies a script as Diff writes it to cfg, the way FRR treats
// the commands ironlb uses, and returns the resulting config. It fails on
// a command FRR would refuse: removing what does not exist, or leaving a
// context that was never entered.
func simulate(cfg *Config, script []byte) (*Config, error) {
	root := Parse(cfg.Bytes()).Root // a copy
	stack := []*Node{root}
	var slab nodeSlab
	sc := bufio.NewScanner(strings.NewReader(string(script)))
	for n := 1; sc.Scan(); n++ {
		line := normalize(sc.Text())
		cur := stack[len(stack)-1]
		switch {
		case line == "":
			continue
		case line == "exit" || line == "exit-address-family":
			if len(stack) == 1 {
				return nil, fmt.Errorf("line %d: %s at top level", n, line)
			}
			stack = stack[:len(stack)-1]
		case strings.HasPrefix(line, "no ") && !cur.hasLine(line) && simRemove(cur, line[3:]):
		default:
			k := opensIn(cur.kind, line)
			if k != kindLine {
				stack = append(stack, cur.add(line, k, &slab))
				continue
			}
			if key, ok := valueKey(line); ok {
				cur.removeIf(func(c *Node) bool { ck, ok := valueKey(c.Line); return ok && ck == key })
			}
			if neg := negate(line); cur.hasLine(neg) {
				cur.removeIf(func(c *Node) bool { return c.Line == neg })
				if strings.HasPrefix(neg, "no ") {
					continue // `bgp x` after `no bgp x`: back to default
				}
			}
			cur.add(line, kindLine, &slab)
		}
	}
	return &Config{Root: root}, nil
}

func (n *Node) hasLine(line string) bool { return n.child(line) != nil }

func (n *Node) removeIf(f func(*Node) bool) {
	n.Children = slices.DeleteFunc(n.Children, func(c *Node) bool {
		if f(c) {
			delete(n.index, c.Line)
			return true
		}
		return false
	})
}

// simRemove removes line (or the line with its value key) from cur and
// reports whether there was one; when not, `no LINE` is a line to add.
func simRemove(cur *Node, line string) bool {
	if c := cur.child(line); c != nil {
		cur.removeIf(func(x *Node) bool { return x == c })
		if m := neighborDefinition.FindStringSubmatch(line); m != nil && cur.kind == kindRouterBGP {
			removeNeighbor(cur, "neighbor "+m[1]+" ")
		}
		return true
	}
	if key, ok := valueKey(line); ok {
		before := len(cur.Children)
		cur.removeIf(func(c *Node) bool { ck, ok := valueKey(c.Line); return ok && ck == key })
		return len(cur.Children) < before
	}
	return false
}

func removeNeighbor(n *Node, prefix string) {
	n.removeIf(func(c *Node) bool {
		return !c.isContext() && strings.HasPrefix(strings.TrimPrefix(c.Line, "no "), prefix)
	})
	for _, c := range n.Children {
		if c.isContext() {
			removeNeighbor(c, prefix)
		}
	}
}

// flatten lists every line of cfg with its context path, sorted, leaving
// out the lines FRR does not apply and contexts that hold nothing.
func flatten(cfg *Config) []string {
	var out []string
	var walk func(path string, n *Node)
	walk = func(path string, n *Node) {
		for _, c := range n.Children {
			if notApplied(c.Line) {
				continue
			}
			p := path + c.Line
			if !c.isContext() {
				out = append(out, p)
				continue
			}
			if len(c.Children) == 0 && c.kind != kindAF {
				out = append(out, p)
			}
			walk(p+" > ", c)
		}
	}
	walk("", cfg.Root)
	slices.Sort(out)
	return out
}
