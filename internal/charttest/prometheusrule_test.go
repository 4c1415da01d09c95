package charttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestPrometheusRuleAlerts renders the chart's PrometheusRule and runs
// `promtool test rules` (testdata/promtool/alerts_test.yaml) on it:
// MetalLB's alerts and ironlb's fire on series shaped as the components
// export them, and only then.
func TestPrometheusRuleAlerts(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if testing.Short() {
			t.Skip("promtool missing (Debian package prometheus; hack/install-deps.sh installs it)")
		}
		t.Fatalf("promtool missing: install Debian's prometheus package (hack/install-deps.sh): %v", err)
	}
	c := chartCase{name: "prometheusrule", release: "ironlb-pr", namespace: "ironlb-pr", values: "prometheusrule.yaml"}
	rule := find(t, decode(t, render(t, c)), "PrometheusRule", "ironlb-pr")
	groups, ok, err := unstructured.NestedSlice(rule.Object, "spec", "groups")
	if err != nil || !ok || len(groups) != 1 {
		t.Fatalf("spec.groups = %v (%v), want one group", groups, err)
	}
	rules, err := yaml.Marshal(map[string]any{"groups": groups})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join("testdata", "promtool", "alerts_test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alerts_test.yaml"), tests, 0o644); err != nil {
		t.Fatal(err)
	}
	check := exec.Command(promtool, "check", "rules", "rules.yaml")
	check.Dir = dir
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
	run := exec.Command(promtool, "test", "rules", "alerts_test.yaml")
	run.Dir = dir
	if out, err := run.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}
