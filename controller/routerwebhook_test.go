package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/internal/testenv"
)

// routerCluster is an API server with both webhooks installed and the
// controller serving them, three nodes (node-1 and node-2 in rack a,
// node-3 in rack b), ironlb's iBGP session "tor" to 192.0.2.50 on every
// node, and a BGPAdvertisement "adv" (local preference 100, community
// 65000:1) of the pools "web" (203.0.113.10) and "local"
// (203.0.113.20).
func routerCluster(t *testing.T) *cluster {
	t.Helper()
	cl := newIdleCluster(t, testenv.Options{Webhooks: &envtest.WebhookInstallOptions{
		ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{webhookConfig(), frrWebhookConfig()},
	}})
	cl.webhook = true
	cl.startController()
	for _, n := range []struct{ name, rack string }{{"node-1", "a"}, {"node-2", "a"}, {"node-3", "b"}} {
		cl.create(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: map[string]string{"rack": n.rack, "kubernetes.io/hostname": n.name}}})
	}
	cl.create(pool("web", "203.0.113.10/32"))
	cl.create(pool("local", "203.0.113.20/32"))
	cl.create(&v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tor"}, Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64512, Address: "192.0.2.50"}})
	cl.create(&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "adv"}, Spec: v1beta1.BGPAdvertisementSpec{
		IPAddressPools: []string{"web", "local"}, LocalPref: 100, Communities: []string{"65000:1"},
	}})
	return cl
}

// servedService creates a LoadBalancer Service of the pool with a ready
// endpoint on the node, and waits for its IP.
func (cl *cluster) servedService(name, poolName, ip, node string, etpLocal bool) {
	cl.t.Helper()
	svc := service("default", name, withAnnotation("metallb.io/address-pool", poolName))
	if etpLocal {
		svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	}
	cl.create(svc)
	cl.create(&discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: ptr.To(node), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
	})
	cl.waitIngress("default", name, ip)
}

// advertisingTo is an FRRConfiguration spec that advertises prefix over
// ironlb's session to the top-of-rack router with the given toAdvertise
// attributes (YAML list entries of withLocalPref / withCommunity).
func advertisingTo(prefix, attrs string) string {
	return "bgp:\n  routers:\n  - asn: 64512\n    prefixes: [" + prefix + "]\n    neighbors:\n    - address: 192.0.2.50\n      asn: 64512\n" +
		"      toAdvertise:\n        allowed: {prefixes: [" + prefix + "]}\n" + attrs
}

// admission is one change of a webhook test and what the webhooks say.
type admission struct {
	name    string
	op      func(ctx context.Context) error
	wantErr string // substring of the denial; empty = admitted
}

func runAdmissions(t *testing.T, steps []admission) {
	t.Helper()
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := st.op(t.Context())
			switch {
			case st.wantErr == "" && err != nil:
				t.Fatalf("got error %v", err)
			case st.wantErr != "" && err == nil:
				t.Fatalf("admitted, want denial mentioning %q", st.wantErr)
			case st.wantErr != "" && !strings.Contains(err.Error(), st.wantErr):
				t.Fatalf("error %q does not mention %q", err, st.wantErr)
			case st.wantErr != "" && !strings.Contains(err.Error(), "denied the request"):
				t.Fatalf("error %q does not come from a webhook", err)
			}
		})
	}
}

// TestFRRWebhookChecksServicePrefixAttributes: an FRRConfiguration that
// sets a local preference on one of ironlb's Service prefixes, toward a
// session where ironlb sets another one, is refused on the nodes that
// announce the Service, as the speaker's merge would report it;
// communities added to it, and the same local preference, are merged
// and admitted, as frr-k8s merges them with MetalLB's.
func TestFRRWebhookChecksServicePrefixAttributes(t *testing.T) {
	cl := routerCluster(t)
	cl.servedService("web", "web", "203.0.113.10", "node-1", false)
	cl.servedService("shop", "local", "203.0.113.20", "node-2", true)
	create := func(name, spec string) func(context.Context) error {
		return func(ctx context.Context) error { return cl.c.Create(ctx, frrObject(t, name, spec)) }
	}
	runAdmissions(t, []admission{
		{
			name:    "another local preference on a Service prefix",
			op:      create("lp-200", advertisingTo("203.0.113.10/32", "        withLocalPref: [{prefixes: [203.0.113.10/32], localPref: 200}]\n")),
			wantErr: `BGPPeer "tor" spec.localPref (of its BGPAdvertisement) and FRRConfiguration "metallb-system/lp-200" spec.bgp.routers[0].neighbors[0].localPref conflict: neighbor 192.0.2.50 in VRF "": prefix 203.0.113.10/32 gets local preferences 100 and 200 (on nodes node-1, node-2, node-3)`,
		},
		{
			name: "the same local preference",
			op:   create("lp-100", advertisingTo("203.0.113.10/32", "        withLocalPref: [{prefixes: [203.0.113.10/32], localPref: 100}]\n")),
		},
		{
			name: "a community added to a Service prefix",
			op:   create("community", advertisingTo("203.0.113.10/32", "        withCommunity: [{prefixes: [203.0.113.10/32], community: \"65000:2\"}]\n")),
		},
		{
			name:    "an externalTrafficPolicy Local Service: only the node with its endpoint",
			op:      create("lp-local", advertisingTo("203.0.113.20/32", "        withLocalPref: [{prefixes: [203.0.113.20/32], localPref: 300}]\n")),
			wantErr: `prefix 203.0.113.20/32 gets local preferences 100 and 300 (on node node-2)`,
		},
		{
			name: "nodes that do not announce the Service",
			op: create("lp-local-rack-b", "nodeSelector: {matchLabels: {rack: b}}\n"+
				advertisingTo("203.0.113.20/32", "        withLocalPref: [{prefixes: [203.0.113.20/32], localPref: 300}]\n")),
		},
	})
}

// TestConfigWebhookChecksFRRConfigurations: a change of the metallb.io
// objects that would conflict with an FRRConfiguration on some node (a
// BGPPeer's AS or timers for a neighbor an FRRConfiguration shares, its
// password, a BFDProfile's values, a BGPAdvertisement's local
// preference on a Service prefix)
// is refused with the objects, the field and the nodes; a change that
// agrees with the FRRConfigurations is admitted. A password and a
// passwordSecret holding the same value agree, as in frr-k8s.
func TestConfigWebhookChecksFRRConfigurations(t *testing.T) {
	cl := routerCluster(t)
	cl.servedService("web", "web", "203.0.113.10", "node-1", false)
	cl.create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "collector-pw"},
		Type:       corev1.SecretTypeBasicAuth,
		Data:       map[string][]byte{"password": []byte("s3cret")},
	})
	// A collector on rack a that ironlb does not know yet, and a local
	// preference on ironlb's Service prefix equal to ironlb's.
	cl.create(&v1beta1.BFDProfile{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fast"}})
	cl.create(frrObject(t, "collector", "nodeSelector: {matchLabels: {rack: a}}\nbgp:\n  bfdProfiles: [{name: fast}]\n  routers:\n  - asn: 64512\n    neighbors:\n"+
		"    - {address: 192.0.2.60, asn: 64500, holdTime: 90s, bfdProfile: fast, passwordSecret: {name: collector-pw}, toReceive: {allowed: {mode: all}}}"))
	cl.create(frrObject(t, "lp-100", advertisingTo("203.0.113.10/32", "        withLocalPref: [{prefixes: [203.0.113.10/32], localPref: 100}]\n")))

	peer := func(name string, mod func(*v1beta2.BGPPeerSpec)) *v1beta2.BGPPeer {
		p := &v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: v1beta2.BGPPeerSpec{
			MyASN: 64512, ASN: 64500, Address: "192.0.2.60", HoldTime: &metav1.Duration{Duration: 90e9}, Password: "s3cret", BFDProfile: "fast",
		}}
		if mod != nil {
			mod(&p.Spec)
		}
		return p
	}
	update := func(obj client.Object, mod func()) func(context.Context) error {
		return func(ctx context.Context) error {
			if err := cl.c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return fmt.Errorf("reading: %w", err)
			}
			mod()
			return cl.c.Update(ctx, obj)
		}
	}
	adv := &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "adv"}}
	runAdmissions(t, []admission{
		{
			name: "a BGPPeer with another AS for the collector",
			op: func(ctx context.Context) error {
				return cl.c.Create(ctx, peer("collector", func(s *v1beta2.BGPPeerSpec) { s.ASN = 64501 }))
			},
			wantErr: `BGPPeer "collector" spec.peerASN and FRRConfiguration "metallb-system/collector" spec.bgp.routers[0].neighbors[0].asn conflict: neighbor 192.0.2.60 in VRF "": remote AS 64501 and 64500 differ (on nodes node-1, node-2)`,
		},
		{
			name: "a BGPPeer with another password than the Secret's",
			op: func(ctx context.Context) error {
				return cl.c.Create(ctx, peer("collector", func(s *v1beta2.BGPPeerSpec) { s.Password = "0ther" }))
			},
			wantErr: `BGPPeer "collector" spec.password and FRRConfiguration "metallb-system/collector" spec.bgp.routers[0].neighbors[0].password conflict: neighbor 192.0.2.60 in VRF "": the passwords differ (on nodes node-1, node-2)`,
		},
		{
			name: "a BGPPeer that agrees, with the Secret's password written out",
			op:   func(ctx context.Context) error { return cl.c.Create(ctx, peer("collector", nil)) },
		},
		{
			name: "the BGPPeer's hold time changed",
			op: func(ctx context.Context) error {
				var p v1beta2.BGPPeer
				if err := cl.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "collector"}, &p); err != nil {
					return err
				}
				p.Spec.HoldTime = &metav1.Duration{Duration: 30e9}
				return cl.c.Update(ctx, &p)
			},
			wantErr: `BGPPeer "collector" spec.holdTime and FRRConfiguration "metallb-system/collector" spec.bgp.routers[0].neighbors[0].holdTime conflict: neighbor 192.0.2.60 in VRF "": hold times 30s and 90s differ (on nodes node-1, node-2)`,
		},
		{
			name: "the BFD profile's values changed",
			op: func(ctx context.Context) error {
				var p v1beta1.BFDProfile
				if err := cl.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "fast"}, &p); err != nil {
					return err
				}
				p.Spec.ReceiveInterval = ptr.To[uint32](50)
				return cl.c.Update(ctx, &p)
			},
			wantErr: `BFDProfile "fast" spec.name and FRRConfiguration "metallb-system/collector" spec.bgp.bfdProfiles[0].name conflict: BFD profile "fast": defined twice with different settings`,
		},
		{
			name:    "the advertisement's local preference changed",
			op:      update(adv, func() { adv.Spec.LocalPref = 150 }),
			wantErr: `BGPPeer "tor" spec.localPref (of its BGPAdvertisement) and FRRConfiguration "metallb-system/lp-100" spec.bgp.routers[0].neighbors[0].localPref conflict: neighbor 192.0.2.50 in VRF "": prefix 203.0.113.10/32 gets local preferences 150 and 100 (on nodes node-1, node-2, node-3)`,
		},
		{
			name: "the advertisement's communities changed",
			op:   update(adv, func() { adv.Spec.Communities = []string{"65000:3"} }),
		},
		{
			name: "an unrelated BGPPeer",
			op: func(ctx context.Context) error {
				return cl.c.Create(ctx, peer("other", func(s *v1beta2.BGPPeerSpec) { s.Address, s.ASN = "192.0.2.70", 64999 }))
			},
		},
	})
	var list frrk8s.FRRConfigurationList
	if err := cl.c.List(t.Context(), &list, client.InNamespace(ns)); err != nil || len(list.Items) != 2 {
		t.Fatalf("FRRConfigurations: %d, %v", len(list.Items), err)
	}
}

// TestWebhooksLeaveOutIronlbsFRRK8sObjects: with frr-k8s reading
// ironlb's namespace, the FRRConfigurations ironlb's speakers write
// (labelled app.kubernetes.io/managed-by: ironlb) are ironlb's own piece
// written out in the node's phase. The webhooks admit a draining node's
// (LOCAL_PREF 0 where the BGPAdvertisement says 100) and leave them out
// of every merge: a BGPPeer change the speaker will write anew, and a
// user's object that agrees with ironlb, are admitted.
func TestWebhooksLeaveOutIronlbsFRRK8sObjects(t *testing.T) {
	cl := routerCluster(t)
	cl.servedService("web", "web", "203.0.113.10", "node-1", false)
	drained := frrObject(t, "ironlb-node-1", "nodeSelector: {matchLabels: {kubernetes.io/hostname: node-1}}\n"+
		advertisingTo("203.0.113.10/32", "        withLocalPref: [{prefixes: [203.0.113.10/32], localPref: 0}]\n"+
			"        withCommunity: [{prefixes: [203.0.113.10/32], community: \"65535:0\"}]\n"))
	drained.Labels = map[string]string{"app.kubernetes.io/managed-by": "ironlb", "metallb.io/node": "node-1"}
	runAdmissions(t, []admission{
		{
			name: "a draining speaker's object",
			op:   func(ctx context.Context) error { return cl.c.Create(ctx, drained) },
		},
		{
			name: "a BGPPeer change the speakers will write anew",
			op: func(ctx context.Context) error {
				var p v1beta2.BGPPeer
				if err := cl.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "tor"}, &p); err != nil {
					return err
				}
				p.Spec.HoldTime = &metav1.Duration{Duration: 90e9}
				return cl.c.Update(ctx, &p)
			},
		},
		{
			name: "a user's object with ironlb's local preference",
			op: func(ctx context.Context) error {
				return cl.c.Create(ctx, frrObject(t, "lp-100", strings.Replace(
					advertisingTo("203.0.113.10/32", "        withLocalPref: [{prefixes: [203.0.113.10/32], localPref: 100}]\n"),
					"asn: 64512\n      toAdvertise", "asn: 64512\n      holdTime: 90s\n      toAdvertise", 1)))
			},
		},
	})
}
