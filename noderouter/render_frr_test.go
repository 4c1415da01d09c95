package noderouter

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ironlb/ironlb/internal/frrproc"
)

// frrReload is FRR's reload script, which the speaker uses too.
const frrReload = "/usr/lib/frr/frr-reload.py"

// TestRenderGoldenFRR loads every golden file of TestRenderGolden into a
// real FRR 8.4, each in its own network namespace and pathspace:
// frr-reload.py --test must accept it, --reload must apply it, show
// running-config must then hold each of its lines within its block, and
// a second --test must find nothing left to change. It runs as root
// only (run it under the lab lock: it makes network namespaces).
func TestRenderGoldenFRR(t *testing.T) {
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
			conf, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			loadIntoFRR(t, conf)
		})
	}
}

func loadIntoFRR(t *testing.T, conf []byte) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	f := frrproc.StartTest(t, frrproc.Config{})
	path := filepath.Join(t.TempDir(), "frr.conf")
	if err := os.WriteFile(path, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	reload := func(mode string) ([]byte, error) {
		return exec.CommandContext(ctx, "python3", frrReload, "--stdout", "--pathspace", f.Name(), mode, path).CombinedOutput()
	}
	if out, err := reload("--test"); err != nil {
		t.Fatalf("frr-reload.py --test rejects the file: %v\n%s", err, out)
	}
	if out, err := reload("--reload"); err != nil && !onlyGRNeighborFailures(out) {
		t.Fatalf("frr-reload.py --reload failed: %v\n%s", err, out)
	}
	running, err := f.Vtysh(ctx, "show running-config")
	if err != nil {
		t.Fatalf("show running-config: %v", err)
	}
	have := map[string]bool{}
	for _, l := range blockLines(string(running)) {
		have[l] = true
	}
	var missing []string
	for _, l := range blockLines(string(conf)) {
		if !have[l] && !strings.HasPrefix(l, "hostname ") {
			missing = append(missing, l)
		}
	}
	if len(missing) > 0 {
		t.Errorf("show running-config lacks %d lines of the file:\n%s\nrunning-config:\n%s", len(missing), strings.Join(missing, "\n"), running)
	}
	out, err := reload("--test")
	if err != nil {
		t.Fatalf("second frr-reload.py --test: %v\n%s", err, out)
	}
	if left := pending(string(out)); len(left) > 0 {
		t.Errorf("after the reload, frr-reload.py still finds changes:\n%s", strings.Join(left, "\n"))
	}
}

// onlyGRNeighborFailures reports whether the reload failed only on
// per-neighbor graceful-restart lines, which FRR 8.4 rejects when given
// twice although they are applied (FRRouting/frr#15880).
func onlyGRNeighborFailures(out []byte) bool {
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "Failure to communicate") {
			if !strings.HasSuffix(line, "graceful-restart") {
				return false
			}
			n++
		}
	}
	return n > 0
}

// blockLines returns the lines of an FRR configuration, each prefixed by
// the lines that open its blocks, without comments, blank lines and
// block ends.
func blockLines(text string) []string {
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
		parts := make([]string, 0, len(stack)+1)
		for _, o := range stack {
			parts = append(parts, o.line)
		}
		out = append(out, strings.Join(append(parts, trimmed), " > "))
		stack = append(stack, open{indent: indent, line: trimmed})
	}
	return out
}

// pending returns the lines frr-reload.py --test would still change, but
// for the hostname.
func pending(out string) []string {
	i := strings.Index(out, "Lines To Delete")
	if i < 0 {
		return []string{"(no diff in the output of frr-reload.py --test)", out}
	}
	var left []string
	for _, line := range strings.Split(out[i:], "\n") {
		tr := strings.TrimSpace(line)
		switch {
		case tr == "", tr == "Lines To Delete", tr == "Lines To Add", strings.Trim(tr, "=") == "",
			strings.HasPrefix(tr, "hostname "), strings.HasPrefix(tr, "no hostname "):
			continue
		}
		left = append(left, line)
	}
	return left
}
