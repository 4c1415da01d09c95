package charttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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

// TestSecureMetricsValues checks what metrics.secure and the TLS Secret
// values give each component: the flags, and the Secret mounted where
// --metrics-cert-dir points.
func TestSecureMetricsValues(t *testing.T) {
	for _, tc := range []struct {
		name       string
		set        string
		wantSecure bool
		wantSecret map[string]string // component -> Secret
	}{
		{name: "plain HTTP by default", set: "metrics.secure=false,metrics.controllerTLSSecret=ignored"},
		{name: "HTTPS, self-signed", set: "metrics.secure=true", wantSecure: true},
		{name: "HTTPS with both Secrets", set: "metrics.secure=true,metrics.controllerTLSSecret=c-tls,metrics.speakerTLSSecret=s-tls", wantSecure: true,
			wantSecret: map[string]string{"controller": "c-tls", "speaker": "s-tls"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := render(t, cases()[0], "--set", tc.set)
			for _, w := range []struct{ kind, name, container string }{
				{"Deployment", "ironlb-controller", "controller"},
				{"DaemonSet", "ironlb-speaker", "speaker"},
			} {
				spec := podSpec(t, b, w.kind, w.name)
				c := container(t, spec, w.container)
				args := strings.Join(c.Args, " ")
				if got := strings.Contains(args, "--metrics-secure"); got != tc.wantSecure {
					t.Errorf("%s args %q: --metrics-secure %v, want %v", w.container, args, got, tc.wantSecure)
				}
				secret := tc.wantSecret[w.container]
				if got := strings.Contains(args, "--metrics-cert-dir=/etc/ironlb/metrics-tls"); got != (secret != "") {
					t.Errorf("%s args %q: --metrics-cert-dir %v, want %v", w.container, args, got, secret != "")
				}
				var mounted, volume string
				for _, m := range c.VolumeMounts {
					if m.MountPath == "/etc/ironlb/metrics-tls" {
						mounted = m.Name
					}
				}
				for _, v := range spec.Volumes {
					if v.Name == mounted && v.Secret != nil {
						volume = v.Secret.SecretName
					}
				}
				if volume != secret {
					t.Errorf("%s: Secret mounted at the cert dir = %q, want %q", w.container, volume, secret)
				}
			}
		})
	}
}
