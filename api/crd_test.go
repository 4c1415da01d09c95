package api_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ironlb/ironlb/internal/testenv"
)

// TestCRDsAreCurrent regenerates the CRDs into a temporary folder and
// compares them with the committed ones.
func TestCRDsAreCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds controller-gen")
	}
	root := testenv.RepoRoot()
	out := t.TempDir()
	cmd := exec.Command("go", "tool", "controller-gen", "crd:crdVersions=v1", "paths=./api/...", "output:crd:dir="+out)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("controller-gen: %v\n%s", err, b)
	}
	committed := filepath.Join(root, "charts", "ironlb", "crds")
	want, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadDir(committed)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != len(have) {
		t.Errorf("charts/ironlb/crds holds %d files, generation gives %d: run `make generate`", len(have), len(want))
	}
	for _, f := range want {
		gen, err := os.ReadFile(filepath.Join(out, f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		cur, err := os.ReadFile(filepath.Join(committed, f.Name()))
		if err != nil {
			t.Errorf("%s is missing from charts/ironlb/crds: run `make generate`", f.Name())
			continue
		}
		if !bytes.Equal(gen, cur) {
			t.Errorf("charts/ironlb/crds/%s is stale: run `make generate`", f.Name())
		}
	}
}
