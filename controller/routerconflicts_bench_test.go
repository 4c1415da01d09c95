package controller

import (
	"fmt"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/noderouter"
)

// benchAddr is the n-th address of 2001:db8:1000::/112.
func benchAddr(n int) netip.Addr {
	b := netip.MustParseAddr("2001:db8:1000::").As16()
	b[14], b[15] = byte(n>>8), byte(n)
	return netip.AddrFrom16(b)
}

// BenchmarkFRRWebhookLocalPref is the FRRConfiguration webhook's merge
// (after the API reads) for an object that sets a local preference on
// one of 10,000 Service prefixes, announced with a local preference to
// ironlb's iBGP peer by every one of the nodes the object selects.
func BenchmarkFRRWebhookLocalPref(b *testing.B) {
	const services = 10000
	for _, nodeCount := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("nodes=%d", nodeCount), func(b *testing.B) {
			in := &routerInputs{withServices: true}
			for i := range nodeCount {
				name := fmt.Sprintf("node-%d", i)
				in.nodes = append(in.nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}}})
			}
			for i := range services {
				name := fmt.Sprintf("svc-%d", i)
				in.services = append(in.services, corev1.Service{
					ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
					Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
					Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: benchAddr(i).String()}}}},
				})
				in.slices = append(in.slices, discoveryv1.EndpointSlice{
					ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
					AddressType: discoveryv1.AddressTypeIPv6,
					Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"2001:db8:2000::1"}, NodeName: ptr.To(in.nodes[i%nodeCount].Name), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
				})
			}
			objs := config.Objects{
				Namespace: testNS,
				Pools:     []v1beta1.IPAddressPool{{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "v6"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"2001:db8:1000::/112"}}}},
				BGPPeers: []v1beta2.BGPPeer{{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "tor"}, Spec: v1beta2.BGPPeerSpec{
					MyASN: 64512, ASN: 64512, Address: "2001:db8:ffff::1",
				}}},
				BGPAdvertisements: []v1beta1.BGPAdvertisement{{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "adv"}, Spec: v1beta1.BGPAdvertisementSpec{LocalPref: 100}}},
			}
			prefix := netip.PrefixFrom(benchAddr(77), 128).String()
			obj := frrConfig(b, "new", "bgp:\n  routers:\n  - asn: 64512\n    prefixes: ["+prefix+"]\n    neighbors:\n    - address: 2001:db8:ffff::1\n      asn: 64512\n"+
				"      toAdvertise:\n        allowed: {prefixes: ["+prefix+"]}\n        withLocalPref: [{prefixes: ["+prefix+"], localPref: 100}]\n")
			piece, err := noderouter.FromFRRConfiguration(&obj)
			if err != nil {
				b.Fatal(err)
			}
			in.localPrefs = localPrefPrefixes(piece)
			b.ReportAllocs()
			for b.Loop() {
				if got := conflictsOnNodes(piece, &obj, in, ownPieces(objs, in, "")); got != nil {
					b.Fatal(got)
				}
			}
		})
	}
}
