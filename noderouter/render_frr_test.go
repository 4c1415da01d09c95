package noderouter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ironlb/ironlb/internal/frrproc"
)

// TestRenderGoldenFRR loads every golden file of TestRenderGolden into a
// real FRR, each in its own network namespace and pathspace, with the
// checks of frrproc.CheckReload. It runs as root only.
func TestRenderGoldenFRR(t *testing.T) {
	frrproc.SkipUnlessRoot(t)
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
			frrproc.CheckReload(t, conf)
		})
	}
}
