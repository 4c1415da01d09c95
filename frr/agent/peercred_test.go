package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestCheckPeer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		peer    peerCred
		uid     uint32
		wantErr string
	}{
		{name: "expected uid", peer: peerCred{PID: 10, UID: 65532, GID: 65532}, uid: 65532},
		{name: "root", peer: peerCred{PID: 10, UID: 0}, uid: 0},
		{name: "root is not the speaker's uid", peer: peerCred{PID: 10, UID: 0}, uid: 65532, wantErr: "peer uid 0 is not the expected uid 65532"},
		{name: "another user", peer: peerCred{PID: 10, UID: 1000, GID: 0}, uid: 0, wantErr: "peer uid 1000 is not the expected uid 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkPeer(tc.peer, tc.uid)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
				t.Errorf("checkPeer = %v, want error %q", err, tc.wantErr)
			}
		})
	}
}

// logBuffer collects an agent's JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// refusals returns the logged refusals.
func (b *logBuffer) refusals(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if line["msg"] == "frr agent refused a connection" {
			out = append(out, line)
		}
	}
	return out
}

// startServer runs s until t ends and waits for its socket, without
// talking to it (the test process may be refused).
func startServer(t *testing.T, s *Server) {
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
	for {
		if fi, err := os.Lstat(s.cfg.Socket); err == nil && fi.Mode()&fs.ModeSocket != 0 {
			return
		}
		select {
		case err := <-done:
			t.Fatalf("Run ended early: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestAgentRefusesOtherUsers runs the check in this process: the test
// runs as root, which reaches a 0600 socket of any owner, so a server
// expecting another uid must refuse it by its credentials alone.
func TestAgentRefusesOtherUsers(t *testing.T) {
	t.Run("own uid accepted by default", func(t *testing.T) {
		logs := &logBuffer{}
		s, err := New(Config{Socket: socketPath(t), Log: slog.New(slog.NewJSONHandler(logs, nil))}, &fakeApplier{}, &fakeShower{})
		if err != nil {
			t.Fatal(err)
		}
		c := runServer(t, s)
		if err := c.Healthz(t.Context()); err != nil {
			t.Errorf("Healthz = %v, want an answer", err)
		}
		if r := logs.refusals(t); len(r) != 0 {
			t.Errorf("refusals logged: %v", r)
		}
	})
	t.Run("other uid refused", func(t *testing.T) {
		if os.Getuid() != 0 {
			t.Skip("needs root to reach a socket of another expected uid")
		}
		logs := &logBuffer{}
		fa := &fakeApplier{}
		s, err := New(Config{Socket: socketPath(t), PeerUID: new(uint32(65532)), Log: slog.New(slog.NewJSONHandler(logs, nil))}, fa, &fakeShower{})
		if err != nil {
			t.Fatal(err)
		}
		startServer(t, s)
		c := NewClient(s.cfg.Socket)
		defer c.CloseIdleConnections()
		if _, err := c.Apply(t.Context(), []byte("router bgp 64512\n")); err == nil {
			t.Error("Apply from root succeeded, want the connection refused")
		}
		if len(fa.applied) != 0 {
			t.Errorf("applied %q from a refused peer", fa.applied)
		}
		r := logs.refusals(t)
		if len(r) == 0 {
			t.Fatal("no refusal logged")
		}
		if r[0]["peerUID"] != 0.0 || r[0]["peerPID"] != float64(os.Getpid()) || r[0]["wantUID"] != 65532.0 {
			t.Errorf("refusal = %v, want peerUID 0, peerPID %d, wantUID 65532", r[0], os.Getpid())
		}
	})
}

// peerClientEnv makes the test binary act as a client of the socket
// named by it (TestPeerClientProcess), so that it can be run as another
// user.
const peerClientEnv = "IRONLB_TEST_AGENT_PEER_SOCKET"

// TestPeerClientProcess is not a test: run with peerClientEnv set, it
// asks the agent for /healthz and prints "answered" or the error.
func TestPeerClientProcess(t *testing.T) {
	sock := os.Getenv(peerClientEnv)
	if sock == "" {
		t.Skip("only a helper process for TestAgentPeerOfAnotherUser")
	}
	c := NewClient(sock)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Healthz(ctx); err != nil {
		fmt.Printf("refused: %v\n", err)
	} else {
		fmt.Println("answered")
	}
	os.Exit(0)
}

// TestAgentPeerOfAnotherUser runs a client as another user (nobody, in
// root's group so that it reaches a 0660 socket) and checks that the
// agent serves it only when that user is the expected one.
func TestAgentPeerOfAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a process as another user")
	}
	const otherUID = 65534
	// The helper is this test binary, copied where the other user may
	// run it.
	dir, err := os.MkdirTemp("", "ilbt-peer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "agent.test")
	copyFile(t, self, bin)
	sock := filepath.Join(dir, "agent.sock")

	for _, tc := range []struct {
		name    string
		peerUID *uint32
		want    string
	}{
		{name: "expected user answered", peerUID: new(uint32(otherUID)), want: "answered"},
		{name: "other user refused", peerUID: nil, want: "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &logBuffer{}
			s, err := New(Config{Socket: sock, SocketMode: 0o660, PeerUID: tc.peerUID, Log: slog.New(slog.NewJSONHandler(logs, nil))}, &fakeApplier{}, &fakeShower{})
			if err != nil {
				t.Fatal(err)
			}
			startServer(t, s)
			cmd := exec.Command(bin, "-test.run=^TestPeerClientProcess$")
			cmd.Env = append(os.Environ(), peerClientEnv+"="+sock)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: otherUID, Gid: 0}}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("helper: %v\n%s", err, out.String())
			}
			if !strings.HasPrefix(out.String(), tc.want) {
				t.Fatalf("helper printed %q, want %q", out.String(), tc.want)
			}
			r := logs.refusals(t)
			if tc.want == "answered" {
				if len(r) != 0 {
					t.Errorf("refusals logged: %v", r)
				}
				return
			}
			if len(r) == 0 {
				t.Fatal("no refusal logged")
			}
			if r[0]["peerUID"] != float64(otherUID) || r[0]["peerPID"] != float64(cmd.Process.Pid) || r[0]["wantUID"] != 0.0 {
				t.Errorf("refusal = %v, want peerUID %d, peerPID %d, wantUID 0", r[0], otherUID, cmd.Process.Pid)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestAgentSocketModeUnderPermissiveUmask checks the socket's mode with
// umask 0, and that no look at the path during startup ever sees wider
// permissions than asked.
func TestAgentSocketModeUnderPermissiveUmask(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	for _, mode := range []fs.FileMode{0o600, 0o660} {
		t.Run(strconv.FormatUint(uint64(mode), 8), func(t *testing.T) {
			sock := socketPath(t)
			s, err := New(Config{Socket: sock, SocketMode: mode}, &fakeApplier{}, &fakeShower{})
			if err != nil {
				t.Fatal(err)
			}
			// Watch the path from before Run until the agent answers.
			stop := make(chan struct{})
			seen := make(chan fs.FileMode, 1)
			go func() {
				var wide fs.FileMode
				defer func() { seen <- wide }()
				for {
					if fi, err := os.Lstat(sock); err == nil && fi.Mode().Perm()&^mode != 0 {
						wide = fi.Mode().Perm()
					}
					select {
					case <-stop:
						return
					default:
					}
				}
			}()
			runServer(t, s)
			close(stop)
			if wide := <-seen; wide != 0 {
				t.Errorf("socket seen with mode %#o during startup, want never wider than %#o", wide, mode)
			}
			fi, err := os.Stat(sock)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != mode || fi.Mode()&fs.ModeSocket == 0 {
				t.Errorf("socket mode = %v, want a socket with %#o", fi.Mode(), mode)
			}
			entries, err := os.ReadDir(filepath.Dir(sock))
			if err != nil || len(entries) != 1 {
				t.Errorf("socket folder holds %v (%v), want the socket alone", entries, err)
			}
		})
	}
}
