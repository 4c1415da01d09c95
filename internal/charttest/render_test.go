package charttest

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/ironlb/ironlb/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// kubeVersion is the cluster version the chart is rendered for; helm built
// by `go install` would otherwise assume v1.20, below the chart's minimum.
const kubeVersion = "1.34.0"

// chartCase is one way of installing the chart.
type chartCase struct {
	name      string
	release   string
	namespace string
	// values is a file in testdata/values/, or empty for the defaults.
	values string
}

// cases are the golden renderings. Each has its own release and namespace,
// so that all of them can be installed side by side in one API server.
func cases() []chartCase {
	return []chartCase{
		{name: "default", release: "ironlb", namespace: "metallb-system"},
		{name: "cert-manager", release: "ironlb-cm", namespace: "ironlb-cm", values: "cert-manager.yaml"},
		{name: "servicemonitor", release: "ironlb-sm", namespace: "ironlb-sm", values: "servicemonitor.yaml"},
		{name: "custom-frr-image", release: "ironlb-frr", namespace: "ironlb-frr", values: "custom-frr-image.yaml"},
		{name: "namespace-override", release: "lb", namespace: "default", values: "namespace-override.yaml"},
		{name: "minimal", release: "ironlb-min", namespace: "ironlb-min", values: "minimal.yaml"},
		{name: "prometheusrule", release: "ironlb-pr", namespace: "ironlb-pr", values: "prometheusrule.yaml"},
		{name: "l2-lease", release: "ironlb-l2l", namespace: "ironlb-l2l", values: "l2-lease.yaml"},
		{name: "frr-k8s", release: "ironlb-fk", namespace: "ironlb-fk", values: "frr-k8s.yaml"},
	}
}

func repoRoot() string { return testenv.RepoRoot() }

func chartDir() string { return filepath.Join(repoRoot(), "charts", "ironlb") }

// helmBin returns bin/helm, failing the test when it is missing (`make
// tools` builds it) and skipping in -short mode.
func helmBin(t testing.TB) string {
	t.Helper()
	p := filepath.Join(repoRoot(), "bin", "helm")
	if _, err := os.Stat(p); err != nil {
		if testing.Short() {
			t.Skip("bin/helm missing (run hack/build-helm.sh)")
		}
		t.Fatalf("bin/helm missing: run `make tools` or hack/build-helm.sh: %v", err)
	}
	return p
}

// helm runs bin/helm and returns its output; stderr goes into the error.
func helm(t testing.TB, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Keep helm away from the user's configuration and caches.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home, "KUBECONFIG="+filepath.Join(home, "none"))
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// templateArgs are the `helm template` arguments for c, plus extra.
func templateArgs(c chartCase, extra ...string) []string {
	args := []string{"template", c.release, chartDir(), "--namespace", c.namespace, "--kube-version", kubeVersion}
	if c.values != "" {
		args = append(args, "--values", filepath.Join("testdata", "values", c.values))
	}
	return append(args, extra...)
}

// render returns the chart rendered for c.
func render(t testing.TB, c chartCase, extra ...string) []byte {
	t.Helper()
	out, err := helm(t, templateArgs(c, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// randomKey matches the memberlist key, which is new on every rendering.
var randomKey = regexp.MustCompile(`(?m)^(\s+secretkey: )"[A-Za-z0-9+/=]+"$`)

// normalize replaces what changes from one rendering to the next.
func normalize(b []byte) []byte {
	return randomKey.ReplaceAll(b, []byte(`${1}"RANDOM"`))
}

// decode splits a rendering into objects.
func decode(t testing.TB, b []byte) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decoding rendered YAML: %v", err)
		}
		if m == nil {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// find returns the one object of kind and name in objs.
func find(t testing.TB, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s in the rendering", kind, name)
	return nil
}
