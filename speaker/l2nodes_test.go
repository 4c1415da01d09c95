package speaker

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/l2/election"
	"github.com/ironlb/ironlb/state"
)

// TestElectL2NodeOptions runs the Layer 2 election from Node objects as
// the reconciler reads them: n3, the first by the hash of 192.0.2.10,
// owns the IP unless its cordon or exclude label makes it drain, under
// the speakers' options.
func TestElectL2NodeOptions(t *testing.T) {
	mk := func(name string, mods ...func(*corev1.Node)) corev1.Node {
		n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
		for _, m := range mods {
			m(&n)
		}
		return n
	}
	cordon := func(n *corev1.Node) { n.Spec.Unschedulable = true }
	exclude := func(n *corev1.Node) { n.Labels[state.LabelExcludeFromLB] = "" }
	tests := []struct {
		name string
		n3   corev1.Node
		opts state.NodeOptions
		// want is n3's assignment: owned, handed over, or neither.
		wantOwned, wantHandover int
	}{
		{name: "plain: n3 owns", n3: mk("n3"), wantOwned: 1},
		{name: "cordoned: n3 keeps the IP", n3: mk("n3", cordon), wantOwned: 1},
		{name: "cordoned, drain-on-cordon: n3 hands over", n3: mk("n3", cordon), opts: state.NodeOptions{DrainOnCordon: true}, wantHandover: 1},
		{name: "exclude label: n3 hands over", n3: mk("n3", exclude), wantHandover: 1},
		{name: "exclude label ignored: n3 owns", n3: mk("n3", exclude), opts: state.NodeOptions{IgnoreExcludeLabel: true}, wantOwned: 1},
		{name: "exclude label ignored, cordoned: n3 owns", n3: mk("n3", exclude, cordon), opts: state.NodeOptions{IgnoreExcludeLabel: true}, wantOwned: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nodes := state.Nodes([]corev1.Node{mk("n1"), tc.n3}, tc.opts)
			c := l2Cluster(nodes...)
			res, _ := electL2(l2Inputs{cluster: c, node: "n3", self: nodeMeta{Any: true}})
			as := res.For("n3")
			if len(as.Owned) != tc.wantOwned || len(as.Handover) != tc.wantHandover {
				t.Errorf("n3 got %+v; want %d owned, %d handed over", as, tc.wantOwned, tc.wantHandover)
			}
			wantOwner := "n3"
			if tc.wantOwned == 0 {
				wantOwner = "n1"
			}
			if got := ownerOf(res, "web"); got != wantOwner {
				t.Errorf("the owner of a/web is %q, want %q", got, wantOwner)
			}
		})
	}
}

func ownerOf(res election.Result, name string) string {
	for _, s := range res.Services {
		if s.Name == name {
			return s.Node
		}
	}
	return ""
}
