package state

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/ipam"
)

func lbService(ns, name string, ips ...string) corev1.Service {
	s := corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer}}
	for _, ip := range ips {
		s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
	}
	return s
}

var sliceCount int

// slice makes an EndpointSlice of svc; its name is svc-<n>, n counting
// the slices made so far, so that each is distinct as in a cluster.
func slice(ns, svc string, eps ...discoveryv1.Endpoint) discoveryv1.EndpointSlice {
	sliceCount++
	return discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", svc, sliceCount), Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		Endpoints:  eps,
	}
}

func ep(node string, ready, serving, terminating *bool) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{NodeName: &node, Conditions: discoveryv1.EndpointConditions{Ready: ready, Serving: serving, Terminating: terminating}}
}

func TestBuild(t *testing.T) {
	model := &config.Model{Pools: []config.Pool{{Name: "p", Ranges: []ipam.Range{{First: netip.MustParseAddr("192.0.2.0"), Last: netip.MustParseAddr("192.0.2.255")}}}}}
	yes, no := ptr.To(true), ptr.To(false)
	local := lbService("b", "local", "192.0.2.2")
	local.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	dual := lbService("a", "dual", "2001:db8::1", "192.0.2.1")
	dual.Annotations = map[string]string{"metallb.io/ip-allocated-from-pool": "named", "metallb.universe.tf/allow-shared-ip": "k"}
	dual.Labels = map[string]string{"exposure": "public"}
	other := lbService("a", "other-class", "192.0.2.3")
	other.Spec.LoadBalancerClass = ptr.To("x.io/lb")
	cip := lbService("a", "clusterip", "192.0.2.4")
	cip.Spec.Type = corev1.ServiceTypeClusterIP

	nodes := []corev1.Node{
		{ObjectMeta: metav1.ObjectMeta{Name: "n2", Labels: map[string]string{LabelExcludeFromLB: ""}}},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"zone": "a"}},
			Spec:       corev1.NodeSpec{Unschedulable: true},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue},
				{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionTrue},
			}},
		},
	}
	svcs := []corev1.Service{local, dual, other, cip, lbService("a", "pending")}
	eps := []discoveryv1.EndpointSlice{
		slice("b", "local", ep("n3", yes, nil, nil), ep("n1", no, yes, yes), ep("n2", no, yes, no), ep("n3", yes, nil, nil)),
		slice("a", "dual", ep("n1", nil, nil, nil)),
		slice("a", "dual", ep("n4", no, no, nil)),
	}
	got := Build(model, nodes, svcs, eps, "")
	want := &Cluster{
		Model: model,
		Nodes: []Node{
			{Name: "n1", Labels: labels.Set{"zone": "a"}, NetworkUnavailable: true, Ready: true},
			{Name: "n2", Labels: labels.Set{LabelExcludeFromLB: ""}, Excluded: true},
		},
		Services: []Service{
			{Namespace: "a", Name: "dual", IPs: []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}, Pool: "p" /* the annotated pool does not exist: found by the IP */, ServingNodes: []string{"n1"}, Labels: labels.Set{"exposure": "public"}, SharingKey: "k"},
			{Namespace: "b", Name: "local", IPs: []netip.Addr{netip.MustParseAddr("192.0.2.2")}, Pool: "p", ETPLocal: true, ServingNodes: []string{"n2", "n3"}},
		},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmp.Comparer(func(a, b *config.Model) bool { return a == b })); diff != "" {
		t.Errorf("Build() (-want +got):\n%s", diff)
	}
	n1, _ := got.Node("n1")
	n2, _ := got.Node("n2")
	if n1.MayAnnounce() || n1.Draining() || n2.MayAnnounce() || !n2.Draining() {
		t.Errorf("node predicates wrong: n1 may=%v drain=%v, n2 may=%v drain=%v", n1.MayAnnounce(), n1.Draining(), n2.MayAnnounce(), n2.Draining())
	}
	if _, ok := got.Node("n9"); ok {
		t.Error("Node(n9) found")
	}
	if !got.Services[1].ServedOn("n3") || got.Services[1].ServedOn("n1") {
		t.Error("ServedOn wrong")
	}
}

// TestCompareKeys checks CompareKeys against comparing the Keys, over
// names with bytes below and above '/' (which no Kubernetes name holds).
func TestCompareKeys(t *testing.T) {
	parts := []string{"", "a", "ab", "a-b", "a.b", "b", "a0", "a!", "a~"}
	var svcs []Service
	for _, ns := range parts {
		for _, name := range parts {
			svcs = append(svcs, Service{Namespace: ns, Name: name})
		}
	}
	for _, a := range svcs {
		for _, b := range svcs {
			if got, want := CompareKeys(a, b), strings.Compare(a.Key(), b.Key()); got != want {
				t.Errorf("CompareKeys(%q, %q) = %d, want %d", a.Key(), b.Key(), got, want)
			}
		}
	}
}
