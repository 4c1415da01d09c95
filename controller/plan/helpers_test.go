package plan

import (
	"net/netip"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/request"
)

// cmpAddr compares addresses by value; nil and empty slices stay
// different, since the JSON form tells them apart.
var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// ips parses addresses; with none it returns an empty, non-nil slice.
func ips(s ...string) []netip.Addr {
	out := make([]netip.Addr, 0, len(s))
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func pool(name string, addrs ...string) v1beta1.IPAddressPool {
	return v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: DefaultNamespace},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: addrs},
	}
}

func manual(p v1beta1.IPAddressPool) v1beta1.IPAddressPool {
	off := false
	p.Spec.AutoAssign = &off
	return p
}

func allocate(p v1beta1.IPAddressPool, sa v1beta1.ServiceAllocation) v1beta1.IPAddressPool {
	p.Spec.ServiceAllocation = &sa
	return p
}

func namespace(name string, kv ...string) corev1.Namespace {
	ns := corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
	for i := 0; i+1 < len(kv); i += 2 {
		ns.Labels[kv[i]] = kv[i+1]
	}
	return ns
}

type svcOpt func(*corev1.Service)

// lb returns a LoadBalancer Service on TCP port 80, with no ipFamilies,
// as written in a manifest.
func lb(ns, name string, opts ...svcOpt) corev1.Service {
	s := corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Protocol: corev1.ProtocolTCP, Port: 80}},
		},
	}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func annotate(k, v string) svcOpt {
	return func(s *corev1.Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
}

func requestIPs(v string) svcOpt { return annotate(request.AnnotationLoadBalancerIPs, v) }
func fromPool(v string) svcOpt   { return annotate(request.AnnotationAddressPool, v) }
func shared(v string) svcOpt     { return annotate(request.AnnotationAllowSharedIP, v) }

func status(addrs ...string) svcOpt {
	return func(s *corev1.Service) {
		for _, a := range addrs {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: a})
		}
	}
}

func port(n int32) svcOpt {
	return func(s *corev1.Service) {
		s.Spec.Ports = []corev1.ServicePort{{Protocol: corev1.ProtocolTCP, Port: n}}
	}
}

func families(p corev1.IPFamilyPolicy, fams ...corev1.IPFamily) svcOpt {
	return func(s *corev1.Service) {
		s.Spec.IPFamilyPolicy = &p
		s.Spec.IPFamilies = fams
	}
}

func class(c string) svcOpt {
	return func(s *corev1.Service) { s.Spec.LoadBalancerClass = &c }
}

func kind(t corev1.ServiceType) svcOpt {
	return func(s *corev1.Service) { s.Spec.Type = t }
}
