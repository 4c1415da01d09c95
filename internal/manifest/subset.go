package manifest

import (
	"strings"
	"unicode/utf8"
)

// The subset parser reads the YAML that people write by hand into a tree
// of nodes, fast: block mappings and sequences indented with spaces,
// single-line flow collections, single-line quoted scalars, literal and
// folded block scalars, comments. It gives up (ok == false) on anything
// else: anchors, tags, multi-line plain or quoted scalars, tabs, plain
// scalars that YAML 1.1 could read as something other than a string, an
// int or true/false, duplicate keys, any syntax it is not sure of. The
// caller then decodes the document the general way, so giving up is
// never wrong; accepting is only right when the general decoder would
// read the same values, which FuzzFastPath checks.

// nodeKind is what a node holds.
type nodeKind uint8

const (
	kindNull nodeKind = iota
	kindString
	kindInt
	kindBool
	kindMap
	kindSeq
)

// node is one value of the tree; the nodes of a document live in one
// slice and link to each other by index.
type node struct {
	kind nodeKind
	// key is the node's key when its parent is a mapping.
	key string
	// text is a string's value, or an int's or a bool's literal.
	text string
	// first is the first child of a mapping or sequence; next the next
	// sibling. -1 for none.
	first, next int32
}

// line is one line of a document, without its line break.
type line struct {
	start, end int
	indent     int
}

// maxDepth bounds the nesting the subset parser follows.
const maxDepth = 64

// maxKey bounds a key; YAML limits implicit keys to 1024 characters.
const maxKey = 512

// subset parses one document; its slices are reused from one document
// to the next.
type subset struct {
	src   string
	lines []line
	nodes []node
	depth int
}

// parse reads doc into p.nodes, the root mapping at index 0.
func (p *subset) parse(doc string) bool {
	p.src = doc
	p.lines = p.lines[:0]
	p.nodes = p.nodes[:0]
	p.depth = 0
	if !p.split() {
		return false
	}
	if len(p.lines) == 0 {
		return false
	}
	li := 0
	if first := p.text(0, 0); strings.HasPrefix(first, "---") && restIsBlank(first[3:]) {
		li = 1 // the document start marker
	}
	li = p.nextContent(li)
	if li == len(p.lines) || p.lines[li].indent != 0 {
		return false
	}
	var next int
	if text := p.text(li, 0); text[0] == '{' {
		_, end, ok := p.flow(text, 0)
		if !ok || !restIsBlank(text[end:]) {
			return false
		}
		next = li + 1
	} else {
		var ok bool
		if _, next, ok = p.mapping(li, 0); !ok {
			return false
		}
	}
	return p.nextContent(next) == len(p.lines)
}

// split cuts the document into lines and checks its characters: no
// tabs, no control characters, no carriage returns, valid UTF-8 without
// the characters YAML treats as line breaks or byte order marks.
func (p *subset) split() bool {
	s := p.src
	start, indent, inIndent := 0, 0, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			p.lines = append(p.lines, line{start: start, end: i, indent: indent})
			start, indent, inIndent = i+1, 0, true
			continue
		case c == ' ':
			if inIndent {
				indent++
			}
			continue
		case c < 0x20 || c == 0x7f:
			return false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if !printable(r, size) {
				return false
			}
			i += size - 1
		}
		inIndent = false
	}
	if start < len(s) {
		p.lines = append(p.lines, line{start: start, end: len(s), indent: indent})
	}
	return true
}

// printable reports whether a non-ASCII rune may appear in the subset.
func printable(r rune, size int) bool {
	if r == utf8.RuneError && size == 1 {
		return false
	}
	switch {
	case r < 0xa0, r >= 0xd800 && r <= 0xdfff:
		return false
	case r == 0x2028, r == 0x2029, r == 0xfeff, r == 0xfffe, r == 0xffff:
		return false
	}
	return true
}

// text returns line li from column col on.
func (p *subset) text(li, col int) string {
	l := p.lines[li]
	return p.src[l.start+col : l.end]
}

// blank reports whether line li is empty, spaces or a comment.
func (p *subset) blank(li int) bool {
	l := p.lines[li]
	return l.start+l.indent == l.end || p.src[l.start+l.indent] == '#'
}

// nextContent returns the first line from li on that is not blank, or
// len(p.lines).
func (p *subset) nextContent(li int) int {
	for li < len(p.lines) && p.blank(li) {
		li++
	}
	return li
}

// dash reports whether line li is a block sequence entry.
func (p *subset) dash(li int) bool {
	t := p.text(li, p.lines[li].indent)
	return t[0] == '-' && (len(t) == 1 || t[1] == ' ')
}

// add appends a node and returns its index.
func (p *subset) add(n node) int32 {
	n.first, n.next = -1, -1
	p.nodes = append(p.nodes, n)
	return int32(len(p.nodes) - 1)
}

// link appends child to the children of parent, after last.
func (p *subset) link(parent, last, child int32) {
	if last < 0 {
		p.nodes[parent].first = child
	} else {
		p.nodes[last].next = child
	}
}

// enter and leave bound the nesting.
func (p *subset) enter() bool { p.depth++; return p.depth <= maxDepth }
func (p *subset) leave()      { p.depth-- }

// mapping reads a block mapping whose first key is on line li at column
// col; its other keys are the lines indented by col. It returns the
// mapping and the line after it.
func (p *subset) mapping(li, col int) (int32, int, bool) {
	if !p.enter() {
		return 0, 0, false
	}
	defer p.leave()
	m := p.add(node{kind: kindMap})
	last := int32(-1)
	for {
		key, rest, ok := blockKey(p.text(li, col))
		if !ok || !p.newKey(m, key) {
			return 0, 0, false
		}
		v, next, ok := p.value(li, col, rest)
		if !ok {
			return 0, 0, false
		}
		p.nodes[v].key = key
		p.link(m, last, v)
		last = v
		li = p.nextContent(next)
		if li == len(p.lines) || p.lines[li].indent < col {
			return m, li, true
		}
		if p.lines[li].indent > col || p.dash(li) {
			return 0, 0, false
		}
	}
}

// newKey reports whether key differs, even in case, from the keys of
// mapping m so far: encoding/json matches keys to fields without case,
// so two such keys could fill one field in another order than the
// general decoder's.
func (p *subset) newKey(m int32, key string) bool {
	for c := p.nodes[m].first; c >= 0; c = p.nodes[c].next {
		if strings.EqualFold(p.nodes[c].key, key) {
			return false
		}
	}
	return true
}

// value reads the value of a key of a mapping indented by col, whose
// text after the key on line li is rest. It returns the value and the
// line after it.
func (p *subset) value(li, col int, rest string) (int32, int, bool) {
	if rest == "" || rest[0] == '#' {
		nl := p.nextContent(li + 1)
		switch {
		case nl < len(p.lines) && p.lines[nl].indent > col:
			return p.block(nl)
		case nl < len(p.lines) && p.lines[nl].indent == col && p.dash(nl):
			return p.sequence(nl, col)
		}
		return p.add(node{kind: kindNull}), li + 1, true
	}
	switch rest[0] {
	case '|', '>':
		return p.blockScalar(li, col, rest)
	}
	v, ok := p.inline(rest)
	return v, li + 1, ok
}

// block reads the mapping or sequence that starts on line li.
func (p *subset) block(li int) (int32, int, bool) {
	if p.dash(li) {
		return p.sequence(li, p.lines[li].indent)
	}
	return p.mapping(li, p.lines[li].indent)
}

// sequence reads a block sequence whose entries are the lines indented
// by col that start with "- ".
func (p *subset) sequence(li, col int) (int32, int, bool) {
	if !p.enter() {
		return 0, 0, false
	}
	defer p.leave()
	s := p.add(node{kind: kindSeq})
	last := int32(-1)
	for {
		v, next, ok := p.entry(li, col)
		if !ok {
			return 0, 0, false
		}
		p.link(s, last, v)
		last = v
		li = p.nextContent(next)
		if li == len(p.lines) || p.lines[li].indent < col || (p.lines[li].indent == col && !p.dash(li)) {
			return s, li, true
		}
		if p.lines[li].indent > col {
			return 0, 0, false
		}
	}
}

// entry reads the sequence entry on line li, whose dash is at col.
func (p *subset) entry(li, col int) (int32, int, bool) {
	t := p.text(li, col+1)
	c := col + 1 + len(t) - len(strings.TrimLeft(t, " "))
	t = p.text(li, c)
	if t == "" || t[0] == '#' {
		nl := p.nextContent(li + 1)
		if nl < len(p.lines) && p.lines[nl].indent > col {
			return p.block(nl)
		}
		return p.add(node{kind: kindNull}), li + 1, true
	}
	switch {
	case t[0] == '-', t[0] == '|', t[0] == '>':
		return 0, 0, false
	case isKey(t):
		return p.mapping(li, c)
	}
	v, ok := p.inline(t)
	return v, li + 1, ok
}

// inline reads a value that fits on its line: a flow collection, a
// quoted or a plain scalar, then maybe a comment.
func (p *subset) inline(t string) (int32, bool) {
	switch t[0] {
	case '[', '{':
		v, end, ok := p.flow(t, 0)
		return v, ok && restIsBlank(t[end:])
	case '"', '\'':
		s, end, ok := quoted(t, 0)
		if !ok || !restIsBlank(t[end:]) {
			return 0, false
		}
		return p.add(node{kind: kindString, text: s}), true
	}
	if i := strings.Index(t, " #"); i >= 0 {
		t = t[:i]
	}
	t = strings.TrimRight(t, " ")
	if strings.Contains(t, ": ") || strings.HasSuffix(t, ":") || strings.HasPrefix(t, "--") {
		return 0, false
	}
	kind, ok := resolvePlain(t)
	return p.add(node{kind: kind, text: t}), ok
}

// restIsBlank reports whether what follows a value on its line is only
// spaces and maybe a comment.
func restIsBlank(t string) bool {
	s := strings.TrimLeft(t, " ")
	return s == "" || (s[0] == '#' && len(s) < len(t))
}

// isKey reports whether t starts with a key of a block mapping.
func isKey(t string) bool {
	_, _, ok := blockKey(t)
	return ok
}

// blockKey splits "key: rest" into the key and what follows its colon
// and spaces. The key must read as a string.
func blockKey(t string) (key, rest string, ok bool) {
	var end int
	if t == "" {
		return "", "", false
	}
	if t[0] == '"' || t[0] == '\'' {
		key, end, ok = quoted(t, 0)
		if !ok || end == len(t) || t[end] != ':' {
			return "", "", false
		}
	} else {
		end = plainKeyEnd(t)
		if end <= 0 || t[end-1] == ' ' {
			return "", "", false
		}
		key = t[:end]
		if k, ok := resolvePlain(key); !ok || k != kindString || key == "<<" {
			return "", "", false
		}
	}
	if len(key) > maxKey || (end+1 < len(t) && t[end+1] != ' ') {
		return "", "", false
	}
	return key, strings.TrimLeft(t[end+1:], " "), true
}

// plainKeyEnd returns the index of the colon that ends the plain key t
// starts with, or -1.
func plainKeyEnd(t string) int {
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case ':':
			if i+1 == len(t) || t[i+1] == ' ' {
				return i
			}
		case '#':
			if i > 0 && t[i-1] == ' ' {
				return -1
			}
		}
	}
	return -1
}

// blockScalar reads a literal (|, |-) or folded (>, >-) scalar, the value
// of a key of a mapping indented by col, whose header is on line li.
func (p *subset) blockScalar(li, col int, header string) (int32, int, bool) {
	folded, strip := header[0] == '>', false
	h := header[1:]
	if h != "" && h[0] == '-' {
		strip, h = true, h[1:]
	}
	if h != "" && (h[0] != ' ' || !restIsBlank(h)) {
		return 0, 0, false
	}
	j := li + 1
	if j == len(p.lines) || p.lines[j].indent <= col || p.empty(j) {
		return 0, 0, false
	}
	indent := p.lines[j].indent
	var b strings.Builder
	empties := -1
	for ; j < len(p.lines); j++ {
		l := p.lines[j]
		switch {
		case p.empty(j):
			if empties >= 0 {
				empties++
			}
			continue
		case l.indent == l.end-l.start:
			return 0, 0, false
		case l.indent < indent:
			if l.indent > col {
				return 0, 0, false
			}
			return p.blockEnd(&b, strip), j, true
		case folded && l.indent > indent:
			return 0, 0, false
		}
		switch {
		case empties < 0:
		case !folded:
			b.WriteString(strings.Repeat("\n", empties+1))
		case empties == 0:
			b.WriteByte(' ')
		default:
			b.WriteString(strings.Repeat("\n", empties))
		}
		empties = 0
		b.WriteString(p.src[l.start+indent : l.end])
	}
	return p.blockEnd(&b, strip), j, true
}

// empty reports whether line li has no characters at all.
func (p *subset) empty(li int) bool { return p.lines[li].start == p.lines[li].end }

// blockEnd adds the block scalar's node: clipped (one final line break)
// or stripped (none).
func (p *subset) blockEnd(b *strings.Builder, strip bool) int32 {
	if !strip {
		b.WriteByte('\n')
	}
	return p.add(node{kind: kindString, text: b.String()})
}
