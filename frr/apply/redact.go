package apply

import (
	"strings"
)

// Redact masks what follows the word "password" on every line of text,
// so configs, scripts and FRR's messages can be logged and returned.
func Redact(text string) string {
	if !strings.Contains(text, "password") {
		return text
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		j := strings.Index(l, "password")
		if j < 0 {
			continue
		}
		lines[i] = l[:j+len("password")] + " <redacted>"
	}
	return strings.Join(lines, "\n")
}
