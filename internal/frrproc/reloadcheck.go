package frrproc

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// ReloadScript is FRR's reload script, which the speaker uses too.
const ReloadScript = "/usr/lib/frr/frr-reload.py"

// CheckReload starts an FRR for t and loads conf into it the way the
// speaker does: frr-reload.py --test must accept it, --reload must apply
// it, show running-config must then hold each of its lines within its
// block (see MissingLines), and a second --test must find nothing left
// to change, so reloading an unchanged frr.conf is a no-op. It skips t
// unless root and the reload script are there.
func CheckReload(t *testing.T, conf []byte) {
	t.Helper()
	SkipUnlessRoot(t)
	if _, err := os.Stat(ReloadScript); err != nil {
		t.Skipf("needs %s: %v", ReloadScript, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	f := StartTest(t, Config{})
	path := filepath.Join(t.TempDir(), "frr.conf")
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	reload := func(mode string) ([]byte, error) { return Reload(ctx, f, mode, path) }
	if out, err := reload("--test"); err != nil {
		t.Fatalf("frr-reload.py --test rejects the file: %v\n%s", err, out)
	}
	if out, err := reload("--reload"); err != nil && !onlyKnownGRFailure(string(conf), out) {
		t.Fatalf("frr-reload.py --reload failed: %v\n%s", err, out)
	}
	running, err := f.Vtysh(ctx, "show running-config")
	if err != nil {
		t.Fatalf("show running-config: %v", err)
	}
	if missing := MissingLines(string(conf), string(running)); len(missing) > 0 {
		t.Errorf("show running-config lacks %d lines of the file:\n%s\nrunning-config:\n%s", len(missing), strings.Join(missing, "\n"), running)
	}
	out, err := reload("--test")
	if err != nil {
		t.Fatalf("second frr-reload.py --test: %v\n%s", err, out)
	}
	if left := pendingChanges(out); len(left) > 0 {
		t.Errorf("after the reload, frr-reload.py still finds changes:\n%s", strings.Join(left, "\n"))
	}
}

// Reload runs frr-reload.py with mode ("--test" or "--reload") on the
// file at path in the pathspace of f, and returns its combined output.
func Reload(ctx context.Context, f *FRR, mode, path string) ([]byte, error) {
	return exec.CommandContext(ctx, "python3", ReloadScript, "--stdout", "--pathspace", f.Name(), mode, path).CombinedOutput()
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

// MissingLines returns the lines of conf, each prefixed by the lines
// that open its blocks, that running lacks. The one normalization: the
// hostname line is dropped, as vtysh shows the hostname of its own
// process, not FRR's. Comments and block ends are ignored.
func MissingLines(conf, running string) []string {
	have := map[string]bool{}
	for _, l := range ContextLines(running) {
		have[l] = true
	}
	var out []string
	for _, l := range ContextLines(conf) {
		if !have[l] && !strings.HasPrefix(l, "hostname ") {
			out = append(out, l)
		}
	}
	return out
}

// ContextLines returns the lines of an FRR configuration, each prefixed
// by the lines that open the blocks it is in (" > " between), without
// comments, blank lines and block ends. A line opens a block for the
// lines below it that are indented more.
func ContextLines(text string) []string {
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
// delete or add, but for the hostname (see MissingLines).
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
