package speaker_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/internal/testenv"
)

// TestSpeakerServiceSelectors checks, against a real API server, that a
// BGPAdvertisement's serviceSelectors reach the speaker and decide what
// goes into frr.conf: the Service they select is announced, the other
// one not, and relabelling a Service moves it in or out.
func TestSpeakerServiceSelectors(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	c := env.Client
	create := seedBGP(t, c, nil)
	var adv v1beta1.BGPAdvertisement
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "all"}, &adv); err != nil {
		t.Fatal(err)
	}
	adv.Spec.ServiceSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"exposure": "public"}}}
	if err := c.Update(ctx, &adv); err != nil {
		t.Fatal(err)
	}

	service := func(name, ip string, labels map[string]string) {
		t.Helper()
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Labels: labels},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}},
		}
		create(svc)
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
		if err := c.Status().Update(ctx, svc); err != nil {
			t.Fatal(err)
		}
		create(&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: ptr.To("n1"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		})
	}
	relabel := func(name string, labels map[string]string) {
		t.Helper()
		var svc corev1.Service
		if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: name}, &svc); err != nil {
			t.Fatal(err)
		}
		svc.Labels = labels
		if err := c.Update(ctx, &svc); err != nil {
			t.Fatal(err)
		}
	}
	var frr *recordingFRR
	announced := func(want ...string) func() (bool, string) {
		return func() (bool, string) {
			l := frr.last()
			for _, ip := range []string{"203.0.113.5", "203.0.113.6"} {
				if strings.Contains(l, "network "+ip+"/32") != slices.Contains(want, ip) {
					return false, l
				}
			}
			return strings.Contains(l, "neighbor 192.0.2.1 remote-as 64500"), l
		}
	}

	service("public", "203.0.113.5", map[string]string{"exposure": "public"})
	service("private", "203.0.113.6", map[string]string{"exposure": "private"})
	frr = startSpeaker(t, env)

	testenv.Eventually(t, "only the selected Service announced", announced("203.0.113.5"))
	testenv.Eventually(t, "ServiceBGPStatus of the selected Service only", func() (bool, string) {
		var list v1beta1.ServiceBGPStatusList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		var names []string
		for _, s := range list.Items {
			names = append(names, s.Status.ServiceName)
		}
		return len(names) == 1 && names[0] == "public", fmt.Sprint(names)
	})

	relabel("private", map[string]string{"exposure": "public"})
	testenv.Eventually(t, "a relabelled Service announced", announced("203.0.113.5", "203.0.113.6"))

	relabel("public", nil)
	testenv.Eventually(t, "a Service whose label went withdrawn", announced("203.0.113.6"))
}
