package manifest

import "strings"

// flow reads the flow collection at t[i], which must end on the line;
// it returns it and the index after it.
func (p *subset) flow(t string, i int) (int32, int, bool) {
	if !p.enter() {
		return 0, 0, false
	}
	defer p.leave()
	closing := byte(']')
	n := p.add(node{kind: kindSeq})
	if t[i] == '{' {
		closing = '}'
		p.nodes[n].kind = kindMap
	}
	i = skipSpaces(t, i+1)
	if i < len(t) && t[i] == closing {
		return n, i + 1, true
	}
	last := int32(-1)
	for {
		if i >= len(t) {
			return 0, 0, false
		}
		var key string
		if closing == '}' {
			var ok bool
			if key, i, ok = flowKey(t, i); !ok || !p.newKey(n, key) {
				return 0, 0, false
			}
		}
		v, end, ok := p.flowItem(t, i)
		if !ok {
			return 0, 0, false
		}
		p.nodes[v].key = key
		p.link(n, last, v)
		last = v
		i = skipSpaces(t, end)
		switch {
		case i < len(t) && t[i] == closing:
			return n, i + 1, true
		case i < len(t) && t[i] == ',':
			i = skipSpaces(t, i+1)
			if i == len(t) || t[i] == closing {
				return 0, 0, false
			}
		default:
			return 0, 0, false
		}
	}
}

// flowKey reads "key: " of a flow mapping at t[i] and returns the key
// and the index of its value.
func flowKey(t string, i int) (string, int, bool) {
	var key string
	var end int
	if t[i] == '"' || t[i] == '\'' {
		var ok bool
		if key, end, ok = quoted(t, i); !ok {
			return "", 0, false
		}
	} else {
		end = i
		for end < len(t) && !strings.ContainsRune(":,[]{}#", rune(t[end])) {
			end++
		}
		key = t[i:end]
		if k, ok := resolvePlain(key); !ok || k != kindString || key == "<<" || strings.HasSuffix(key, " ") {
			return "", 0, false
		}
	}
	if len(key) > maxKey || end+1 >= len(t) || t[end] != ':' || t[end+1] != ' ' {
		return "", 0, false
	}
	i = skipSpaces(t, end+1)
	if i == len(t) || t[i] == ',' || t[i] == '}' {
		return "", 0, false
	}
	return key, i, true
}

// flowItem reads a value inside a flow collection at t[i].
func (p *subset) flowItem(t string, i int) (int32, int, bool) {
	switch t[i] {
	case '[', '{':
		return p.flow(t, i)
	case '"', '\'':
		s, end, ok := quoted(t, i)
		return p.add(node{kind: kindString, text: s}), end, ok
	}
	end := i
	for end < len(t) && !strings.ContainsRune(":,[]{}#", rune(t[end])) {
		end++
	}
	if end < len(t) && (t[end] == ':' || t[end] == '#' || t[end] == '[' || t[end] == '{') {
		return 0, 0, false
	}
	s := strings.TrimRight(t[i:end], " ")
	if s == "" {
		return 0, 0, false
	}
	kind, ok := resolvePlain(s)
	return p.add(node{kind: kind, text: s}), end, ok
}

func skipSpaces(t string, i int) int {
	for i < len(t) && t[i] == ' ' {
		i++
	}
	return i
}
