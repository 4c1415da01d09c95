package apply

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Vtysh is the VTY over the vtysh and frr-reload.py binaries.
type Vtysh struct {
	// Pathspace is the FRR pathspace (-N); empty for the default one.
	Pathspace string
	// VtyshPath defaults to /usr/bin/vtysh.
	VtyshPath string
	// ReloadPath defaults to /usr/lib/frr/frr-reload.py.
	ReloadPath string
	// TempDir holds the file handed to frr-reload.py (mode 0600, removed
	// afterwards). Default os.TempDir().
	TempDir string
}

// maxArg stays below Linux's limit for one argument (128 KiB); a script
// is split into several -c arguments of at most this size. Scripts
// larger than maxScript go through a file instead (vtysh -f), so that the
// whole command line stays below ARG_MAX.
const (
	maxArg    = 96 << 10
	maxScript = 1 << 20
)

func (v Vtysh) vtysh() string {
	if v.VtyshPath == "" {
		return "/usr/bin/vtysh"
	}
	return v.VtyshPath
}

func (v Vtysh) base() []string {
	if v.Pathspace == "" {
		return nil
	}
	return []string{"-N", v.Pathspace}
}

// Exec implements VTY with `vtysh -c 'configure terminal' -c SCRIPT...
// -c end -c SHOW`: vtysh keeps its context from one -c to the next and
// stops at the first failing command with exit status 1.
func (v Vtysh) Exec(ctx context.Context, script []byte, show string) ([]byte, error) {
	if len(script) > maxScript {
		return v.execFile(ctx, script, show)
	}
	args := append(v.base(), "-c", "configure terminal")
	for _, chunk := range splitLines(script, maxArg) {
		args = append(args, "-c", chunk)
	}
	args = append(args, "-c", "end")
	if show != "" {
		args = append(args, "-c", show)
	}
	return v.run(ctx, "vtysh", v.vtysh(), args...)
}

// Show runs one show command (`vtysh -c CMD`) and returns its output.
func (v Vtysh) Show(ctx context.Context, cmd string) ([]byte, error) {
	return v.run(ctx, "vtysh", v.vtysh(), append(v.base(), "-c", cmd)...)
}

// execFile runs a large script with `vtysh -f`, which goes on after a
// failing line and then exits 2, and runs show in a second call.
func (v Vtysh) execFile(ctx context.Context, script []byte, show string) ([]byte, error) {
	path, cleanup, err := v.tempFile(script)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	out, err := v.run(ctx, "vtysh -f", v.vtysh(), append(v.base(), "-f", path)...)
	if err != nil || show == "" {
		return out, err
	}
	return v.run(ctx, "vtysh", v.vtysh(), append(v.base(), "-c", show)...)
}

// Reload implements VTY with `frr-reload.py --reload --pathspace NAME
// --stdout --log-level warning FILE`; it logs only warnings and errors,
// which hold FRR's messages.
func (v Vtysh) Reload(ctx context.Context, config []byte) ([]byte, error) {
	path, cleanup, err := v.tempFile(config)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	tool := v.ReloadPath
	if tool == "" {
		tool = "/usr/lib/frr/frr-reload.py"
	}
	args := []string{"--reload", "--stdout", "--log-level", "warning",
		"--bindir", filepath.Dir(v.vtysh())}
	if v.Pathspace != "" {
		args = append(args, "--pathspace", v.Pathspace)
	}
	args = append(args, path)
	return v.run(ctx, "frr-reload.py", tool, args...)
}

func (v Vtysh) tempFile(data []byte) (string, func(), error) {
	f, err := os.CreateTemp(v.TempDir, "ironlb-frr-*.conf")
	if err != nil {
		return "", nil, fmt.Errorf("writing frr config file: %w", err)
	}
	cleanup := func() { os.Remove(f.Name()) }
	if _, err := f.Write(data); err != nil {
		f.Close()
		cleanup()
		return "", nil, fmt.Errorf("writing frr config file: %w", err)
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("writing frr config file: %w", err)
	}
	return f.Name(), cleanup, nil
}

func (v Vtysh) run(ctx context.Context, what, bin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("running %s: %w: %s", what, err, Redact(strings.TrimSpace(out.String())))
	}
	return out.Bytes(), nil
}

// splitLines cuts text at line ends into pieces of at most max bytes (a
// longer single line makes a piece of its own).
func splitLines(text []byte, max int) []string {
	var out []string
	s := string(bytes.TrimRight(text, "\n"))
	for len(s) > max {
		cut := strings.LastIndexByte(s[:max], '\n')
		if cut <= 0 {
			cut = strings.IndexByte(s, '\n')
			if cut < 0 {
				break
			}
		}
		out = append(out, s[:cut])
		s = s[cut+1:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}
