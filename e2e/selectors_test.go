package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/e2e/lab"
)

// TestBGPServiceSelectors runs the lab with speakers and a
// BGPAdvertisement whose serviceSelectors select one of two Services of
// its pool: the router gets the selected Service's route from every
// node, never the other's, until the other is labelled too.
func TestBGPServiceSelectors(t *testing.T) {
	l := startSpeakerLab(t)
	waitSessions(t, l)
	ctx := t.Context()
	kube := l.Kube()
	objs := []client.Object{
		&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "selected"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.192/28"}}},
		&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "selected"}, Spec: v1beta1.BGPAdvertisementSpec{
			IPAddressPools:   []string{"selected"},
			ServiceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"exposure": "public"}}},
		}},
	}
	for _, o := range objs {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatalf("creating %T: %v", o, err)
		}
	}
	service := func(name string, labels map[string]string) netip.Addr {
		t.Helper()
		ips := newService(t, l, name, func(s *corev1.Service) {
			s.Annotations["metallb.io/address-pool"] = "selected"
			s.Labels = labels
		})
		if err := l.CreateEndpoints(ctx, "lab", name, "ilb-n1"); err != nil {
			t.Fatal(err)
		}
		return ips[0]
	}
	all := nodeIPv4s("ilb-n1", "ilb-n2", "ilb-n3")
	// The unselected Service first: once the selected one's route is
	// in, every speaker has rendered a state that holds both.
	private := service("private", map[string]string{"exposure": "private"})
	public := service("public", map[string]string{"exposure": "public"})
	waitCond(t, "the selected Service's route from every node", func(ctx context.Context) (bool, string) {
		gws, err := nextHops(ctx, public)
		return err == nil && slices.Equal(gws, all), fmt.Sprint(gws, err)
	})
	if gws, err := nextHops(ctx, private); err != nil || len(gws) > 0 {
		t.Errorf("the router has a route to the unselected Service's %s: next hops %v (%v)", private, gws, err)
	}

	var svc corev1.Service
	if err := kube.Get(ctx, types.NamespacedName{Namespace: "lab", Name: "private"}, &svc); err != nil {
		t.Fatal(err)
	}
	svc.Labels = map[string]string{"exposure": "public"}
	if err := kube.Update(ctx, &svc); err != nil {
		t.Fatal(err)
	}
	waitCond(t, "the relabelled Service's route from every node", func(ctx context.Context) (bool, string) {
		gws, err := nextHops(ctx, private)
		return err == nil && slices.Equal(gws, all), fmt.Sprint(gws, err)
	})
}
