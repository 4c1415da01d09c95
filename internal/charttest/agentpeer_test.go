package charttest

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestFRRAgentServesTheSpeaker checks, in every rendering, that the FRR
// agent serves the speaker's user: the agent accepts only connections
// from its -peer-uid, by default its own uid, which is the frr
// container's.
func TestFRRAgentServesTheSpeaker(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			var ds *appsv1.DaemonSet
			for _, o := range decode(t, render(t, c)) {
				if o.GetKind() == "DaemonSet" {
					ds = &appsv1.DaemonSet{}
					if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, ds); err != nil {
						t.Fatal(err)
					}
				}
			}
			if ds == nil {
				t.Skip("no speaker in this rendering")
			}
			spec := ds.Spec.Template.Spec
			if !slices.ContainsFunc(spec.Containers, func(c corev1.Container) bool { return c.Name == "frr" }) {
				t.Skip("no FRR sidecar in this rendering (frrk8s.external)")
			}
			uid := func(name string) int64 {
				t.Helper()
				sc := container(t, spec, name).SecurityContext
				switch {
				case sc != nil && sc.RunAsUser != nil:
					return *sc.RunAsUser
				case spec.SecurityContext != nil && spec.SecurityContext.RunAsUser != nil:
					return *spec.SecurityContext.RunAsUser
				}
				t.Fatalf("container %s has no runAsUser: the agent's peer check depends on the image's user", name)
				return -1
			}
			want := uid("frr")
			frr := container(t, spec, "frr")
			for _, a := range append(frr.Command, frr.Args...) {
				if v, ok := strings.CutPrefix(a, "--peer-uid="); ok {
					n, err := strconv.ParseInt(v, 10, 64)
					if err != nil {
						t.Fatalf("frr container arg %q: %v", a, err)
					}
					want = n
				}
			}
			if got := uid("speaker"); got != want {
				t.Errorf("speaker runs as uid %d, the FRR agent serves uid %d only", got, want)
			}
		})
	}
}
