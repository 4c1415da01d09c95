package lab

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestEndpointSlices(t *testing.T) {
	svc := func(families ...corev1.IPFamily) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
			Spec: corev1.ServiceSpec{
				IPFamilies: families,
				Ports: []corev1.ServicePort{
					{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080)},
					{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53},
				},
			},
		}
	}
	meta := func(family string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: "ns", Name: "web-lab-" + family, Labels: map[string]string{
			"kubernetes.io/service-name":             "web",
			"endpointslice.kubernetes.io/managed-by": "ironlb-lab",
		}}
	}
	ports := []discoveryv1.EndpointPort{
		{Name: new("http"), Protocol: new(corev1.ProtocolTCP), Port: new(int32(8080))},
		{Name: new("dns"), Protocol: new(corev1.ProtocolUDP), Port: new(int32(53))},
	}
	ep := func(addr, node string, ready bool) discoveryv1.Endpoint {
		return discoveryv1.Endpoint{
			Addresses:  []string{addr},
			NodeName:   new(node),
			Conditions: discoveryv1.EndpointConditions{Ready: new(ready), Serving: new(ready), Terminating: new(false)},
		}
	}
	tests := []struct {
		name    string
		svc     *corev1.Service
		eps     []Endpoint
		want    []discoveryv1.EndpointSlice
		wantErr bool
	}{{
		name: "no families means IPv4",
		svc:  svc(),
		eps:  []Endpoint{{Node: "ilb-n2"}},
		want: []discoveryv1.EndpointSlice{{ObjectMeta: meta("ipv4"), AddressType: discoveryv1.AddressTypeIPv4, Ports: ports,
			Endpoints: []discoveryv1.Endpoint{ep("192.0.2.12", "ilb-n2", true)}}},
	}, {
		name: "dual stack, one slice per family, not ready kept",
		svc:  svc(corev1.IPv6Protocol, corev1.IPv4Protocol),
		eps:  []Endpoint{{Node: "ilb-n3"}, {Node: "ilb-n1", NotReady: true}},
		want: []discoveryv1.EndpointSlice{
			{ObjectMeta: meta("ipv6"), AddressType: discoveryv1.AddressTypeIPv6, Ports: ports,
				Endpoints: []discoveryv1.Endpoint{ep("2001:db8:0:1::13", "ilb-n3", true), ep("2001:db8:0:1::11", "ilb-n1", false)}},
			{ObjectMeta: meta("ipv4"), AddressType: discoveryv1.AddressTypeIPv4, Ports: ports,
				Endpoints: []discoveryv1.Endpoint{ep("192.0.2.13", "ilb-n3", true), ep("192.0.2.11", "ilb-n1", false)}},
		},
	}, {
		name: "no endpoints leaves an empty slice",
		svc:  svc(corev1.IPv4Protocol),
		want: []discoveryv1.EndpointSlice{{ObjectMeta: meta("ipv4"), AddressType: discoveryv1.AddressTypeIPv4, Ports: ports,
			Endpoints: []discoveryv1.Endpoint{}}},
	}, {
		name:    "unknown node",
		svc:     svc(),
		eps:     []Endpoint{{Node: "worker-7"}},
		wantErr: true,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := endpointSlices(tc.svc, tc.eps)
			if (err != nil) != tc.wantErr {
				t.Fatalf("endpointSlices() error = %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("endpointSlices() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
