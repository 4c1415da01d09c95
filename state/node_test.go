package state

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestNodeOf maps a node's labels and spec to whether it announces and
// whether it drains, under the speaker's options.
func TestNodeOf(t *testing.T) {
	type verdict struct {
		MayAnnounce, Draining bool
	}
	mk := func(labelled, cordoned bool, conds ...corev1.NodeCondition) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"zone": "a"}}}
		if labelled {
			n.Labels[LabelExcludeFromLB] = "true"
		}
		n.Spec.Unschedulable = cordoned
		n.Status.Conditions = conds
		return n
	}
	ignore := NodeOptions{IgnoreExcludeLabel: true}
	drain := NodeOptions{DrainOnCordon: true}
	both := NodeOptions{IgnoreExcludeLabel: true, DrainOnCordon: true}
	noNetwork := corev1.NodeCondition{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionTrue}
	tests := []struct {
		name string
		node *corev1.Node
		opts NodeOptions
		want verdict
	}{
		{name: "plain node", node: mk(false, false), want: verdict{MayAnnounce: true}},
		{name: "cordon changes nothing by default", node: mk(false, true), want: verdict{MayAnnounce: true}},
		{name: "cordon changes nothing with the exclude label ignored", node: mk(false, true), opts: ignore, want: verdict{MayAnnounce: true}},
		{name: "cordon drains with drain-on-cordon", node: mk(false, true), opts: drain, want: verdict{MayAnnounce: true, Draining: true}},
		{name: "uncordoned node with drain-on-cordon", node: mk(false, false), opts: drain, want: verdict{MayAnnounce: true}},
		{name: "exclude label drains and announces nothing", node: mk(true, false), want: verdict{Draining: true}},
		{name: "exclude label with drain-on-cordon", node: mk(true, false), opts: drain, want: verdict{Draining: true}},
		{name: "exclude label ignored", node: mk(true, false), opts: ignore, want: verdict{MayAnnounce: true}},
		{name: "exclude label ignored, cordoned", node: mk(true, true), opts: ignore, want: verdict{MayAnnounce: true}},
		{name: "exclude label ignored, cordon drains", node: mk(true, true), opts: both, want: verdict{MayAnnounce: true, Draining: true}},
		{name: "labelled and cordoned", node: mk(true, true), want: verdict{Draining: true}},
		{name: "network unavailable", node: mk(false, false, noNetwork), want: verdict{}},
		{name: "network unavailable, exclude label ignored", node: mk(true, false, noNetwork), opts: ignore, want: verdict{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := NodeOf(tc.node, tc.opts)
			got := verdict{MayAnnounce: n.MayAnnounce(), Draining: n.Draining()}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("NodeOf() (-want +got):\n%s", diff)
			}
			if n.Name != "n1" || n.Labels["zone"] != "a" {
				t.Errorf("NodeOf() lost the name or labels: %+v", n)
			}
		})
	}
}

// TestNodesSortsAndAppliesOptions checks that Nodes gives every node the
// options and sorts them by name.
func TestNodesSortsAndAppliesOptions(t *testing.T) {
	nodes := []corev1.Node{
		{ObjectMeta: metav1.ObjectMeta{Name: "n2"}, Spec: corev1.NodeSpec{Unschedulable: true}},
		{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{LabelExcludeFromLB: ""}}},
	}
	got := Nodes(nodes, NodeOptions{IgnoreExcludeLabel: true, DrainOnCordon: true})
	want := []Node{
		{Name: "n1", Labels: map[string]string{LabelExcludeFromLB: ""}},
		{Name: "n2", Unschedulable: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Nodes() (-want +got):\n%s", diff)
	}
}
