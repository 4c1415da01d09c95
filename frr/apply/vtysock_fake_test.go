package apply

import (
	"bufio"
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeDaemon serves the vty framing on DIR/NAME.vty the way an FRR daemon
// does, for the tests that need no FRR: it answers every command with
// answer's text and status, records what it got, and can drop its
// connections like a restarted daemon.
type fakeDaemon struct {
	ln     net.Listener
	answer func(cmd string) (text string, status byte, hold bool)
	held   chan string // a command answer held back

	mu    sync.Mutex
	got   []string
	conns []net.Conn
	wg    sync.WaitGroup
}

func startFakeDaemon(t *testing.T, dir, name string, answer func(cmd string) (string, byte, bool)) *fakeDaemon {
	t.Helper()
	ln, err := net.Listen("unix", filepath.Join(dir, name+".vty"))
	if err != nil {
		t.Fatal(err)
	}
	d := &fakeDaemon{ln: ln, answer: answer, held: make(chan string, 1)}
	d.wg.Go(d.accept)
	t.Cleanup(func() {
		ln.Close()
		d.drop()
		d.wg.Wait()
	})
	return d
}

func (d *fakeDaemon) accept() {
	for {
		c, err := d.ln.Accept()
		if err != nil {
			return
		}
		d.mu.Lock()
		d.conns = append(d.conns, c)
		d.mu.Unlock()
		d.wg.Go(func() { d.serve(c) })
	}
}

func (d *fakeDaemon) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		cmd, err := r.ReadString(0)
		if err != nil {
			return
		}
		cmd = strings.TrimSuffix(cmd, "\x00")
		d.mu.Lock()
		d.got = append(d.got, cmd)
		d.mu.Unlock()
		text, status, hold := d.answer(cmd)
		if hold {
			d.held <- cmd
			_, _ = r.ReadByte() // until the client goes away
			return
		}
		if _, err := c.Write(frameReply(text, status)); err != nil {
			return
		}
	}
}

// drop closes every connection, as a daemon's restart does.
func (d *fakeDaemon) drop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		c.Close()
	}
	d.conns = nil
}

// commands returns what the daemon got since the last call.
func (d *fakeDaemon) commands() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	got := d.got
	d.got = nil
	return got
}

func acceptAll(string) (string, byte, bool) { return "", cmdSuccess, false }

// fallbackRecorder is a fallback VTY that records what reaches it.
type fallbackRecorder struct {
	mu    sync.Mutex
	execs []string
}

func (f *fallbackRecorder) Exec(_ context.Context, script []byte, show string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.execs = append(f.execs, string(script)+"|"+show)
	return nil, nil
}

func (f *fallbackRecorder) Reload(context.Context, []byte) ([]byte, error) { return nil, nil }

func (f *fallbackRecorder) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.execs)
}

const addNetwork = "router bgp 64512\n address-family ipv4 unicast\n  network 198.51.100.1/32\n exit-address-family\nexit\n"

func TestVtySockWire(t *testing.T) {
	dir := t.TempDir()
	bgp := startFakeDaemon(t, dir, "bgpd", func(cmd string) (string, byte, bool) {
		if strings.Contains(cmd, "timers") {
			return "% Specify remote-as or peer-group commands first\n", cmdConfigFailed, false
		}
		if cmd == showRunning {
			return "router bgp 64512\n address-family ipv4 unicast\n  network 198.51.100.1/32\n exit-address-family\nexit\n!\n", cmdSuccess, false
		}
		return "", cmdSuccess, false
	})
	zeb := startFakeDaemon(t, dir, "zebra", acceptAll)
	startFakeDaemon(t, dir, "watchfrr", acceptAll)
	fb := &fallbackRecorder{}
	s := NewVtySock(VtySockConfig{RunDir: dir, Fallback: fb})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()

	// A delta for bgpd only: zebra hears nothing.
	out, err := s.Exec(ctx, []byte(addNetwork), showRunning)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "  network 198.51.100.1/32\n") {
		t.Errorf("output %q lacks the shown network", out)
	}
	if diff := cmp.Diff([]string{"enable", "configure terminal", "router bgp 64512", "address-family ipv4 unicast",
		"network 198.51.100.1/32", "exit-address-family", "exit", "end", "configure terminal", "end", showRunning}, bgp.commands()); diff != "" {
		t.Errorf("bgpd got (-want +got):\n%s", diff)
	}
	if got := zeb.commands(); len(got) > 0 {
		t.Errorf("zebra got %q, want nothing", got)
	}

	// A route-map entry: both, in vtysh's order; zebra's connection is
	// new, bgpd's is the open one.
	if _, err := s.Exec(ctx, []byte("route-map rm permit 1\n set tag 1\n set local-preference 5\nexit\n"), ""); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"enable", "configure terminal", "route-map rm permit 1", "set tag 1", "exit", "end", "configure terminal", "end"}, zeb.commands()); diff != "" {
		t.Errorf("zebra got (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"configure terminal", "route-map rm permit 1", "set tag 1", "set local-preference 5", "exit", "end", "configure terminal", "end"}, bgp.commands()); diff != "" {
		t.Errorf("bgpd got (-want +got):\n%s", diff)
	}

	// A refused command ends the script and the connections, and carries
	// the daemon's message.
	out, err = s.Exec(ctx, []byte("router bgp 64512\n neighbor 192.0.2.9 timers 1 3\n neighbor 192.0.2.9 password s3cret\nexit\n"), showRunning)
	var refused *refusedError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "Specify remote-as or peer-group commands first") {
		t.Fatalf("Exec = %v, want bgpd's refusal", err)
	}
	if !strings.Contains(string(out), "Specify remote-as") {
		t.Errorf("output %q lacks bgpd's message", out)
	}
	if diff := cmp.Diff([]string{"configure terminal", "router bgp 64512", "neighbor 192.0.2.9 timers 1 3"}, bgp.commands()); diff != "" {
		t.Errorf("bgpd got (-want +got):\n%s", diff)
	}
	if _, err := s.Exec(ctx, []byte(addNetwork), ""); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(append([]string{"enable", "configure terminal"}, addNetworkSteps...), bgp.commands()); diff != "" {
		t.Errorf("bgpd got after the refusal (-want +got):\n%s", diff)
	}
	if fb.count() != 0 {
		t.Errorf("the fallback ran %d scripts, want none", fb.count())
	}
}

func TestVtySockReconnects(t *testing.T) {
	dir := t.TempDir()
	bgp := startFakeDaemon(t, dir, "bgpd", acceptAll)
	s := NewVtySock(VtySockConfig{RunDir: dir, Fallback: &fallbackRecorder{}})
	t.Cleanup(func() { s.Close() })
	ctx := t.Context()
	if _, err := s.Exec(ctx, []byte(addNetwork), ""); err != nil {
		t.Fatal(err)
	}
	bgp.commands()

	// The daemon restarts: the next Exec finds its connection dead and
	// makes a new one.
	bgp.drop()
	if _, err := s.Exec(ctx, []byte(addNetwork), ""); err != nil {
		t.Fatalf("Exec after the daemon dropped the connection: %v", err)
	}
	want := append([]string{"enable", "configure terminal"}, addNetworkSteps...)
	if diff := cmp.Diff(want, bgp.commands()); diff != "" {
		t.Errorf("bgpd got (-want +got):\n%s", diff)
	}

	// Close, then Exec: connected again.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Exec(ctx, []byte(addNetwork), ""); err != nil {
		t.Fatalf("Exec after Close: %v", err)
	}
}

// addNetworkSteps are the commands of addNetwork after `configure
// terminal`, up to the final end.
var addNetworkSteps = []string{"router bgp 64512", "address-family ipv4 unicast", "network 198.51.100.1/32",
	"exit-address-family", "exit", "end", "configure terminal", "end"}

func TestVtySockCancel(t *testing.T) {
	dir := t.TempDir()
	var hang sync.Once
	bgp := startFakeDaemon(t, dir, "bgpd", func(cmd string) (string, byte, bool) {
		held := false
		if strings.HasPrefix(cmd, "network") {
			hang.Do(func() { held = true })
		}
		return "", cmdSuccess, held
	})
	s := NewVtySock(VtySockConfig{RunDir: dir, Fallback: &fallbackRecorder{}})
	t.Cleanup(func() { s.Close() })

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := s.Exec(ctx, []byte(addNetwork), "")
		done <- err
	}()
	<-bgp.held // bgpd sits on the network command
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Exec = %v, want context.Canceled", err)
	}
	// The connection was out of step: the next Exec uses a new one.
	if _, err := s.Exec(t.Context(), []byte(addNetwork), ""); err != nil {
		t.Fatalf("Exec after a cancelled one: %v", err)
	}
}

func TestVtySockFallback(t *testing.T) {
	for _, tc := range []struct {
		name    string
		daemons []string
		script  string
		show    string
		want    bool // the fallback runs it
	}{
		{name: "bgpd delta", daemons: []string{"bgpd"}, script: addNetwork, show: showRunning},
		{name: "other show", daemons: []string{"bgpd"}, script: addNetwork, show: "show bgp summary", want: true},
		{name: "unknown command", daemons: []string{"bgpd"}, script: "hostname x\n", want: true},
		{name: "daemon with unknown commands runs", daemons: []string{"bgpd", "ospfd"}, script: addNetwork, want: true},
		{name: "empty script", daemons: []string{"bgpd"}, script: "", want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, d := range tc.daemons {
				startFakeDaemon(t, dir, d, acceptAll)
			}
			fb := &fallbackRecorder{}
			s := NewVtySock(VtySockConfig{RunDir: dir, Fallback: fb})
			t.Cleanup(func() { s.Close() })
			if _, err := s.Exec(t.Context(), []byte(tc.script), tc.show); err != nil {
				t.Fatal(err)
			}
			if got := fb.count() == 1; got != tc.want {
				t.Errorf("fallback ran: %v, want %v", got, tc.want)
			}
		})
	}
}

func TestVtySockDaemonNotRunning(t *testing.T) {
	dir := t.TempDir()
	startFakeDaemon(t, dir, "bgpd", acceptAll)
	s := NewVtySock(VtySockConfig{RunDir: dir, Fallback: &fallbackRecorder{}})
	t.Cleanup(func() { s.Close() })
	// bfdd does not run: like vtysh, refuse its command. A route-map goes
	// to the daemons of route-maps that run (bgpd).
	if _, err := s.Exec(t.Context(), []byte("bfd\n profile p\n exit\nexit\n"), ""); err == nil || !strings.Contains(err.Error(), "bfdd not running") {
		t.Errorf("bfd script without bfdd: %v, want 'bfdd not running'", err)
	}
	if _, err := s.Exec(t.Context(), []byte("route-map rm permit 1\nexit\n"), ""); err != nil {
		t.Errorf("route-map without zebra: %v", err)
	}
}
