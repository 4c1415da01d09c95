package controller

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/noderouter"
)

const testNS = "metallb-system"

func frrConfig(t testing.TB, name, spec string) frrk8s.FRRConfiguration {
	t.Helper()
	c := frrk8s.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: name}}
	if err := yaml.UnmarshalStrict([]byte(spec), &c.Spec); err != nil {
		t.Fatalf("decoding spec of %s: %v", name, err)
	}
	return c
}

func TestSecretPasswords(t *testing.T) {
	secret := func(name string, typ corev1.SecretType, pw string) corev1.Secret {
		return corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: name}, Type: typ, Data: map[string][]byte{"password": []byte(pw)}}
	}
	neighbor := "bgp:\n  routers:\n  - asn: 1\n    neighbors:\n    - {address: 192.0.2.1, asn: 2, passwordSecret: {name: %s}}"
	cfgs := []frrk8s.FRRConfiguration{
		frrConfig(t, "a", strings.ReplaceAll(neighbor, "%s", "good")),
		frrConfig(t, "b", strings.ReplaceAll(neighbor, "%s", "opaque")),
		frrConfig(t, "c", strings.ReplaceAll(neighbor, "%s", "missing")),
		frrConfig(t, "d", "bgp:\n  routers:\n  - asn: 1\n    neighbors:\n    - {address: 192.0.2.1, asn: 2, passwordSecret: {name: good, namespace: elsewhere}}"),
	}
	secrets := []corev1.Secret{
		secret("good", corev1.SecretTypeBasicAuth, "s3cret"),
		secret("opaque", corev1.SecretTypeOpaque, "s3cret"),
		secret("unused", corev1.SecretTypeBasicAuth, "other"),
	}
	got := map[string]string{}
	for k, v := range secretPasswords(cfgs, secrets) {
		got[k] = v.Reveal()
	}
	// Only the usable Secret of the namespace; the others compare by
	// name in the merge.
	want := map[string]string{testNS + "/good": "s3cret"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("passwords (-want +got):\n%s", diff)
	}
}

// TestConflictsOnNodes runs the FRRConfiguration webhook's merge on its
// inputs, without an API server: ironlb's iBGP session "tor" on three
// nodes, the Service 203.0.113.10 (externalTrafficPolicy Local, its
// endpoint on node-2) announced to it with local preference 100.
func TestConflictsOnNodes(t *testing.T) {
	nodes := []corev1.Node{}
	for _, n := range []string{"node-1", "node-2", "node-3"} {
		nodes = append(nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{"kubernetes.io/hostname": n}}})
	}
	objs := config.Objects{
		Namespace: testNS,
		Pools:     []v1beta1.IPAddressPool{{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "web"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.10/32"}}}},
		BGPPeers: []v1beta2.BGPPeer{{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "tor"}, Spec: v1beta2.BGPPeerSpec{
			MyASN: 64512, ASN: 64512, Address: "192.0.2.50", Password: "s3cret",
		}}},
		BGPAdvertisements: []v1beta1.BGPAdvertisement{{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "adv"}, Spec: v1beta1.BGPAdvertisementSpec{LocalPref: 100}}},
		Secrets: []corev1.Secret{
			{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "same"}, Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{"password": []byte("s3cret")}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: "other"}, Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{"password": []byte("0ther")}},
		},
	}
	svc := corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal},
		Status:     corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "203.0.113.10"}}}},
	}
	eps := discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: "web-1", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: ptr.To("node-2"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
	}
	advertise := func(attrs string) string {
		return "bgp:\n  routers:\n  - asn: 64512\n    prefixes: [203.0.113.10/32]\n    neighbors:\n    - address: 192.0.2.50\n      asn: 64512\n      passwordSecret: {name: same}\n" +
			"      toAdvertise:\n        allowed: {prefixes: [203.0.113.10/32]}\n" + attrs
	}
	lp200 := "        withLocalPref: [{prefixes: [203.0.113.10/32], localPref: 200}]\n"
	tests := []struct {
		name     string
		obj      string
		others   []frrk8s.FRRConfiguration
		services bool  // whether the webhook read the Services
		agg      int32 // the BGPAdvertisement's aggregationLength, 0 for 32
		want     []string
	}{
		{
			name:     "another local preference: the node announcing the Service",
			obj:      advertise(lp200),
			services: true,
			want:     []string{`BGPPeer "tor" spec.localPref (of its BGPAdvertisement) and FRRConfiguration "metallb-system/new" spec.bgp.routers[0].neighbors[0].localPref conflict: neighbor 192.0.2.50 in VRF "": prefix 203.0.113.10/32 gets local preferences 100 and 200 (on node node-2)`},
		},
		{
			// Only the Services inside a prefix with a local preference
			// are built; an aggregate holds the Service's address.
			name: "another local preference on the aggregate ironlb announces",
			obj: strings.ReplaceAll(advertise("        withLocalPref: [{prefixes: [203.0.113.10/32], localPref: 200}]\n"),
				"203.0.113.10/32", "203.0.113.0/24"),
			services: true,
			agg:      24,
			want:     []string{`BGPPeer "tor" spec.localPref (of its BGPAdvertisement) and FRRConfiguration "metallb-system/new" spec.bgp.routers[0].neighbors[0].localPref conflict: neighbor 192.0.2.50 in VRF "": prefix 203.0.113.0/24 gets local preferences 100 and 200 (on node node-2)`},
		},
		{
			name:     "the same local preference",
			obj:      advertise("        withLocalPref: [{prefixes: [203.0.113.10/32], localPref: 100}]\n"),
			services: true,
		},
		{
			name:     "a community",
			obj:      advertise("        withCommunity: [{prefixes: [203.0.113.10/32], community: \"65000:9\"}]\n"),
			services: true,
		},
		{
			// The webhook reads the Services only when obj sets a local
			// preference; without them the prefix is not ironlb's.
			name: "without the Services",
			obj:  advertise(lp200),
		},
		{
			name:     "a Secret with another password than the BGPPeer's",
			obj:      strings.Replace(advertise(""), "name: same", "name: other", 1),
			services: true,
			want:     []string{`BGPPeer "tor" spec.password and FRRConfiguration "metallb-system/new" spec.bgp.routers[0].neighbors[0].password conflict: neighbor 192.0.2.50 in VRF "": the passwords differ (on nodes node-1, node-2, node-3)`},
		},
		{
			name:     "a conflict between others only is not the object's",
			obj:      advertise(""),
			others:   []frrk8s.FRRConfiguration{frrConfig(t, "x", "bgp:\n  routers:\n  - asn: 64512\n    neighbors:\n    - {address: 192.0.2.9, asn: 1}"), frrConfig(t, "y", "bgp:\n  routers:\n  - asn: 64512\n    neighbors:\n    - {address: 192.0.2.9, asn: 2}")},
			services: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := frrConfig(t, "new", tc.obj)
			piece, err := noderouter.FromFRRConfiguration(&obj)
			if err != nil {
				t.Fatal(err)
			}
			in := &routerInputs{nodes: nodes, cfgs: tc.others, passwords: secretPasswords([]frrk8s.FRRConfiguration{obj}, objs.Secrets)}
			if tc.services {
				in.withServices, in.services, in.slices = true, []corev1.Service{svc}, []discoveryv1.EndpointSlice{eps}
				in.localPrefs = localPrefPrefixes(piece)
			}
			objs := objs
			if tc.agg != 0 {
				objs.BGPAdvertisements = []v1beta1.BGPAdvertisement{*objs.BGPAdvertisements[0].DeepCopy()}
				objs.BGPAdvertisements[0].Spec.AggregationLength = ptr.To(tc.agg)
				objs.Pools = []v1beta1.IPAddressPool{*objs.Pools[0].DeepCopy()}
				objs.Pools[0].Spec.Addresses = []string{"203.0.113.0/24"}
			}
			got := conflictsOnNodes(piece, &obj, in, ownPieces(objs, in, ""))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("conflicts (-want +got):\n%s", diff)
			}
		})
	}
}
