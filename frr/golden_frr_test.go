package frr

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/internal/frrproc"
)

// frrReload is FRR's reload script, which the speaker uses too.
const frrReload = "/usr/lib/frr/frr-reload.py"

// TestGoldenFRR loads every golden file into a real FRR, each in its own
// network namespace and pathspace: frr-reload.py --test must accept it,
// --reload must apply it, show running-config must then hold each of
// its lines (see missingLines for the one normalization), and a second
// --test must find nothing left to change, so reloading an unchanged
// frr.conf is a no-op. It runs as root only.
func TestGoldenFRR(t *testing.T) {
	frrproc.SkipUnlessRoot(t)
	if _, err := os.Stat(frrReload); err != nil {
		t.Skipf("needs %s: %v", frrReload, err)
	}
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.golden"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files in %s: %v", goldenDir, err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".golden")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			golden, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			loadIntoFRR(t, golden)
		})
	}
}

// loadIntoFRR starts an FRR, reloads conf into it and checks the result.
func loadIntoFRR(t *testing.T, conf []byte) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	ns := frrproc.UniqueName("ilbt-golden-")
	if err := frrproc.AddNetns(ctx, ns); err != nil {
		t.Fatalf("creating netns: %v", err)
	}
	t.Cleanup(func() {
		if err := frrproc.DeleteNetns(context.Background(), ns); err != nil {
			t.Errorf("deleting netns %s: %v", ns, err)
		}
	})
	f := frrproc.StartTest(t, frrproc.Config{Netns: ns})
	path := filepath.Join(t.TempDir(), "frr.conf")
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatal(err)
	}

	if out, err := reload(ctx, f, "--test", path); err != nil {
		t.Fatalf("frr-reload.py --test rejects the file: %v\n%s", err, out)
	}
	if out, err := reload(ctx, f, "--reload", path); err != nil && !onlyKnownGRFailure(string(conf), out) {
		t.Fatalf("frr-reload.py --reload failed: %v\n%s", err, out)
	}
	running, err := f.Vtysh(ctx, "show running-config")
	if err != nil {
		t.Fatalf("show running-config: %v", err)
	}
	if missing := missingLines(string(conf), string(running)); len(missing) > 0 {
		t.Errorf("show running-config lacks %d lines of the file:\n%s\nrunning-config:\n%s", len(missing), strings.Join(missing, "\n"), running)
	}
	out, err := reload(ctx, f, "--test", path)
	if err != nil {
		t.Fatalf("second frr-reload.py --test: %v\n%s", err, out)
	}
	if left := pendingChanges(out); len(left) > 0 {
		t.Errorf("after the reload, frr-reload.py still finds changes:\n%s", strings.Join(left, "\n"))
	}
}

// reload runs frr-reload.py in the pathspace of f with its log on
// standard error, and returns its combined output.
func reload(ctx context.Context, f *frrproc.FRR, mode, path string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "python3", frrReload, "--stdout", "--pathspace", f.Name(), mode, path)
	return cmd.CombinedOutput()
}

// grNeighborLine is the per-neighbor graceful-restart line; FRR 8.4
// rejects it when it is given a second time, which frr-reload.py does
// (FRRouting/frr#15880).
var grNeighborLine = regexp.MustCompile(`(?m)^ neighbor \S+ graceful-restart$`)

// onlyKnownGRFailure reports whether a failed reload of conf failed only
// on per-neighbor graceful-restart lines: the configuration is applied,
// which the checks after the reload confirm.
func onlyKnownGRFailure(conf string, out []byte) bool {
	if !grNeighborLine.MatchString(conf) {
		return false
	}
	failures := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "Failure to communicate") {
			if !strings.HasSuffix(line, "graceful-restart") {
				return false
			}
			failures++
		}
	}
	return failures > 0
}

// missingLines returns the lines of conf, each prefixed by the lines
// that open its blocks, that running lacks. The one normalization: the
// hostname line is dropped, as vtysh shows the hostname of its own
// process, not FRR's. Comments and block ends are ignored.
func missingLines(conf, running string) []string {
	have := map[string]bool{}
	for _, l := range contextLines(running) {
		have[l] = true
	}
	var out []string
	for _, l := range contextLines(conf) {
		if !have[l] && !strings.HasPrefix(l, "hostname ") {
			out = append(out, l)
		}
	}
	return out
}

// contextLines returns the lines of an FRR configuration, each prefixed
// by the lines that open the blocks it is in (" > " between), without
// comments, blank lines and block ends. A line opens a block for the
// lines below it that are indented more.
func contextLines(text string) []string {
	type open struct {
		indent int
		line   string
	}
	var stack []open
	var out []string
	for _, raw := range strings.Split(text, "\n") {
		line := strings.TrimRight(raw, " \t\r")
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case trimmed == "", trimmed[0] == '!', trimmed == "exit", trimmed == "exit-address-family", trimmed == "exit-vrf", trimmed == "end":
			continue
		}
		indent := len(line) - len(trimmed)
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		path := make([]string, 0, len(stack)+1)
		for _, o := range stack {
			path = append(path, o.line)
		}
		out = append(out, strings.Join(append(path, trimmed), " > "))
		stack = append(stack, open{indent: indent, line: trimmed})
	}
	return out
}

// pendingChanges returns the lines frr-reload.py --test would still
// delete or add, but for the hostname (see missingLines).
func pendingChanges(out []byte) []string {
	text := string(out)
	i := strings.Index(text, "Lines To Delete")
	if i < 0 {
		return []string{"(no diff in the output of frr-reload.py --test)", text}
	}
	var left []string
	for _, line := range strings.Split(text[i:], "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "", trimmed == "Lines To Delete", trimmed == "Lines To Add", strings.Trim(trimmed, "=") == "",
			strings.HasPrefix(trimmed, "hostname "), strings.HasPrefix(trimmed, "no hostname "):
			continue
		}
		left = append(left, line)
	}
	return left
}

func TestContextLines(t *testing.T) {
	conf := "! comment\nhostname x\nrouter bgp 1\n neighbor a remote-as 2\n !\n address-family ipv4 unicast\n  network p\n exit-address-family\nexit\n!\nroute-map m deny 1\nexit\n"
	got := contextLines(conf)
	want := []string{
		"hostname x",
		"router bgp 1",
		"router bgp 1 > neighbor a remote-as 2",
		"router bgp 1 > address-family ipv4 unicast",
		"router bgp 1 > address-family ipv4 unicast > network p",
		"route-map m deny 1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("contextLines (-want +got):\n%s", diff)
	}
	gotMissing := missingLines(conf, "hostname other\nrouter bgp 1\n address-family ipv4 unicast\n  network p\n")
	wantMissing := []string{"router bgp 1 > neighbor a remote-as 2", "route-map m deny 1"}
	if diff := cmp.Diff(wantMissing, gotMissing); diff != "" {
		t.Errorf("missingLines (-want +got):\n%s", diff)
	}
}
