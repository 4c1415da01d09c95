package speaker_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/internal/testenv"
	"github.com/ironlb/ironlb/speaker"
)

// TestSpeakerFRRK8sMode runs a speaker in frr-k8s mode against a real
// API server: it writes the node's FRRConfiguration with the Service's
// prefix for the peer, reports the Service in ServiceBGPStatus, drains
// through the GRACEFUL_SHUTDOWN community to a withdrawal, and makes the
// object again when someone deletes it.
func TestSpeakerFRRK8sMode(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	c := env.Client
	create := seedBGP(t, c, map[string]string{"kubernetes.io/hostname": "n1"})
	create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "frr-k8s-system"}})
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	create(svc)
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.5"}}
	if err := c.Status().Update(ctx, svc); err != nil {
		t.Fatal(err)
	}
	create(&discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: "web-1", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: ptr.To("n1"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
	})

	rec := startSpeaker(t, env, func(cfg *speaker.Config) {
		cfg.FRR = nil
		cfg.FRRK8s = &speaker.FRRK8sConfig{Namespace: "frr-k8s-system"}
		cfg.NodeOptions.DrainOnCordon = true
	})

	key := types.NamespacedName{Namespace: "frr-k8s-system", Name: "ironlb-n1"}
	// neighbor returns the peer's entry of the node's FRRConfiguration.
	neighbor := func() (*frrk8s.FRRConfiguration, *frrk8s.Neighbor, string) {
		var o frrk8s.FRRConfiguration
		if err := c.Get(ctx, key, &o); err != nil {
			return nil, nil, err.Error()
		}
		if len(o.Spec.BGP.Routers) != 1 || len(o.Spec.BGP.Routers[0].Neighbors) != 1 {
			return &o, nil, fmt.Sprintf("%+v", o.Spec.BGP)
		}
		return &o, &o.Spec.BGP.Routers[0].Neighbors[0], fmt.Sprintf("%+v", o.Spec.BGP.Routers[0])
	}
	communities := func(n *frrk8s.Neighbor) []string {
		var out []string
		for _, cp := range n.ToAdvertise.PrefixesWithCommunity {
			out = append(out, cp.Community)
		}
		return out
	}
	testenv.Eventually(t, "the FRRConfiguration announcing the Service", func() (bool, string) {
		o, n, s := neighbor()
		if n == nil {
			return false, s
		}
		return o.Spec.NodeSelector.MatchLabels["kubernetes.io/hostname"] == "n1" && n.Address == "192.0.2.1" && n.ASN == 64500 &&
			slices.Equal(n.ToAdvertise.Allowed.Prefixes, []string{"203.0.113.5/32"}), s
	})
	testenv.Eventually(t, "ServiceBGPStatus", func() (bool, string) {
		var list v1beta1.ServiceBGPStatusList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		for _, s := range list.Items {
			if s.Status.ServiceName == "web" && s.Status.Node == "n1" && slices.Equal(s.Status.Peers, []string{"router"}) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", list.Items)
	})
	testenv.Eventually(t, "SpeakerStatus with the write", func() (bool, string) {
		var st v1beta1.SpeakerStatus
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "n1"}, &st); err != nil {
			return false, err.Error()
		}
		return st.Status.LastApply != nil && st.Status.LastApply.Path == "frr-k8s" && st.Status.LastApply.Succeeded, fmt.Sprintf("%+v", st.Status)
	})
	if got := rec.count(); got != 0 {
		t.Errorf("the FRR agent got %d applies in frr-k8s mode, want none", got)
	}

	// Deleted by someone else: made again.
	o, _, _ := neighbor()
	if err := c.Delete(ctx, o); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the FRRConfiguration made again", func() (bool, string) {
		o, n, s := neighbor()
		return n != nil && o.UID != "" && len(n.ToAdvertise.Allowed.Prefixes) == 1, s
	})

	// A peer with a local AS, which an FRRConfiguration cannot hold: the
	// node's ConfigurationState names it, and the object stays as it was.
	create(&v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "local"}, Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64501, Address: "192.0.2.9", LocalASN: 64999}})
	testenv.Eventually(t, "ConfigurationState naming the local AS", func() (bool, string) {
		var cs v1beta1.ConfigurationState
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "speaker-n1"}, &cs); err != nil {
			return false, err.Error()
		}
		return cs.Status.Result != v1beta1.ConfigurationStateResultValid && strings.Contains(cs.Status.ErrorSummary, `BGPPeer "local": spec.localASN`), fmt.Sprintf("%+v", cs.Status)
	})
	if _, n, s := neighbor(); n == nil || n.Address != "192.0.2.1" {
		t.Errorf("the FRRConfiguration changed after a configuration it cannot hold: %s", s)
	}
	if err := c.Delete(ctx, &v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "local"}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "ConfigurationState valid again", func() (bool, string) {
		var cs v1beta1.ConfigurationState
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "speaker-n1"}, &cs); err != nil {
			return false, err.Error()
		}
		return cs.Status.Result == v1beta1.ConfigurationStateResultValid, fmt.Sprintf("%+v", cs.Status)
	})

	// Cordoned (cordons drain): GRACEFUL_SHUTDOWN, then withdrawn, the
	// session kept.
	var node corev1.Node
	if err := c.Get(ctx, types.NamespacedName{Name: "n1"}, &node); err != nil {
		t.Fatal(err)
	}
	node.Spec.Unschedulable = true
	if err := c.Update(ctx, &node); err != nil {
		t.Fatal(err)
	}
	sawShutdown := false
	testenv.Eventually(t, "graceful shutdown, then withdrawal", func() (bool, string) {
		_, n, s := neighbor()
		if n == nil {
			return false, s
		}
		if slices.Contains(communities(n), "65535:0") && slices.Equal(n.ToAdvertise.Allowed.Prefixes, []string{"203.0.113.5/32"}) {
			sawShutdown = true
		}
		return sawShutdown && len(n.ToAdvertise.Allowed.Prefixes) == 0, s
	})

	// A node no peer selects any more: the object goes.
	if err := c.Delete(ctx, &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "metallb.io/v1beta2", Kind: "BGPPeer"}, ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "router"}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the FRRConfiguration deleted", func() (bool, string) {
		err := c.Get(ctx, key, &frrk8s.FRRConfiguration{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}
