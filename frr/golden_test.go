package frr

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of the tests run")

// goldenDir holds TestGolden's files, one per case.
const goldenDir = "testdata/TestGolden"

// TestGolden renders each golden case and compares it with
// testdata/TestGolden/<case>.golden. Run with -update to rewrite the
// files; a mismatch leaves the output in <case>.got (gitignored).
// TestGoldenFRR loads the same files into a real FRR.
func TestGolden(t *testing.T) {
	r := newTestRenderer(t)
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Render(tc.build(t))
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join(goldenDir, tc.name+".golden"), got)
		})
	}
}

// TestGoldenFilesHaveCases catches golden files whose case is gone.
func TestGoldenFilesHaveCases(t *testing.T) {
	names := map[string]bool{}
	for _, tc := range goldenCases(t) {
		if names[tc.name] {
			t.Errorf("two golden cases are named %q", tc.name)
		}
		names[tc.name] = true
	}
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := filepath.Base(f); !names[name[:len(name)-len(".golden")]] {
			t.Errorf("%s has no golden case", f)
		}
	}
}

func newTestRenderer(t testing.TB) *Renderer {
	t.Helper()
	r, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkGolden compares got with the golden file, or rewrites the file
// with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	gotPath := path[:len(path)-len(".golden")] + ".got"
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		_ = os.Remove(gotPath)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if bytes.Equal(want, got) {
		_ = os.Remove(gotPath)
		return
	}
	if err := os.WriteFile(gotPath, got, 0o644); err != nil {
		t.Errorf("writing %s: %v", gotPath, err)
	}
	t.Errorf("%s differs from the golden file (-want +got), output in %s:\n%s", path, gotPath, lineDiffText(splitLines(string(want)), splitLines(string(got))))
}
