package manifest

import "strings"

// decodeFast decodes document n of source the fast way: the subset
// parser reads it into a tree, the tree's head names its kind, the
// emitter writes its JSON for the kind's Go type, and encoding/json
// decodes that strictly. It reports false, with the set unchanged, when
// the document is outside the subset or does not decode; the general
// way then decodes it, and words any error.
func (d *decoder) decodeFast(source string, n int, doc []byte) bool {
	p := &d.parser
	if !p.parse(string(doc)) {
		return false
	}
	apiVersion, kind, name, ok := p.head()
	if !ok || (apiVersion == "v1" && kind == "List") {
		return false
	}
	into := d.set.target(apiVersion, kind)
	if into == nil {
		d.set.skip(docName(source, n), apiVersion, kind, name)
		return true
	}
	if into.typ == nil {
		return false
	}
	js, ok := p.emit(d.json[:0], 0, d.schemas.of(into.typ, false))
	d.json = js[:0]
	return ok && into.json(js) == nil
}

// head returns the apiVersion, kind and metadata.name of the parsed
// document, which must be strings written with those exact keys. A key
// that matches one of them (or items) only without case is not
// accepted: the general decoder matches keys without case.
func (p *subset) head() (apiVersion, kind, name string, ok bool) {
	root := &p.nodes[0]
	if root.kind != kindMap {
		return "", "", "", false
	}
	for c := root.first; c >= 0; c = p.nodes[c].next {
		n := &p.nodes[c]
		switch {
		case n.key == "apiVersion" && n.kind == kindString:
			apiVersion = n.text
		case n.key == "kind" && n.kind == kindString:
			kind = n.text
		case n.key == "metadata" && n.kind == kindMap:
			if name, ok = p.name(c); !ok {
				return "", "", "", false
			}
		case strings.EqualFold(n.key, "apiVersion"), strings.EqualFold(n.key, "kind"),
			strings.EqualFold(n.key, "metadata"), strings.EqualFold(n.key, "items"):
			return "", "", "", false
		}
	}
	return apiVersion, kind, name, apiVersion != "" && kind != ""
}

// name returns metadata.name of the metadata mapping m.
func (p *subset) name(m int32) (string, bool) {
	for c := p.nodes[m].first; c >= 0; c = p.nodes[c].next {
		n := &p.nodes[c]
		switch {
		case n.key == "name" && n.kind == kindString:
			return n.text, true
		case strings.EqualFold(n.key, "name"):
			return "", false
		}
	}
	return "", true
}
