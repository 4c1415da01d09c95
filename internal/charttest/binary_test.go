package charttest

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildIronlb builds cmd/ironlb as the Dockerfile does: no cgo, trimmed
// paths.
func buildIronlb(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ironlb")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./cmd/ironlb")
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building ironlb: %v\n%s", err, b)
	}
	return out
}

// TestDockerfileBuildsStaticBinary checks that the Dockerfile builds the
// binary this test builds, and that it is static: distroless/static has no
// libc and no dynamic loader, and the frr container, where the binary
// also runs, has musl, not glibc.
func TestDockerfileBuildsStaticBinary(t *testing.T) {
	df, err := os.ReadFile(filepath.Join(repoRoot(), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CGO_ENABLED=0", "go build -trimpath -o /out/ironlb ./cmd/ironlb", "FROM gcr.io/distroless/static:nonroot", "USER 65532:65532", `ENTRYPOINT ["/ironlb"]`} {
		if !bytes.Contains(df, []byte(want)) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}

	bin := buildIronlb(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("reading ELF: %v", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary names a dynamic loader (PT_INTERP)")
		}
		if p.Type == elf.PT_DYNAMIC {
			t.Error("the binary has a dynamic section (PT_DYNAMIC)")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatalf("reading DT_NEEDED: %v", err)
	}
	if len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %q", libs)
	}
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if root := repoRoot(); bytes.Contains(raw, []byte(filepath.Clean(root)+string(filepath.Separator))) {
		t.Errorf("the binary contains the build folder %s: -trimpath missing", root)
	}
	// It runs without anything from the machine.
	out, err := exec.Command(bin, "help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "controller") {
		t.Errorf("running the binary: %v\n%s", err, out)
	}
}

// TestInitContainerCopiesBinary runs the speaker's init container command
// with the built binary: it must leave an identical, executable copy at
// the path the frr container runs the agent from. The ironlb image has no
// shell and no cp, so the binary copies itself.
func TestInitContainerCopiesBinary(t *testing.T) {
	helmBin(t)
	initC := container(t, podSpec(t, render(t, cases()[0]), "DaemonSet", "ironlb-speaker"), "install-ironlb")
	frr := container(t, podSpec(t, render(t, cases()[0]), "DaemonSet", "ironlb-speaker"), "frr")
	if len(initC.Command) < 2 || initC.Command[0] != "/ironlb" {
		t.Fatalf("init container command %q does not run /ironlb", initC.Command)
	}
	bin := buildIronlb(t)
	dest := t.TempDir()
	var args []string
	for _, a := range initC.Command[1:] {
		args = append(args, strings.ReplaceAll(a, "/ironlb-bin", dest))
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("the init container's command %q fails: %v (the ironlb binary must provide it)\n%s", initC.Command, err, out)
	}
	// The frr container runs the agent from the copy.
	copied := strings.ReplaceAll(frr.Args[0], "/ironlb-bin", dest)
	want, _ := os.ReadFile(bin)
	got, err := os.ReadFile(copied)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("no identical copy at %s: %v", copied, err)
	}
	if fi, err := os.Stat(copied); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("the copy is not executable: %v", fi.Mode())
	}
}
