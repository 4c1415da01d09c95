package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode"
)

// redacted is what a set Password prints as.
const redacted = "[redacted]"

// maxPasswordLen is the longest TCP MD5 key Linux takes
// (TCP_MD5SIG_MAXKEYLEN).
const maxPasswordLen = 80

// Password is a BGP session password. It never shows itself: String,
// GoString, Format (every fmt verb), MarshalJSON, MarshalText and
// LogValue all print "[redacted]" for a set password and "" for none.
// Reveal returns it, for the one place that must write it: frr.conf.
type Password struct {
	secret string
}

// NewPassword wraps a password.
func NewPassword(s string) Password { return Password{secret: s} }

// Reveal returns the password in clear text.
func (p Password) Reveal() string { return p.secret }

// IsSet reports whether there is a password.
func (p Password) IsSet() bool { return p.secret != "" }

// Equal reports whether both passwords are the same; go-cmp uses it.
func (p Password) Equal(q Password) bool { return p.secret == q.secret }

// String returns "[redacted]", or "" when no password is set.
func (p Password) String() string {
	if p.IsSet() {
		return redacted
	}
	return ""
}

// GoString redacts the password for %#v.
func (p Password) GoString() string {
	return "config.Password(" + strconv.Quote(p.String()) + ")"
}

// Format redacts the password for every fmt verb, %d and %x included.
func (p Password) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, p.GoString())
	case verb == 'q':
		fmt.Fprint(f, strconv.Quote(p.String()))
	default:
		fmt.Fprint(f, p.String())
	}
}

// MarshalJSON redacts the password.
func (p Password) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

// MarshalText redacts the password.
func (p Password) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// LogValue redacts the password in log/slog records.
func (p Password) LogValue() slog.Value { return slog.StringValue(p.String()) }

// passwordProblem says why s cannot be a session password, without
// quoting it, or returns "" when it can.
func passwordProblem(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > maxPasswordLen:
		return fmt.Sprintf("is longer than %d bytes", maxPasswordLen)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
		return "contains whitespace or a control character"
	}
	return ""
}
