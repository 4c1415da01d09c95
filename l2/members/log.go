package members

import (
	"context"
	"log/slog"
	"strings"
)

// logWriter routes memberlist's log lines ("[LEVEL] memberlist: text")
// to slog, under the message "memberlist" with the text as detail.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	level, detail := parseLogLine(string(p))
	level = lowered(level, detail)
	w.log.Log(context.Background(), level, "memberlist", "detail", detail)
	return len(p), nil
}

// parseLogLine splits a memberlist log line into its level and text.
func parseLogLine(line string) (slog.Level, string) {
	line = strings.TrimSpace(line)
	level := slog.LevelInfo
	if rest, ok := strings.CutPrefix(line, "["); ok {
		if tag, text, ok := strings.Cut(rest, "] "); ok {
			switch tag {
			case "DEBUG", "TRACE":
				level = slog.LevelDebug
			case "INFO":
				level = slog.LevelInfo
			case "WARN":
				level = slog.LevelWarn
			case "ERR", "ERROR":
				level = slog.LevelError
			default:
				return level, line
			}
			line = text
		}
	}
	line = strings.TrimPrefix(line, "memberlist: ")
	return level, line
}

// lowered returns the level for memberlist's line detail, which it logs
// at level: lower for two errors that say nothing wrong of this member
// and come with every start of the speakers on a loaded node.
//
//   - "discarding stream with unacceptable label \"\"": a TCP connection
//     that closed before sending anything, not even a label. A member's
//     fallback ping whose dial timed out just after the handshake does
//     that (the deadline is the probe interval, 100 ms with FastLAN), and
//     so does a port check. Debug. A stream with another label, and any
//     packet without ours (another cluster's memberlist), stay errors.
//   - "Failed fallback TCP ping": memberlist logs it only when the TCP
//     connection was made and the ping or its ack then failed, mostly
//     a timeout: the peer is up but slow. The failure detector goes on
//     with its suspicion as for any missed probe, and a member declared
//     failed shows in the view. Warn.
func lowered(level slog.Level, detail string) slog.Level {
	switch {
	case level < slog.LevelError:
		return level
	case strings.HasPrefix(detail, `discarding stream with unacceptable label "":`):
		return slog.LevelDebug
	case strings.HasPrefix(detail, "Failed fallback TCP ping:"):
		return slog.LevelWarn
	}
	return level
}
