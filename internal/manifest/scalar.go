package manifest

import "strings"

// resolvePlain returns what YAML 1.1, as go-yaml v2 reads it, makes of
// the plain scalar s, as far as the subset accepts it: a string, an int
// written in canonical decimal, true, false or null. Anything else (yes,
// on, octal or hex numbers, floats, timestamps, a leading dot or
// indicator) is not accepted.
func resolvePlain(s string) (nodeKind, bool) {
	if s == "" {
		return kindNull, true
	}
	switch c := s[0]; {
	case strings.IndexByte("?:,[]{}#&*!|>'\"%@`.", c) >= 0:
		return 0, false
	case c == '-' && (len(s) == 1 || s[1] == ' '):
		return 0, false
	case c == '+' || c == '-' || (c >= '0' && c <= '9'):
		if canonicalInt(s) {
			return kindInt, true
		}
		return kindString, surelyString(s)
	case strings.IndexByte("yYnNtTfFoO~", c) >= 0:
		switch s {
		case "true", "false":
			return kindBool, true
		case "null", "~":
			return kindNull, true
		case "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
			"True", "TRUE", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "Null", "NULL":
			return 0, false
		}
	}
	return kindString, true
}

// canonicalInt reports whether s is 0 or a decimal int without leading
// zeros or plus sign that fits in 64 bits.
func canonicalInt(s string) bool {
	d := strings.TrimPrefix(s, "-")
	if d == "" || len(d) > 18 || (d[0] == '0' && len(d) > 1) || d == "0" && len(s) > 1 {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// surelyString reports whether s, which starts with a digit or a sign,
// is a string to YAML 1.1 whatever else it looks like. It is unless it
// starts like a timestamp (four digits and a dash) or like a signed
// infinity (+.inf), and has two dots (no number has) or a character no
// int (decimal, 0x, 0o, 0b, with underscores) or float has: "90s",
// "16Gi", "192.0.2.1", "2001:db8::/64", "64500:100".
func surelyString(s string) bool {
	if len(s) >= 5 && s[4] == '-' && strings.Trim(s[:4], "0123456789") == "" {
		return false
	}
	if strings.HasPrefix(s, "+.") || strings.HasPrefix(s, "-.") {
		return false
	}
	if strings.Count(s, ".") >= 2 {
		return true
	}
	return strings.Trim(s, "0123456789abcdefABCDEFxXoO_+-.") != ""
}

// quoted reads the single-line quoted scalar at t[i]; it returns its
// value and the index after the closing quote.
func quoted(t string, i int) (string, int, bool) {
	q := t[i]
	start := i + 1
	var b []byte
	for j := start; j < len(t); j++ {
		c := t[j]
		switch {
		case q == '\'' && c == '\'':
			if j+1 < len(t) && t[j+1] == '\'' {
				b = append(append(b, t[start:j]...), '\'')
				j++
				start = j + 1
				continue
			}
			return finish(b, t[start:j]), j + 1, true
		case q == '"' && c == '"':
			return finish(b, t[start:j]), j + 1, true
		case q == '"' && c == '\\':
			if j+1 == len(t) {
				return "", 0, false
			}
			var r byte
			switch t[j+1] {
			case '"', '\\':
				r = t[j+1]
			case 'n':
				r = '\n'
			case 't':
				r = '\t'
			default:
				return "", 0, false
			}
			b = append(append(b, t[start:j]...), r)
			j++
			start = j + 1
		}
	}
	return "", 0, false
}

// finish returns the unescaped scalar: b and tail, or tail alone.
func finish(b []byte, tail string) string {
	if b == nil {
		return tail
	}
	return string(append(b, tail...))
}
