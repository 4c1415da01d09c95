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
