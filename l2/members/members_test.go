package members

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.uber.org/goleak"
)

var (
	key      = KeyFromSecret([]byte("ironlb test key"))
	otherKey = KeyFromSecret([]byte("another key"))
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// member is a running Members with its latest view and logs.
type member struct {
	*Members
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan error

	mu   sync.Mutex
	view View
}

func (m *member) latest() View {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.view
}

// start runs a member on a loopback address and a free port; stop
// ends it when the test ends, if the test did not.
func start(t *testing.T, name, addr string, k []byte, join ...*member) *member {
	t.Helper()
	m := &member{logs: &syncBuffer{}, done: make(chan error, 1)}
	cfg := Config{
		Node:      name,
		BindAddr:  addr,
		SecretKey: k,
		Logger:    slog.New(slog.NewTextHandler(m.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnChange: func(v View) {
			m.mu.Lock()
			m.view = v
			m.mu.Unlock()
		},
		// Short enough that a failed first join is retried in the test.
		RejoinInterval: 200 * time.Millisecond,
	}
	for _, j := range join {
		cfg.Join = append(cfg.Join, j.Addr().String())
	}
	ms, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", name, err)
	}
	m.Members = ms
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() { m.done <- ms.Run(ctx) }()
	t.Cleanup(func() { m.stop(t) })
	return m
}

// stop ends Run and checks it returned nil; it may be called twice.
func (m *member) stop(t *testing.T) {
	t.Helper()
	m.cancel()
	if err, ok := <-m.done; ok {
		close(m.done)
		if err != nil {
			t.Errorf("%s: Run = %v", m.cfg.Node, err)
		}
	}
}

// eventually waits for cond, failing the test after a bound that is
// generous for loopback: it catches a hang, it does not time anything.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func viewIs(m *member, want View) func() bool {
	return func() bool { return cmp.Diff(want, m.latest(), cmpopts.EquateEmpty()) == "" }
}

func TestCluster(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	m1 := start(t, "n1", "127.0.0.1", key)
	m2 := start(t, "n2", "127.0.0.2", key, m1)
	m3 := start(t, "n3", "127.0.0.3", key, m1)
	all := View{Live: []string{"n1", "n2", "n3"}}
	for _, m := range []*member{m1, m2, m3} {
		eventually(t, m.cfg.Node+" sees all three", viewIs(m, all))
	}

	// n3 crashes: the others find out by probing.
	m3.cfg.SkipLeave = true
	m3.stop(t)
	crashed := View{Live: []string{"n1", "n2"}, Failed: []string{"n3"}}
	for _, m := range []*member{m1, m2} {
		eventually(t, m.cfg.Node+" sees n3 failed", viewIs(m, crashed))
	}

	// n2 leaves gracefully: n1 is told.
	m2.stop(t)
	eventually(t, "n1 sees n2 left", viewIs(m1, View{Live: []string{"n1"}, Failed: []string{"n3"}, Left: []string{"n2"}}))
	if !strings.Contains(m2.logs.String(), `msg="memberlist stopped" node=n2 left=true`) {
		t.Errorf("n2 logs lack the graceful stop:\n%s", m2.logs.String())
	}
	if diff := cmp.Diff(m1.latest(), m1.View(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("View and OnChange differ (-OnChange +View):\n%s", diff)
	}
}

func TestWrongKeyIsNotAdmitted(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	m1 := start(t, "n1", "127.0.0.1", key)
	m2 := start(t, "n2", "127.0.0.2", key, m1)
	intruder := start(t, "intruder", "127.0.0.4", otherKey, m1)

	eventually(t, "n1 sees n2", viewIs(m1, View{Live: []string{"n1", "n2"}}))
	eventually(t, "n1 logs why it refused the intruder", func() bool {
		return strings.Contains(strings.ToLower(m1.logs.String()), "no installed keys could decrypt the message")
	})
	eventually(t, "the intruder logs that it could not join, and why", func() bool {
		l := grep(intruder.logs.String(), "joining the cluster failed")
		return strings.Contains(strings.ToLower(l), "no installed keys could decrypt the message")
	})
	for _, m := range []*member{m1, m2} {
		if slices.Contains(m.View().Live, "intruder") {
			t.Errorf("%s admitted the intruder: %+v", m.cfg.Node, m.View())
		}
	}
	got := intruder.View()
	if diff := cmp.Diff(View{Live: []string{"intruder"}}, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(View{}, "Refused")); diff != "" {
		t.Errorf("intruder's view (-want +got):\n%s", diff)
	}
	if !strings.Contains(got.Refused, "another secret key") || !strings.Contains(strings.ToLower(got.Refused), "decrypt") {
		t.Errorf("intruder's view says it was refused because %q, want the key named", got.Refused)
	}
	if m1.View().Refused != "" {
		t.Errorf("n1's view says it was refused: %q", m1.View().Refused)
	}
	t.Logf("intruder: %s", grep(intruder.logs.String(), "joining the cluster failed"))
	t.Logf("n1: %s", grep(m1.logs.String(), "decrypt"))
}

func TestMeta(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	m1 := start(t, "n1", "127.0.0.1", key)
	if err := m1.SetMeta([]byte("one")); err != nil {
		t.Fatal(err)
	}
	m2 := start(t, "n2", "127.0.0.2", key, m1)
	eventually(t, "n2 sees n1's metadata", viewIs(m2, View{Live: []string{"n1", "n2"}, Meta: map[string][]byte{"n1": []byte("one")}}))

	// Changes reach the others; an empty one is no metadata.
	if err := m2.SetMeta([]byte("two")); err != nil {
		t.Fatal(err)
	}
	if err := m1.SetMeta(nil); err != nil {
		t.Fatal(err)
	}
	want := View{Live: []string{"n1", "n2"}, Meta: map[string][]byte{"n2": []byte("two")}}
	for _, m := range []*member{m1, m2} {
		eventually(t, m.cfg.Node+" sees the new metadata", viewIs(m, want))
	}
	if err := m1.SetMeta(make([]byte, MaxMetaSize+1)); err == nil {
		t.Error("SetMeta accepted metadata over MaxMetaSize")
	}

	// A member that leaves takes its metadata with it.
	m2.stop(t)
	eventually(t, "n1 sees n2 left", viewIs(m1, View{Live: []string{"n1"}, Left: []string{"n2"}}))
}

func TestRefusal(t *testing.T) {
	tests := []struct {
		err  string
		want bool
	}{
		{err: "1 error occurred:\n\t* failed to join 127.0.0.1:7946: No installed keys could decrypt the message", want: true},
		{err: "failed to join 127.0.0.1:7946: dial tcp 127.0.0.1:7946: connect: connection refused", want: false},
	}
	for _, tt := range tests {
		if got := refusal(errors.New(tt.err)); (got != "") != tt.want {
			t.Errorf("refusal(%q) = %q, want refused=%v", tt.err, got, tt.want)
		}
	}
}

func grep(logs, s string) string {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func TestNewErrors(t *testing.T) {
	bad := FastLAN()
	bad.ProbeTimeout = bad.ProbeInterval
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "no node", cfg: Config{SecretKey: key}, want: "Node is required"},
		{name: "no key", cfg: Config{Node: "n1"}, want: "SecretKey is required unless AllowInsecure"},
		{name: "short key", cfg: Config{Node: "n1", SecretKey: []byte("short")}, want: "SecretKey has 5 bytes"},
		{name: "bad port", cfg: Config{Node: "n1", SecretKey: key, BindPort: 70000}, want: "out of range"},
		{name: "bad profile", cfg: Config{Node: "n1", SecretKey: key, Timing: bad}, want: "must be shorter than ProbeInterval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestInsecure(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	m, err := New(Config{Node: "n1", BindAddr: "127.0.0.1", AllowInsecure: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := m.Run(ctx); err != nil {
		t.Errorf("Run = %v", err)
	}
}

func TestProfileNamed(t *testing.T) {
	for _, name := range []string{"fast-lan", "lan"} {
		p, err := ProfileNamed(name)
		if err != nil || p.Name != name {
			t.Errorf("ProfileNamed(%q) = %+v, %v", name, p, err)
		}
		if err := p.validate(); err != nil {
			t.Errorf("profile %s: %v", name, err)
		}
	}
	if _, err := ProfileNamed("wan"); err == nil {
		t.Error(`ProfileNamed("wan"): no error`)
	}
}

// TestParseLogLine covers parseLogLine and lowered, as logWriter uses them.
func TestParseLogLine(t *testing.T) {
	tests := []struct {
		line       string
		wantLevel  slog.Level
		wantDetail string
	}{
		{"[DEBUG] memberlist: Stream connection from=127.0.0.1:1\n", slog.LevelDebug, "Stream connection from=127.0.0.1:1"},
		{"[INFO] memberlist: Marking n3 as failed", slog.LevelInfo, "Marking n3 as failed"},
		{"[WARN] memberlist: Refuting a dead message (from: n2)", slog.LevelWarn, "Refuting a dead message (from: n2)"},
		{"[ERR] memberlist: Failed to receive: No installed keys could decrypt the message", slog.LevelError, "Failed to receive: No installed keys could decrypt the message"},
		{"[ERR] Failed to shutdown transport: boom", slog.LevelError, "Failed to shutdown transport: boom"},
		{"no level at all", slog.LevelInfo, "no level at all"},
		// Lowered: an empty stream, a slow peer's fallback ping.
		{`[ERR] memberlist: discarding stream with unacceptable label "": from=192.0.2.11:40112`, slog.LevelDebug, `discarding stream with unacceptable label "": from=192.0.2.11:40112`},
		{"[ERR] memberlist: Failed fallback TCP ping: timeout 100ms: read tcp 192.0.2.12:7946->192.0.2.11:7946: i/o timeout", slog.LevelWarn, "Failed fallback TCP ping: timeout 100ms: read tcp 192.0.2.12:7946->192.0.2.11:7946: i/o timeout"},
		// Not lowered: another cluster's label, an unlabelled packet.
		{`[ERR] memberlist: discarding stream with unacceptable label "other": from=192.0.2.11:40112`, slog.LevelError, `discarding stream with unacceptable label "other": from=192.0.2.11:40112`},
		{`[ERR] memberlist: discarding packet with unacceptable label "": from=192.0.2.11:7946`, slog.LevelError, `discarding packet with unacceptable label "": from=192.0.2.11:7946`},
		{"[odd] memberlist: x", slog.LevelInfo, "[odd] memberlist: x"},
	}
	for _, tt := range tests {
		level, detail := parseLogLine(tt.line)
		level = lowered(level, detail)
		if level != tt.wantLevel || detail != tt.wantDetail {
			t.Errorf("parseLogLine(%q) = %v, %q; want %v, %q", tt.line, level, detail, tt.wantLevel, tt.wantDetail)
		}
	}
}

// TestEmptyStreamNotAnError: a TCP connection to a member that closes
// before sending anything (a peer's fallback ping whose dial timed out
// after the handshake, on a loaded node; a port check) carries no label.
// memberlist reports it as `discarding stream with unacceptable label ""`
// at error level; it is no error of this member's, so it is logged at
// debug level. A packet without the label (a memberlist of another
// cluster, unlabelled) stays an error.
func TestEmptyStreamNotAnError(t *testing.T) {
	m := start(t, "n1", "127.0.0.1", key)
	c, err := net.Dial("tcp", m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	u, err := net.Dial("udp", m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write([]byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	u.Close()
	stream, packet := `unacceptable label \"\"`, `discarding packet with unacceptable label`
	eventually(t, "the member discards both", func() bool {
		l := m.logs.String()
		return strings.Contains(l, stream) && strings.Contains(l, packet)
	})
	for _, line := range strings.Split(m.logs.String(), "\n") {
		switch {
		case strings.Contains(line, "discarding stream") && !strings.Contains(line, "level=DEBUG"):
			t.Errorf("the empty stream is logged above debug level: %s", line)
		case strings.Contains(line, packet) && !strings.Contains(line, "level=ERROR"):
			t.Errorf("the unlabelled packet is not logged as an error: %s", line)
		}
	}
}
