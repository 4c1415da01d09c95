package migrate_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ironlb/ironlb/migrate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestWriteText renders a report with every verdict and severity.
func TestWriteText(t *testing.T) {
	in := migrate.Input{
		Namespace: ns,
		Objects: []unstructured.Unstructured{
			poolObj(t, "a", true, "192.0.2.10-192.0.2.19"),
			poolObj(t, "b", false, "198.51.100.10-198.51.100.19"),
		},
		Services: []corev1.Service{
			svc("kept", 1, byMetalLB("a", "192.0.2.19")),
			svc("renamed", 2, byMetalLB("old", "198.51.100.11")),
			svc("outside", 3, byMetalLB("a", "203.0.113.1")),
			svc("other-class", 4, class("x.io/lb"), byMetalLB("a", "192.0.2.18")),
			svc("legacy", 5, annotate("metallb.universe.tf/allow-shared-ip", "k")),
		},
		Nodes:       []corev1.Node{node("cp-1", map[string]string{migrate.ExcludeLBLabel: ""})},
		Deployments: []appsv1.Deployment{controllerDeployment(ns, "quay.io/metallb/controller:v0.15.2")},
		DaemonSets:  []appsv1.DaemonSet{speakerDaemonSet(ns, "quay.io/metallb/speaker:v0.16.1", "--ignore-exclude-lb")},
	}
	var b bytes.Buffer
	if err := migrate.WriteText(&b, migrate.Check(in)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", t.Name()+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the golden file (go test -update writes it): %v", err)
	}
	if diff := cmp.Diff(string(want), b.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}
}
