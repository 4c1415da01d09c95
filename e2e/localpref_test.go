package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/e2e/lab"
	"github.com/ironlb/ironlb/frr/vtyshjson"
	"github.com/ironlb/ironlb/internal/frrproc"
)

// collectorConfig makes the LAN client an iBGP route collector of the
// nodes' AS: LOCAL_PREF only crosses iBGP sessions, and the lab's router
// is an eBGP peer.
func collectorConfig() []byte {
	var peers, act string
	for _, n := range lab.Nodes() {
		peers += fmt.Sprintf(" neighbor %s remote-as internal\n", n.IPv6)
		act += fmt.Sprintf("  neighbor %s activate\n", n.IPv6)
	}
	return []byte(fmt.Sprintf(`frr defaults traditional
router bgp %d
 bgp router-id %s
 no bgp default ipv4-unicast
%s !
 address-family ipv6 unicast
%s exit-address-family
exit
!
`, lab.NodeAS, lab.LANClientIPv4, peers, act))
}

// testLocalPref adds an iBGP peer (an FRR in the LAN client's namespace)
// and an advertisement with a localPref and a community limited to it,
// and checks what that peer receives from every node.
func testLocalPref(t *testing.T, l *lab.Lab) {
	ctx := t.Context()
	kube := l.Kube()
	collector := frrproc.StartTest(t, frrproc.Config{
		Name:          frrproc.UniqueName("ilb-coll"),
		Netns:         lab.LANClientNetns,
		Daemons:       []string{"zebra", "bgpd"},
		InitialConfig: collectorConfig(),
	})
	objs := []client.Object{
		&v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "collector"}, Spec: v1beta2.BGPPeerSpec{
			MyASN: lab.NodeAS, ASN: lab.NodeAS, Address: lab.LANClientIPv6,
		}},
		&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "preferred"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"2001:db8:0:102::/124"}}},
		&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "preferred"}, Spec: v1beta1.BGPAdvertisementSpec{
			IPAddressPools: []string{"preferred"}, LocalPref: 150, Communities: []string{"65000:150"}, Peers: []string{"collector"},
		}},
	}
	for _, o := range objs {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatalf("creating %T: %v", o, err)
		}
	}
	t.Cleanup(func() {
		// The peer goes before the FRR behind it stops.
		for _, o := range slices.Backward(objs) {
			if err := kube.Delete(context.Background(), o); err != nil {
				t.Errorf("deleting %T %s: %v", o, o.GetName(), err)
			}
		}
	})
	ips := newService(t, l, "preferred", func(s *corev1.Service) {
		s.Annotations["metallb.io/address-pool"] = "preferred"
		single := corev1.IPFamilyPolicySingleStack
		s.Spec.IPFamilyPolicy = &single
		s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol}
	})
	if err := l.CreateEndpoints(ctx, "lab", "preferred", "ilb-n1", "ilb-n2", "ilb-n3"); err != nil {
		t.Fatal(err)
	}
	prefix := netip.PrefixFrom(ips[0], 128).String()
	var want []string
	for _, n := range lab.Nodes() {
		want = append(want, n.IPv6.String())
	}
	slices.Sort(want)
	waitCond(t, "three iBGP paths to "+prefix+" with localPref 150 and 65000:150", func(ctx context.Context) (bool, string) {
		out, err := collector.Vtysh(ctx, "show bgp ipv6 unicast "+prefix+" json")
		if err != nil {
			return false, err.Error()
		}
		r, err := vtyshjson.ParseBGPPrefix(out)
		if err != nil {
			return false, err.Error()
		}
		var from []string
		for _, p := range r.Paths {
			if p.From == "internal" && p.HasLocalPref && p.LocalPref == 150 && slices.Contains(p.Communities, "65000:150") {
				from = append(from, p.PeerID)
			}
		}
		slices.Sort(from)
		return slices.Equal(from, want), fmt.Sprintf("%+v", r.Paths)
	})
	// The router is not among the advertisement's peers.
	out, err := l.RouterVtysh(ctx, "show bgp ipv6 unicast "+prefix+" json")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := vtyshjson.ParseBGPPrefix(out); err == nil && len(r.Paths) > 0 {
		t.Errorf("the router got %s, announced only to the collector: %+v", prefix, r.Paths)
	}
}
