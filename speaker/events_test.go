package speaker

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/event"
)

func lbService(name string, mods ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Generation: 1, ResourceVersion: "1"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

func withIP(ip string) func(*corev1.Service) {
	return func(s *corev1.Service) {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
	}
}

func TestServiceChanged(t *testing.T) {
	p := serviceChanged()
	bump := func(s *corev1.Service) { s.ResourceVersion = "2" }
	for _, tt := range []struct {
		name     string
		old, new *corev1.Service
		want     bool
	}{
		{name: "created without IP", new: lbService("a"), want: false},
		{name: "created with IP", new: lbService("a", withIP("203.0.113.1")), want: true},
		{name: "gets its IP", old: lbService("a"), new: lbService("a", withIP("203.0.113.1")), want: true},
		{name: "loses its IP", old: lbService("a", withIP("203.0.113.1")), new: lbService("a"), want: true},
		{name: "without IP, spec changes", old: lbService("a"), new: lbService("a", func(s *corev1.Service) { s.Generation = 2 }), want: false},
		{name: "with IP, only the resource version changes", old: lbService("a", withIP("203.0.113.1")), new: lbService("a", withIP("203.0.113.1"), bump), want: false},
		{name: "with IP, spec changes", old: lbService("a", withIP("203.0.113.1")), new: lbService("a", withIP("203.0.113.1"), func(s *corev1.Service) { s.Generation = 2 }), want: true},
		{name: "with IP, an annotation changes", old: lbService("a", withIP("203.0.113.1")), new: lbService("a", withIP("203.0.113.1"), func(s *corev1.Service) {
			s.Annotations = map[string]string{"metallb.io/address-pool": "b"}
		}), want: true},
		{name: "with IP, a label changes", old: lbService("a", withIP("203.0.113.1")), new: lbService("a", withIP("203.0.113.1"), func(s *corev1.Service) {
			s.Labels = map[string]string{"x": "y"}
		}), want: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got bool
			if tt.old == nil {
				got = p.Create(event.CreateEvent{Object: tt.new})
				if del := p.Delete(event.DeleteEvent{Object: tt.new}); del != got {
					t.Errorf("Delete = %v, Create = %v; want the same", del, got)
				}
			} else {
				got = p.Update(event.UpdateEvent{ObjectOld: tt.old, ObjectNew: tt.new})
			}
			if got != tt.want {
				t.Errorf("passes = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEndpointsOfAnnounced(t *testing.T) {
	r := fake.NewClientBuilder().WithObjects(
		lbService("with-ip", withIP("203.0.113.1")),
		lbService("no-ip"),
	).Build()
	slice := func(svc string) client.Object {
		es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: svc + "-x"}}
		if svc != "" {
			es.Labels = map[string]string{discoveryv1.LabelServiceName: svc}
		}
		return es
	}
	for _, tt := range []struct {
		svc  string
		want bool
	}{
		{svc: "with-ip", want: true},
		{svc: "no-ip", want: false},
		{svc: "gone", want: false},
		{svc: "", want: false},
	} {
		if got := endpointsOfAnnounced(t.Context(), r, slice(tt.svc)); got != tt.want {
			t.Errorf("endpoints of %q: passes = %v, want %v", tt.svc, got, tt.want)
		}
	}
}
