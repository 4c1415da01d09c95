package speaker_test

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/internal/testenv"
	"github.com/ironlb/ironlb/speaker"
	"github.com/ironlb/ironlb/state"
)

// TestSpeakerNodeChanges cordons the speaker's node or labels it
// node.kubernetes.io/exclude-from-external-load-balancers, under the
// speaker's options, and checks what reaches FRR: the node keeps
// announcing its Service, or drains (GRACEFUL_SHUTDOWN, then withdraw).
func TestSpeakerNodeChanges(t *testing.T) {
	cordon := func(n *corev1.Node) { n.Spec.Unschedulable = true }
	exclude := func(n *corev1.Node) { n.Labels[state.LabelExcludeFromLB] = "" }
	tests := []struct {
		name   string
		opts   state.NodeOptions
		change func(*corev1.Node)
		drains bool
	}{
		{name: "a cordon changes nothing", change: cordon},
		{name: "a cordon drains with drain-on-cordon", opts: state.NodeOptions{DrainOnCordon: true}, change: cordon, drains: true},
		{name: "the exclude label drains", change: exclude, drains: true},
		{name: "the exclude label drains with drain-on-cordon", opts: state.NodeOptions{DrainOnCordon: true}, change: exclude, drains: true},
		{name: "the exclude label is ignored with ignore-exclude-lb", opts: state.NodeOptions{IgnoreExcludeLabel: true}, change: exclude},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := testenv.Start(t, testenv.Options{})
			c := env.Client
			create := seedBGP(t, c, map[string]string{"rack": "a"})
			// A second peer only for nodes labelled "marker": the
			// change of the node comes with the label, in one update, so
			// the config that has this peer is the first made from the
			// changed node.
			create(&v1beta2.BGPPeer{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "marker"},
				Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64501, Address: "192.0.2.2", NodeSelectors: []metav1.LabelSelector{{
					MatchLabels: map[string]string{"marker": "yes"},
				}}},
			})
			svc := &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
				Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}},
			}
			create(svc)
			svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.5"}}
			if err := c.Status().Update(t.Context(), svc); err != nil {
				t.Fatal(err)
			}
			create(&discoveryv1.EndpointSlice{
				ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: "web-1", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
				AddressType: discoveryv1.AddressTypeIPv4,
				Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: ptr.To("n1"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
			})
			frr := startSpeaker(t, env, func(cfg *speaker.Config) { cfg.NodeOptions = tc.opts })
			testenv.Eventually(t, "the service announced", func() (bool, string) {
				l := frr.last()
				return strings.Contains(l, "network 203.0.113.5/32") && !strings.Contains(l, "graceful-shutdown"), l
			})

			var n corev1.Node
			if err := c.Get(t.Context(), types.NamespacedName{Name: "n1"}, &n); err != nil {
				t.Fatal(err)
			}
			tc.change(&n)
			n.Labels["marker"] = "yes"
			before := frr.count()
			if err := c.Update(t.Context(), &n); err != nil {
				t.Fatal(err)
			}
			testenv.Eventually(t, "a config made from the changed node", func() (bool, string) {
				return strings.Contains(frr.last(), "neighbor 192.0.2.2 remote-as 64501"), frr.last()
			})
			if !tc.drains {
				for i, l := range frr.all()[before:] {
					if !strings.Contains(l, "network 203.0.113.5/32") || strings.Contains(l, "graceful-shutdown") {
						t.Fatalf("config %d after the change does not announce 203.0.113.5/32 as before:\n%s", before+i, l)
					}
				}
				return
			}
			testenv.Eventually(t, "the graceful shutdown community", func() (bool, string) {
				for _, l := range frr.all()[before:] {
					if strings.Contains(l, "graceful-shutdown") && strings.Contains(l, "network 203.0.113.5/32") {
						return true, ""
					}
				}
				return false, fmt.Sprintf("%d configs since the change, last:\n%s", frr.count()-before, frr.last())
			})
			testenv.Eventually(t, "the withdrawal after the drain delay", func() (bool, string) {
				l := frr.last()
				return !strings.Contains(l, "203.0.113.5") && strings.Contains(l, "neighbor 192.0.2.2 remote-as 64501"), l
			})
		})
	}
}
