package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/frr/apply"
)

// fakeApplier records applies and fails those containing "bogus".
type fakeApplier struct {
	mu         sync.Mutex
	applied    []string
	reconciles int
}

func (f *fakeApplier) Apply(_ context.Context, desired []byte) (apply.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = append(f.applied, string(desired))
	if strings.Contains(string(desired), "bogus") {
		fl := apply.Failure{Stage: apply.StageReload, Message: "line 1: % Unknown command: bogus"}
		return apply.Result{Path: apply.PathFull, Failure: &fl}, &apply.Error{Failure: fl}
	}
	return apply.Result{Path: apply.PathFast, Commands: 1}, nil
}

func (f *fakeApplier) Desired() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.applied) == 0 {
		return nil
	}
	return []byte(f.applied[len(f.applied)-1])
}

func (f *fakeApplier) Reconcile(context.Context) (apply.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reconciles++
	return apply.Result{Path: apply.PathFull, Reason: "resync"}, nil
}

// fakeShower answers from the vtyshjson fixtures.
type fakeShower struct{ fail atomic.Bool }

func (f *fakeShower) Show(_ context.Context, cmd string) ([]byte, error) {
	if f.fail.Load() {
		return nil, errors.New("vtysh: failed to connect to any daemons")
	}
	switch cmd {
	case "show bgp neighbors json":
		return os.ReadFile("../vtyshjson/testdata/bgp_neighbors_speaker.json")
	case "show bgp vrf all neighbors json":
		// The default VRF's neighbors, as the all-VRF command wraps them.
		ns, err := os.ReadFile("../vtyshjson/testdata/bgp_neighbors_speaker.json")
		return append(append([]byte(`{"default":`), ns...), '}'), err
	case "show bfd peers json":
		return os.ReadFile("../vtyshjson/testdata/bfd_peers_speaker.json")
	case "show bfd peers counters json":
		return os.ReadFile("../vtyshjson/testdata/bfd_counters_speaker.json")
	case "show running-config":
		return []byte("router bgp 64512\n neighbor 192.0.2.1 password s3cret\n"), nil
	}
	return []byte("FRRouting 8.4.4"), nil
}

// socketPath returns a short socket path (unix socket paths are limited
// to 108 bytes) removed when t ends.
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ilbt-agent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "agent.sock")
}

// runServer runs s until t ends and returns a client for it.
func runServer(t *testing.T, s *Server) *Client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	c := NewClient(s.cfg.Socket)
	t.Cleanup(c.CloseIdleConnections)
	waitCtx, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	for c.Healthz(waitCtx) != nil {
		select {
		case <-waitCtx.Done():
			t.Fatalf("agent did not come up: %v", c.Healthz(ctx))
		case <-time.After(10 * time.Millisecond):
		}
	}
	return c
}

func TestAgentWithFakes(t *testing.T) {
	sock := socketPath(t)
	fa := &fakeApplier{}
	s, err := New(Config{Socket: sock}, fa, &fakeShower{})
	if err != nil {
		t.Fatal(err)
	}
	c := runServer(t, s)
	ctx := t.Context()

	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Mode()&fs.ModeSocket == 0 {
		t.Errorf("socket mode = %v, want a socket with 0600", fi.Mode())
	}

	res, err := c.Apply(ctx, []byte("router bgp 64512\n"))
	if err != nil || res.Path != apply.PathFast {
		t.Fatalf("Apply = %+v, %v; want the fast path", res, err)
	}
	res, err = c.Apply(ctx, []byte("bogus\n"))
	var ae *apply.Error
	if !errors.As(err, &ae) || ae.Stage != apply.StageReload || !strings.Contains(ae.Message, "Unknown command") {
		t.Fatalf("bad Apply err = %v, want an *apply.Error carrying FRR's message", err)
	}
	if res.Failure == nil {
		t.Errorf("bad Apply result %+v has no Failure", res)
	}

	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Sessions) != 3 || len(st.BFDPeers) != 3 || len(st.BFDCounters) != 1 || len(st.Errors) != 0 {
		t.Errorf("status = %d sessions, %d bfd peers, %d bfd counters, errors %v; want 3, 3, 1, none", len(st.Sessions), len(st.BFDPeers), len(st.BFDCounters), st.Errors)
	}
	for _, n := range st.Sessions {
		if n.VRF != "default" {
			t.Errorf("session %s has VRF %q, want default", n.Address, n.VRF)
		}
	}
	if st.LastApply == nil || st.LastApply.Result.Failure == nil {
		t.Errorf("status last apply = %+v, want the failed one", st.LastApply)
	}
	// FRR's running config, with passwords redacted.
	running, err := c.RunningConfig(ctx)
	if err != nil || running != "router bgp 64512\n neighbor 192.0.2.1 password <redacted>\n" {
		t.Errorf("RunningConfig = %q, %v; want the fake's, redacted", running, err)
	}
	if diff := cmp.Diff([]string{"router bgp 64512\n", "bogus\n"}, fa.applied); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}
}

func TestAgentUnhealthyWhenVtyshFails(t *testing.T) {
	s, err := New(Config{Socket: socketPath(t)}, &fakeApplier{}, &fakeShower{})
	if err != nil {
		t.Fatal(err)
	}
	c := runServer(t, s)
	s.shower.(*fakeShower).fail.Store(true)
	err = c.Healthz(t.Context())
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "failed to connect") {
		t.Errorf("Healthz = %v, want 503 with vtysh's message", err)
	}
	st, err := c.Status(t.Context())
	if err != nil || len(st.Errors) != 3 {
		t.Errorf("Status = %+v, %v; want three errors and no failure", st, err)
	}
}

func TestAgentResyncs(t *testing.T) {
	fa := &fakeApplier{}
	s, err := New(Config{Socket: socketPath(t), FullResyncInterval: 20 * time.Millisecond}, fa, &fakeShower{})
	if err != nil {
		t.Fatal(err)
	}
	c := runServer(t, s)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		st, err := c.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.LastResync != nil && st.LastResync.Result.Reason == "resync" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("no resync recorded")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestAgentSocketHandling(t *testing.T) {
	t.Run("stale socket replaced", func(t *testing.T) {
		sock := socketPath(t)
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		// Leave the file behind as a crashed agent would.
		ln.(*net.UnixListener).SetUnlinkOnClose(false)
		ln.Close()
		s, err := New(Config{Socket: sock, SocketMode: 0o660}, &fakeApplier{}, &fakeShower{})
		if err != nil {
			t.Fatal(err)
		}
		runServer(t, s)
		fi, err := os.Stat(sock)
		if err != nil || fi.Mode().Perm() != 0o660 {
			t.Errorf("socket = %v, %v; want mode 0660", fi, err)
		}
	})
	t.Run("regular file in the way", func(t *testing.T) {
		sock := socketPath(t)
		if err := os.WriteFile(sock, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := New(Config{Socket: sock}, &fakeApplier{}, &fakeShower{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "not a socket") {
			t.Errorf("Run = %v, want a refusal", err)
		}
	})
	t.Run("socket removed after Run", func(t *testing.T) {
		sock := socketPath(t)
		s, err := New(Config{Socket: sock}, &fakeApplier{}, &fakeShower{})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		c := NewClient(sock)
		defer c.CloseIdleConnections()
		for c.Healthz(ctx) != nil {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(sock); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("socket still there after Run: %v", err)
		}
	})
}

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no socket", Config{}, "socket path is empty"},
		{"bad mode", Config{Socket: "/x", SocketMode: 0o666}, "want 0600 or 0660"},
		{"negative resync", Config{Socket: "/x", FullResyncInterval: -time.Second}, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.cfg, &fakeApplier{}, &fakeShower{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestApplyRequestErrors(t *testing.T) {
	fa := &fakeApplier{}
	s, err := New(Config{Socket: "unused.sock", MaxConfigBytes: 32}, fa, &fakeShower{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, contentType, body string
		wantCode                int
		wantError               string
	}{
		{name: "json is refused", contentType: "application/json", body: `{"config":"router bgp 1\n"}`, wantCode: http.StatusUnsupportedMediaType, wantError: `content type "application/json"`},
		{name: "no content type", body: "router bgp 1\n", wantCode: http.StatusUnsupportedMediaType, wantError: `content type ""`},
		{name: "too large", contentType: "text/plain", body: strings.Repeat("x", 33), wantCode: http.StatusRequestEntityTooLarge, wantError: "reading apply request"},
		{name: "text is applied", contentType: "text/plain; charset=utf-8", body: "router bgp 1\n", wantCode: http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/apply", strings.NewReader(tc.body))
			if tc.contentType != "" {
				req.Header.Set("Content-Type", tc.contentType)
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.wantCode {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantCode, rec.Body)
			}
			var eb errorBody
			if tc.wantError != "" && (json.Unmarshal(rec.Body.Bytes(), &eb) != nil || !strings.Contains(eb.Error, tc.wantError)) {
				t.Errorf("body = %s, want an error containing %q", rec.Body, tc.wantError)
			}
		})
	}
	if diff := cmp.Diff([]string{"router bgp 1\n"}, fa.applied); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}
}

// sessionShower answers `show bgp neighbors json` with one neighbor in
// the state it is set to.
type sessionShower struct{ state atomic.Value }

func (f *sessionShower) Show(_ context.Context, cmd string) ([]byte, error) {
	if cmd != "show bgp neighbors json" {
		return []byte("FRRouting 8.4.4"), nil
	}
	return []byte(`{"192.0.2.1":{"remoteAs":64500,"localAs":64512,"bgpState":"` + f.state.Load().(string) + `"}}`), nil
}

// TestAgentHoldsBackBFDUntilSessionsUp checks that the first configs go
// to FRR without their neighbor BFD lines, and the last one whole once
// every session is up.
func TestAgentHoldsBackBFDUntilSessionsUp(t *testing.T) {
	sh := &sessionShower{}
	sh.state.Store("Active")
	fa := &fakeApplier{}
	s, err := New(Config{Socket: socketPath(t), RestoreWait: time.Hour}, fa, sh)
	if err != nil {
		t.Fatal(err)
	}
	c := runServer(t, s)
	conf := func(n int) string {
		return fmt.Sprintf("router bgp 64512\n neighbor 192.0.2.1 remote-as 64500\n neighbor 192.0.2.1 bfd profile lab\n address-family ipv4 unicast\n  network 203.0.113.%d/32\n exit-address-family\nexit\n", n)
	}
	for _, n := range []int{1, 2} {
		if _, err := c.Apply(t.Context(), []byte(conf(n))); err != nil {
			t.Fatal(err)
		}
	}
	fa.mu.Lock()
	held := slices.Clone(fa.applied)
	fa.mu.Unlock()
	if len(held) != 2 || strings.Contains(held[0], " bfd") || strings.Contains(held[1], " bfd") || !strings.Contains(held[1], "203.0.113.2/32") {
		t.Fatalf("while the session is down, applied %q; want both configs without their bfd lines", held)
	}

	sh.state.Store("Established")
	deadline := time.Now().Add(30 * time.Second)
	for fa.Desired() == nil || string(fa.Desired()) != conf(2) {
		if time.Now().After(deadline) {
			t.Fatalf("session up, but the last config applied is %q; want %q", fa.Desired(), conf(2))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// From then on, configs are applied whole.
	if _, err := c.Apply(t.Context(), []byte(conf(3))); err != nil {
		t.Fatal(err)
	}
	if got := string(fa.Desired()); got != conf(3) {
		t.Errorf("after the release, applied %q; want %q", got, conf(3))
	}
}

// TestAgentBFDHoldEdges checks that a config without BFD lines asked for
// during the wait is the one released, and that a first config without
// BFD lines ends the hold.
func TestAgentBFDHoldEdges(t *testing.T) {
	const withBFD = "router bgp 64512\n neighbor 192.0.2.1 remote-as 64500\n neighbor 192.0.2.1 bfd\nexit\n"
	const noBFD = "router bgp 64512\n neighbor 192.0.2.1 remote-as 64500\n neighbor 192.0.2.1 description r\nexit\n"
	start := func(t *testing.T) (*Client, *fakeApplier, *sessionShower) {
		sh := &sessionShower{}
		sh.state.Store("Active")
		fa := &fakeApplier{}
		s, err := New(Config{Socket: socketPath(t), RestoreWait: time.Hour}, fa, sh)
		if err != nil {
			t.Fatal(err)
		}
		return runServer(t, s), fa, sh
	}
	t.Run("BFD removed during the wait", func(t *testing.T) {
		c, fa, sh := start(t)
		for _, conf := range []string{withBFD, noBFD} {
			if _, err := c.Apply(t.Context(), []byte(conf)); err != nil {
				t.Fatal(err)
			}
		}
		sh.state.Store("Established")
		deadline := time.Now().Add(30 * time.Second)
		for string(fa.Desired()) != noBFD {
			if time.Now().After(deadline) {
				t.Fatalf("released %q; want the last config %q", fa.Desired(), noBFD)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("first config without BFD", func(t *testing.T) {
		c, fa, _ := start(t)
		for _, conf := range []string{noBFD, withBFD} {
			if _, err := c.Apply(t.Context(), []byte(conf)); err != nil {
				t.Fatal(err)
			}
			// The session stays down: only the end of the hold lets the
			// second config in whole.
			if got := string(fa.Desired()); got != conf {
				t.Errorf("applied %q; want %q whole", got, conf)
			}
		}
	})
}
