package agent

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestClientNotListening: a missing socket and a socket nobody listens on
// are ErrNotListening (the speaker waits); other failures are not.
func TestClientNotListening(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	// Closing a unix listener removes its file; keep the file, as a
	// killed agent leaves it.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	for _, tc := range []struct {
		name   string
		socket string
		want   bool
	}{
		{name: "missing socket", socket: filepath.Join(dir, "missing.sock"), want: true},
		{name: "stale socket", socket: stale, want: true},
		{name: "missing folder", socket: filepath.Join(dir, "missing", "x", "y.sock"), want: true},
		// Longer than a unix socket address holds: a setup error, which
		// waiting does not cure.
		{name: "path too long", socket: filepath.Join(dir, strings.Repeat("x", 120)+".sock"), want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewClient(tc.socket).Apply(t.Context(), []byte("!\n"))
			if err == nil {
				t.Fatal("Apply succeeded without an agent")
			}
			if got := errors.Is(err, ErrNotListening); got != tc.want {
				t.Errorf("errors.Is(%v, ErrNotListening) = %v, want %v", err, got, tc.want)
			}
		})
	}
}
