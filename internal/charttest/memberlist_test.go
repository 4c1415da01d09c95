package charttest

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestMemberlistPodsSelector checks the speaker's --memberlist-pods in
// every rendering: it is the DaemonSet's own selector, so it selects the
// speaker pods of this release and not the controller's; without
// memberlist there is none.
func TestMemberlistPodsSelector(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			objs := decode(t, render(t, c))
			var ds appsv1.DaemonSet
			var deploy appsv1.Deployment
			for _, o := range objs {
				var into any
				switch o.GetKind() {
				case "DaemonSet":
					into = &ds
				case "Deployment":
					into = &deploy
				default:
					continue
				}
				if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, into); err != nil {
					t.Fatal(err)
				}
			}
			var sel []string
			for _, a := range container(t, ds.Spec.Template.Spec, "speaker").Args {
				if v, ok := strings.CutPrefix(a, "--memberlist-pods="); ok {
					sel = append(sel, v)
				}
			}
			if c.values == "minimal.yaml" { // memberlist off
				if len(sel) > 0 {
					t.Errorf("--memberlist-pods %q without memberlist", sel)
				}
				return
			}
			if len(sel) != 1 {
				t.Fatalf("--memberlist-pods given %d times, want once", len(sel))
			}
			got, err := labels.Parse(sel[0])
			if err != nil {
				t.Fatalf("--memberlist-pods %q: %v", sel[0], err)
			}
			want := labels.SelectorFromSet(ds.Spec.Selector.MatchLabels)
			if d := cmp.Diff(want.String(), got.String()); d != "" {
				t.Errorf("--memberlist-pods is not the DaemonSet's selector (-want +got):\n%s", d)
			}
			if !got.Matches(labels.Set(ds.Spec.Template.Labels)) {
				t.Errorf("--memberlist-pods %q does not select the speaker pods %v", got, ds.Spec.Template.Labels)
			}
			if got.Matches(labels.Set(deploy.Spec.Template.Labels)) {
				t.Errorf("--memberlist-pods %q selects the controller pods %v", got, deploy.Spec.Template.Labels)
			}
			r, _ := got.Requirements()
			if !slices.ContainsFunc(r, func(r labels.Requirement) bool { return r.Key() == "app.kubernetes.io/instance" }) {
				t.Errorf("--memberlist-pods %q does not tell releases apart", got)
			}
		})
	}
}
