package noderouter

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/state"
)

// TestFromFRRReadsBuild checks FromFRR on what frr.Build computes from
// metallb.io objects: each peer gets the prefixes its advertisements
// announce, with their communities and (iBGP) local preference.
func TestFromFRRReadsBuild(t *testing.T) {
	ns := "metallb-system"
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	model, err := config.Build(config.Objects{
		Namespace: ns,
		Pools: []v1beta1.IPAddressPool{
			{ObjectMeta: meta("public"), Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.0/28"}}},
			{ObjectMeta: meta("private"), Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"198.51.100.0/28"}}},
		},
		BGPPeers: []v1beta2.BGPPeer{
			{ObjectMeta: meta("ibgp"), Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64512, Address: "192.0.2.1"}},
			{ObjectMeta: meta("ebgp"), Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "192.0.2.2"}},
		},
		BGPAdvertisements: []v1beta1.BGPAdvertisement{
			{ObjectMeta: meta("public"), Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"public"}, LocalPref: 150, Communities: []string{"65000:7", "65535:65281"}}},
			{ObjectMeta: meta("private"), Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"private"}, Peers: []string{"ibgp"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &state.Cluster{
		Model: model,
		Nodes: []state.Node{{Name: "node-1", Labels: labels.Set{"kubernetes.io/hostname": "node-1"}, Ready: true}},
		Services: []state.Service{
			{Namespace: "a", Name: "private", Pool: "private", IPs: []netip.Addr{addr("198.51.100.3")}, ServingNodes: []string{"node-1"}},
			{Namespace: "a", Name: "public", Pool: "public", IPs: []netip.Addr{addr("203.0.113.5")}, ServingNodes: []string{"node-1"}},
		},
	}
	cfg, err := frr.Build(c, "node-1", frr.BuildOptions{RouterID: addr("192.0.2.10")})
	if err != nil {
		t.Fatal(err)
	}
	got := FromFRR(cfg)
	publicAttrs := func(localPref bool) OutPrefix {
		return OutPrefix{Prefix: pfx("203.0.113.5/32"), SetLocalPref: localPref, LocalPref: map[bool]uint32{true: 150}[localPref],
			Communities: []config.Community{comm(t, "65000:7"), comm(t, "no-export")}}
	}
	want := &Model{Routers: []Router{{
		ASN: 64512, ID: "192.0.2.10",
		Prefixes: []netip.Prefix{pfx("198.51.100.3/32"), pfx("203.0.113.5/32")},
		Neighbors: []Neighbor{
			{Address: addr("192.0.2.1"), ASN: 64512, Origins: []Origin{peer("ibgp")},
				Outgoing: []OutPrefix{{Prefix: pfx("198.51.100.3/32")}, publicAttrs(true)}},
			{Address: addr("192.0.2.2"), ASN: 64500, Origins: []Origin{peer("ebgp")},
				Outgoing: []OutPrefix{publicAttrs(false)}},
		},
		Origins: []Origin{{Kind: "BGPPeer", Name: "ibgp", Path: "router"}},
	}}}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("FromFRR (-want +got):\n%s", diff)
	}
}
