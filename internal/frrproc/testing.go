package frrproc

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// SkipUnlessRoot skips t when the test does not run as root or when FRR
// or iproute2 is not installed.
func SkipUnlessRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces and run FRR")
	}
	for _, bin := range []string{"ip", "/usr/bin/vtysh", "/usr/lib/frr/zebra"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("needs %s: %v", bin, err)
		}
	}
}

// NewTestNetns creates a namespace named "ilbt-" plus random digits with
// its loopback up, and deletes it when t ends.
func NewTestNetns(t testing.TB) string {
	t.Helper()
	name := UniqueName("ilbt-")
	if err := AddNetns(t.Context(), name); err != nil {
		t.Fatalf("creating netns: %v", err)
	}
	t.Cleanup(func() {
		if err := DeleteNetns(context.Background(), name); err != nil {
			t.Errorf("deleting netns: %v", err)
		}
	})
	return name
}

// StartTest starts an FRR for t and stops it when t ends (before the
// netns made by an earlier NewTestNetns is deleted). An empty cfg.Name or
// cfg.Netns gets a unique pathspace or a new test namespace.
func StartTest(t testing.TB, cfg Config) *FRR {
	t.Helper()
	SkipUnlessRoot(t)
	if cfg.Netns == "" {
		cfg.Netns = NewTestNetns(t)
	}
	if cfg.Name == "" {
		cfg.Name = UniqueName("ilbt")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	f, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("starting frr: %v", err)
	}
	t.Cleanup(func() {
		if err := f.Stop(); err != nil {
			t.Errorf("stopping frr: %v", err)
		}
	})
	return f
}
