package lab

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// endpointSlices returns the EndpointSlices that give svc the endpoints
// eps: one slice per IP family of the Service, the endpoints in eps's
// order, each on its node's address of that family.
func endpointSlices(svc *corev1.Service, eps []Endpoint) ([]discoveryv1.EndpointSlice, error) {
	families := svc.Spec.IPFamilies
	if len(families) == 0 {
		families = []corev1.IPFamily{corev1.IPv4Protocol}
	}
	var ports []discoveryv1.EndpointPort
	for _, p := range svc.Spec.Ports {
		port := p.Port
		if t := p.TargetPort.IntValue(); t > 0 {
			port = int32(t)
		}
		ports = append(ports, discoveryv1.EndpointPort{Name: new(p.Name), Protocol: new(p.Protocol), Port: new(port)})
	}
	var out []discoveryv1.EndpointSlice
	for _, fam := range families {
		addrType := discoveryv1.AddressTypeIPv4
		if fam == corev1.IPv6Protocol {
			addrType = discoveryv1.AddressTypeIPv6
		}
		endpoints := []discoveryv1.Endpoint{}
		for _, ep := range eps {
			n, ok := NodeByName(ep.Node)
			if !ok {
				return nil, fmt.Errorf("endpoint on %q: no such lab node", ep.Node)
			}
			addr := n.IPv4.String()
			if fam == corev1.IPv6Protocol {
				addr = n.IPv6.String()
			}
			endpoints = append(endpoints, discoveryv1.Endpoint{
				Addresses: []string{addr},
				NodeName:  new(n.Name),
				Conditions: discoveryv1.EndpointConditions{
					Ready:       new(!ep.NotReady),
					Serving:     new(!ep.NotReady),
					Terminating: new(false),
				},
			})
		}
		out = append(out, discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{
				Namespace: svc.Namespace,
				Name:      svc.Name + "-lab-" + strings.ToLower(string(fam)),
				Labels: map[string]string{
					discoveryv1.LabelServiceName: svc.Name,
					discoveryv1.LabelManagedBy:   "ironlb-lab",
				},
			},
			AddressType: addrType,
			Endpoints:   endpoints,
			Ports:       ports,
		})
	}
	return out, nil
}
