package controller_test

import (
	"context"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/controller"
	"github.com/ironlb/ironlb/internal/testenv"
)

// frrWebhookConfig registers the FRRConfiguration webhook as the chart
// does.
func frrWebhookConfig() *admissionregistrationv1.ValidatingWebhookConfiguration {
	path := controller.FRRWebhookPath
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "ironlb-frr-validating"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:                    "frrconfigurations.frrk8s.metallb.io",
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Name: "ironlb-webhook", Namespace: ns, Path: &path}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			AdmissionReviewVersions: []string{"v1"},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
				Rule: admissionregistrationv1.Rule{
					APIGroups:   []string{"frrk8s.metallb.io"},
					APIVersions: []string{"v1beta1"},
					Resources:   []string{"frrconfigurations"},
					Scope:       ptr.To(admissionregistrationv1.NamespacedScope),
				},
			}},
		}},
	}
}

// TestFRRWebhookRefusesConflicts creates FRRConfigurations on a real API
// server with the webhook installed and the controller serving it: an
// object that conflicts with another one selecting the same node is
// refused with a message naming both objects and the field.
func TestFRRWebhookRefusesConflicts(t *testing.T) {
	cl := newIdleCluster(t, testenv.Options{Webhooks: &envtest.WebhookInstallOptions{
		ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{webhookConfig(), frrWebhookConfig()},
	}})
	cl.webhook = true
	cl.startController()
	ctx := context.Background()
	for _, n := range []struct{ name, rack string }{{"node-1", "a"}, {"node-2", "a"}, {"node-3", "b"}} {
		cl.create(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: map[string]string{"rack": n.rack, "kubernetes.io/hostname": n.name}}})
	}
	neighbor := func(asn string) string {
		return "bgp:\n  routers:\n  - asn: 64512\n    neighbors:\n    - {address: 192.0.2.1, asn: " + asn + "}"
	}
	cl.create(frrObject(t, "base", "nodeSelector: {matchLabels: {rack: a}}\n"+neighbor("64500")))
	// ironlb's own session to the top-of-rack router, on every node.
	cl.create(&v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tor"}, Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64550, Address: "192.0.2.50"}})
	torNeighbor := func(fields string) string {
		return "bgp:\n  routers:\n  - asn: 64512\n    neighbors:\n    - {address: 192.0.2.50, " + fields + "}"
	}

	tests := []struct {
		name    string
		obj     string // "name" and the spec
		spec    string
		update  bool
		wantErr string // substring of the denial; empty = admitted
	}{
		{
			name:    "other neighbor ASN on the same nodes",
			obj:     "rival",
			spec:    neighbor("64501"),
			wantErr: `FRRConfiguration "metallb-system/base" spec.bgp.routers[0].neighbors[0].asn and FRRConfiguration "metallb-system/rival" spec.bgp.routers[0].neighbors[0].asn conflict: neighbor 192.0.2.1 in VRF "": remote AS 64500 and 64501 differ (on nodes node-1, node-2)`,
		},
		{
			name: "other neighbor ASN on other nodes",
			obj:  "rack-b",
			spec: "nodeSelector: {matchLabels: {rack: b}}\n" + neighbor("64501"),
		},
		{
			name:    "update moving it onto the other nodes",
			obj:     "rack-b",
			spec:    "nodeSelector: {matchLabels: {kubernetes.io/hostname: node-2}}\n" + neighbor("64501"),
			update:  true,
			wantErr: `(on node node-2)`,
		},
		{
			name: "same neighbor adding a receive filter",
			obj:  "receive",
			spec: "nodeSelector: {matchLabels: {rack: a}}\nbgp:\n  routers:\n  - asn: 64512\n    neighbors:\n    - {address: 192.0.2.1, asn: 64500, toReceive: {allowed: {mode: all}}}",
		},
		{
			name:    "router ASN conflict",
			obj:     "other-as",
			spec:    "bgp:\n  routers:\n  - asn: 65000",
			wantErr: `BGPPeer "tor" spec.myASN and FRRConfiguration "metallb-system/other-as" spec.bgp.routers[0].asn conflict: router of VRF "": AS 64512 and AS 65000 differ (on nodes node-1, node-2, node-3)`,
		},
		{
			name:    "other ASN for ironlb's own BGPPeer",
			obj:     "tor-rival",
			spec:    torNeighbor("asn: 64551"),
			wantErr: `BGPPeer "tor" spec.peerASN and FRRConfiguration "metallb-system/tor-rival" spec.bgp.routers[0].neighbors[0].asn conflict: neighbor 192.0.2.50 in VRF "": remote AS 64550 and 64551 differ (on nodes node-1, node-2, node-3)`,
		},
		{
			name: "receiving routes over ironlb's own session",
			obj:  "tor-receive",
			spec: torNeighbor("asn: 64550, toReceive: {allowed: {prefixes: [{prefix: 0.0.0.0/0}]}}"),
		},
		{
			name:    "not self-contained",
			obj:     "loose",
			spec:    "bgp:\n  routers:\n  - asn: 64512\n    neighbors:\n    - {address: 192.0.2.9, asn: 1, toAdvertise: {allowed: {prefixes: [198.51.100.0/24]}}}",
			wantErr: `FRRConfiguration "metallb-system/loose": spec.bgp.routers[0].neighbors[0].toAdvertise.allowed.prefixes[0]: 198.51.100.0/24 is not one of the router's prefixes`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := frrObject(t, tc.obj, tc.spec)
			var err error
			if tc.update {
				var cur frrk8s.FRRConfiguration
				if err := cl.c.Get(ctx, client.ObjectKeyFromObject(obj), &cur); err != nil {
					t.Fatal(err)
				}
				cur.Spec = obj.Spec
				err = cl.c.Update(ctx, &cur)
			} else {
				err = cl.c.Create(ctx, obj)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got error %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("admitted, want denial mentioning %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not mention %q", err, tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), "denied the request"):
				t.Fatalf("error %q does not come from the webhook", err)
			}
		})
	}
}

func frrObject(t *testing.T, name, spec string) *frrk8s.FRRConfiguration {
	t.Helper()
	obj := &frrk8s.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := yaml.UnmarshalStrict([]byte(spec), &obj.Spec); err != nil {
		t.Fatalf("decoding spec of %s: %v", name, err)
	}
	return obj
}
