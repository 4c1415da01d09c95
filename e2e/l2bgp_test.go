package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/e2e/lab"
)

// testL2AndBGP gives one pool, on the LAN's subnet, both an
// L2Advertisement and a BGPAdvertisement: the LAN client resolves the IP
// to the elected node's MAC, while the router holds an ECMP route over
// all three nodes and the remote client reaches the Service through it.
func testL2AndBGP(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	objs := []client.Object{
		&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "both"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.160/29"}}},
		&v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "both"}, Spec: v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"both"}}},
		&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "both"}, Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"both"}}},
	}
	for _, o := range objs {
		if err := l.Kube().Create(ctx, o); err != nil {
			t.Fatalf("creating %T: %v", o, err)
		}
	}
	t.Cleanup(func() {
		for _, o := range slices.Backward(objs) {
			if err := l.Kube().Delete(context.Background(), o); err != nil {
				t.Errorf("deleting %T %s: %v", o, o.GetName(), err)
			}
		}
	})
	ips := createL2Service(t, l, l2ServiceSpec{name: "l2-bgp", pool: "both", endpoints: allNodes()})
	ip := ips[0]

	owner := waitOwner(t, l, "l2-bgp", nil)
	waitClientReaches(t, ip, owner)
	waitNeighbor(t, ip, linkMAC(t, owner, lab.LANLink))

	all := nodeIPv4s(allNodes()...)
	l2Wait(t, fmt.Sprintf("the router's ECMP route to %s", ip), func(ctx context.Context) (bool, string) {
		gws, err := nextHops(ctx, ip)
		return err == nil && slices.Equal(gws, all), fmt.Sprint(gws, err)
	})
	l2Wait(t, "the remote client reaching "+ip.String()+" through the router", func(ctx context.Context) (bool, string) {
		body, err := lab.HTTPGet(ctx, lab.RemoteClientNetns, serviceURL(ip))
		node := strings.TrimSpace(body)
		return err == nil && slices.Contains(allNodes(), node), fmt.Sprintf("%q, %v", body, err)
	})
}
