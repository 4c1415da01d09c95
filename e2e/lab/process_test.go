package lab

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func startSleep(t *testing.T, name string, tier int) (*started, string) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{pidsDir, logsDir} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s, err := startProc(procSpec{name: name, tier: tier, argv: []string{"sleep", "600"}}, filepath.Join(dir, pidsDir), filepath.Join(dir, logsDir))
	if err != nil {
		t.Fatalf("startProc: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(s.id.pid, syscall.SIGKILL)
		<-s.exited
	})
	return s, dir
}

func TestStartAndStopProcess(t *testing.T) {
	s, dir := startSleep(t, "sleeper", 2)
	if err := s.running(); err != nil {
		t.Fatalf("running() = %v right after start", err)
	}
	tiers, err := readPidFiles(filepath.Join(dir, pidsDir))
	if err != nil {
		t.Fatalf("readPidFiles: %v", err)
	}
	if diff := cmp.Diff([][]procID{{s.id}}, tiers, cmp.AllowUnexported(procID{})); diff != "" {
		t.Errorf("readPidFiles mismatch (-want +got):\n%s", diff)
	}
	// As Teardown from another process: no exit channel, polls /proc.
	if err := stopProcs(context.Background(), tiers[0], nil); err != nil {
		t.Fatalf("stopProcs: %v", err)
	}
	<-s.exited
	if s.id.alive() {
		t.Errorf("pid %d alive after stopProcs", s.id.pid)
	}
	if err := s.running(); err == nil {
		t.Errorf("running() = nil after stop")
	}
}

// TestStopProcsSparesReusedPid: a pid file whose start time does not
// match names another process now, which must not be signalled.
func TestStopProcsSparesReusedPid(t *testing.T) {
	s, _ := startSleep(t, "bystander", 2)
	stale := procID{pid: s.id.pid, start: s.id.start + 1}
	if err := stopProcs(context.Background(), []procID{stale}, nil); err != nil {
		t.Fatalf("stopProcs: %v", err)
	}
	if err := s.running(); err != nil {
		t.Errorf("bystander was stopped: %v", err)
	}
}

func TestReadPidFilesOrdersTiersDown(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"0-etcd.pid":           "10 100\n",
		"2-controller.pid":     "30 300\n",
		"1-kube-apiserver.pid": "20 200\n",
		"2-ilb-n1-proxy.pid":   "31 301\n",
		"notes.txt":            "ignored",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := readPidFiles(dir)
	if err != nil {
		t.Fatalf("readPidFiles: %v", err)
	}
	want := [][]procID{{{30, 300}, {31, 301}}, {{20, 200}}, {{10, 100}}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(procID{})); diff != "" {
		t.Errorf("readPidFiles mismatch (-want +got):\n%s", diff)
	}
	missing, err := readPidFiles(filepath.Join(dir, "nope"))
	if err != nil || missing != nil {
		t.Errorf("readPidFiles(missing dir) = %v, %v; want nil, nil", missing, err)
	}
}

func TestStartProcReportsEarlyExit(t *testing.T) {
	dir := t.TempDir()
	s, err := startProc(procSpec{name: "false", argv: []string{"sh", "-c", "echo broken config >&2; exit 3"}}, dir, dir)
	if err != nil {
		return // exited before its identity was read: reported at once
	}
	<-s.exited
	if err := s.running(); err == nil {
		t.Fatalf("running() = nil for an exited process")
	}
}
