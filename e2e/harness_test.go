package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ironlb/ironlb/e2e/lab"
	"github.com/ironlb/ironlb/internal/frrproc"
)

// repoRoot is the repository's top folder.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the repository")
	}
	return filepath.Dir(filepath.Dir(file))
}

// skipUnlessLabCanRun skips t when the lab cannot run here: not root,
// -short, or no FRR or iproute2.
func skipUnlessLabCanRun(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("the lab is not run with -short")
	}
	frrproc.SkipUnlessRoot(t)
}

// buildIronlb builds the ironlb binary the lab runs.
func buildIronlb(t testing.TB) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "ironlb")
	cmd := exec.Command(goBin, "build", "-o", bin, "./cmd/ironlb")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building ironlb: %v\n%s", err, out)
	}
	return bin
}

// labConfig returns the configuration `make lab-up` uses, with a fresh
// state folder and a freshly built binary.
func labConfig(t testing.TB) lab.Config {
	t.Helper()
	root := repoRoot(t)
	kubeBin := filepath.Join(root, "bin", "k8s")
	for _, b := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(kubeBin, b)); err != nil {
			t.Fatalf("missing %s (run `make tools`): %v", b, err)
		}
	}
	// Not t.TempDir(): FRR's daemons, running as user frr, write their
	// logs below it, so it must be reachable by others. Down removes it.
	state, err := os.MkdirTemp("", "ironlb-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(state, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(state) })
	return lab.Config{
		StateDir:   state,
		Binary:     buildIronlb(t),
		KubeBinDir: kubeBin,
		CRDDir:     filepath.Join(root, "charts", "ironlb", "crds"),
		Manifests:  []string{filepath.Join(root, "examples", "lab")},
		Log:        slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
}

// startSpeakerLab skips unless the lab can run, then brings it up with
// the speakers for t (see startLab).
func startSpeakerLab(t testing.TB) *lab.Lab {
	t.Helper()
	skipUnlessLabCanRun(t)
	cfg := labConfig(t)
	cfg.Speakers = true
	return startLab(t, cfg)
}

// startLab brings the lab up for t and takes it down when t ends, after
// printing the processes' logs if t failed.
func startLab(t testing.TB, cfg lab.Config) *lab.Lab {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	begin := time.Now()
	l, err := lab.Up(ctx, cfg)
	if err != nil {
		t.Fatalf("lab up: %v", err)
	}
	t.Logf("lab up took %v", time.Since(begin).Round(time.Millisecond))
	t.Cleanup(func() {
		if err := l.Down(context.Background()); err != nil {
			t.Errorf("lab down: %v", err)
		}
	})
	t.Cleanup(func() {
		if t.Failed() {
			dumpLogs(t, l)
		}
	})
	return l
}

// dumpLogs prints the end of every log of the lab.
func dumpLogs(t testing.TB, l *lab.Lab) {
	t.Helper()
	logs := map[string]string{}
	for _, p := range l.Processes() {
		logs[p.Name] = p.Log
	}
	frrLogs, _ := filepath.Glob(filepath.Join(l.FRRLogDir(lab.RouterNetns), "*.log"))
	for _, f := range frrLogs {
		logs["frr "+filepath.Base(f)] = f
	}
	names := make([]string, 0, len(logs))
	for n := range logs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := os.ReadFile(logs[n])
		if err != nil {
			t.Logf("--- %s: %v", n, err)
			continue
		}
		if len(data) > 4000 {
			data = data[len(data)-4000:]
		}
		t.Logf("--- %s:\n%s", n, strings.TrimSpace(string(data)))
	}
}

// rootSnapshot describes the root namespace's addresses, routes and
// rules, which the lab must leave alone.
func rootSnapshot(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, argv := range [][]string{
		{"ip", "-br", "addr"},
		{"ip", "route", "show", "table", "all"},
		{"ip", "-6", "route", "show", "table", "main"},
		{"ip", "rule"},
		{"ip", "-6", "rule"},
	} {
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(argv, " "), err, out)
		}
		fmt.Fprintf(&b, "$ %s\n%s", strings.Join(argv, " "), out)
	}
	return b.String()
}
