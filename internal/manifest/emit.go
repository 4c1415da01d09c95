package manifest

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
)

// The general decoder (sigs.k8s.io/yaml) turns YAML into JSON knowing the
// Go type it decodes into: an int or a bool that lands on a string field
// or map value becomes a string ("tier: 1" is the label "1"). The emitter
// does the same from the type's schema, so its JSON decodes to the same
// object. Where it cannot tell the target of a non-string value (a key
// that is not the exact JSON name of a field), it gives up.

// schema is what the emitter knows of the Go type at one place of a
// document. A nil *schema is a place where no value is converted: inside
// a type with its own JSON or text decoding, an interface, an array.
type schema struct {
	// str: an int or bool here becomes a string.
	str bool
	// fields are a struct's own fields by their exact JSON names (a
	// struct's fields map is never nil); promoted fields of embedded
	// structs and names two fields share are left out.
	fields map[string]*schema
	// elem is the schema of a map's values or a slice's items; isMap and
	// isSlice say which.
	elem           *schema
	isMap, isSlice bool
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// schemaKey is a type at an addressable place (a struct field, a slice
// item, the object) or not (a map value); Go finds pointer methods only
// at addressable places, and so does the general decoder.
type schemaKey struct {
	t           reflect.Type
	addressable bool
}

// schemas builds and keeps the schemas of the types decoded.
type schemas map[schemaKey]*schema

// of returns the schema of type t, following the general decoder's walk
// from a value to its target: through pointers, stopping at a type with
// its own decoding.
func (c schemas) of(t reflect.Type, addressable bool) *schema {
	key := schemaKey{t, addressable}
	if s, ok := c[key]; ok {
		return s
	}
	u := t
	if u.Kind() != reflect.Pointer && u.Name() != "" && addressable {
		u = reflect.PointerTo(u)
	}
	// What a pointer points to is addressable.
	addressable = addressable || u.Kind() == reflect.Pointer
	for u.Kind() == reflect.Pointer {
		if u.NumMethod() > 0 && (u.Implements(jsonUnmarshaler) || u.Implements(textUnmarshaler)) {
			c[key] = nil
			return nil
		}
		u = u.Elem()
	}
	s := &schema{}
	c[key] = s
	switch u.Kind() {
	case reflect.String:
		s.str = true
	case reflect.Map:
		s.isMap = true
		s.elem = c.of(u.Elem(), false)
	case reflect.Slice:
		s.isSlice = true
		s.elem = c.of(u.Elem(), true)
	case reflect.Struct:
		s.fields = c.fields(u, addressable)
	case reflect.Interface, reflect.Array:
		c[key] = nil
		return nil
	}
	return s
}

// fields returns the schemas of a struct's own fields by JSON name, as
// encoding/json names them; they are addressable where the struct is.
func (c schemas) fields(t reflect.Type, addressable bool) map[string]*schema {
	out := map[string]*schema{}
	shared := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			// Embedded: its fields are promoted, not its own.
			continue
		}
		if !f.IsExported() {
			continue
		}
		if !validTag(name) {
			name = f.Name
		}
		if _, ok := out[name]; ok || shared[name] {
			delete(out, name)
			shared[name] = true
			continue
		}
		out[name] = c.of(f.Type, addressable)
	}
	return out
}

// validTag reports whether name is a JSON name encoding/json uses as it
// is; otherwise it uses the field's Go name.
func validTag(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", r):
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r > 0x7f:
			// Letters and digits of other scripts are valid too; the
			// subset never matches them to a field, so no need to tell.
			return false
		default:
			return false
		}
	}
	return true
}

// emit writes node i of the tree as JSON to b, with the values the
// schema says become strings; ok is false where the emitter cannot tell.
func (p *subset) emit(b []byte, i int32, s *schema) ([]byte, bool) {
	n := &p.nodes[i]
	switch n.kind {
	case kindNull:
		return append(b, "null"...), true
	case kindString:
		return appendString(b, n.text), true
	case kindInt, kindBool:
		if s != nil && s.str {
			return append(append(append(b, '"'), n.text...), '"'), true
		}
		return append(b, n.text...), true
	case kindSeq:
		var elem *schema
		if s != nil && s.isSlice {
			elem = s.elem
		}
		b = append(b, '[')
		for c := n.first; c >= 0; c = p.nodes[c].next {
			if c != n.first {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = p.emit(b, c, elem); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	}
	b = append(b, '{')
	for c := n.first; c >= 0; c = p.nodes[c].next {
		if c != n.first {
			b = append(b, ',')
		}
		b = append(appendString(b, p.nodes[c].key), ':')
		var field *schema
		switch {
		case s == nil:
		case s.isMap:
			field = s.elem
		case s.fields != nil:
			f, ok := s.fields[p.nodes[c].key]
			if !ok && p.nodes[c].kind != kindString && p.nodes[c].kind != kindNull {
				// A field matched without case or an unknown one:
				// only a string or null reads the same either way.
				return b, false
			}
			field = f
		}
		var ok bool
		if b, ok = p.emit(b, c, field); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	return append(append(b, s[start:]...), '"')
}
