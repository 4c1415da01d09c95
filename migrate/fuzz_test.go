package migrate_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/ironlb/ironlb/migrate"
)

// FuzzComponents feeds arbitrary images and arguments of workloads, which
// come from the cluster: finding MetalLB in them must never panic, and
// what it reports must hold together.
func FuzzComponents(f *testing.F) {
	for _, seed := range [][2]string{
		{"quay.io/metallb/controller:v0.16.1", "--lb-class=x"},
		{"metallb/speaker@sha256:00", "--ignore-exclude-lb"},
		{"registry:5000/metallb/speaker", "--lb-class"},
		{":::/metallb/controller:", "-ml-bindport=7946"},
		{"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, image, arg string) {
		d := controllerDeployment(ns, image, arg)
		rep := migrate.Check(migrate.Input{Namespace: ns, Deployments: []appsv1.Deployment{d}})
		for _, c := range rep.MetalLB {
			if c.Role != "controller" && c.Role != "speaker" {
				t.Fatalf("role %q", c.Role)
			}
			if strings.Contains(c.Version, "/") || strings.Contains(c.Version, "@") {
				t.Fatalf("version %q of image %q", c.Version, image)
			}
			for _, fl := range c.Flags {
				if !strings.Contains(fl, "=") {
					t.Fatalf("flag %q without a value", fl)
				}
			}
		}
	})
}
