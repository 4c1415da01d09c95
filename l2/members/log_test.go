package members

import (
	"log/slog"
	"strings"
	"testing"
)

// FuzzParseLogLine feeds arbitrary lines to the memberlist log parser
// (they carry what other members send, such as their names and
// addresses): a known level, and text taken from the line.
func FuzzParseLogLine(f *testing.F) {
	for _, s := range []string{
		"2026/01/02 [DEBUG] memberlist: Stream connection from=192.0.2.1:7946",
		"[WARN] memberlist: Refuting a suspect message (from: ilb-n2)\n",
		"[ERR] memberlist: Failed to send gossip",
		"[UNKNOWN] x", "[", "[]", "] ", "memberlist: ", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		level, text := parseLogLine(line)
		switch level {
		case slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError:
		default:
			t.Fatalf("level %v", level)
		}
		if !strings.Contains(line, text) {
			t.Fatalf("text %q is not from the line %q", text, line)
		}
	})
}
