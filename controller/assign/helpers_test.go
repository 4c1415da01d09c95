package assign_test

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/controller/assign"
	"github.com/ironlb/ironlb/request"
)

const testNS = "metallb-system"

// newAssigner builds the model of the pools and an Assigner over it.
func newAssigner(t *testing.T, pools []v1beta1.IPAddressPool) *assign.Assigner {
	t.Helper()
	m, err := config.Build(config.Objects{Pools: pools, Namespace: testNS})
	if err != nil {
		t.Fatalf("config.Build: %v", err)
	}
	a, err := assign.New(m)
	if err != nil {
		t.Fatalf("assign.New: %v", err)
	}
	return a
}

func pool(name string, addrs ...string) v1beta1.IPAddressPool {
	return v1beta1.IPAddressPool{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: addrs},
	}
}

func manual(p v1beta1.IPAddressPool) v1beta1.IPAddressPool {
	off := false
	p.Spec.AutoAssign = &off
	return p
}

// forTeam limits the pool to the namespaces labelled team=<team>,
// with a priority (0 for none).
func forTeam(p v1beta1.IPAddressPool, team string, priority int) v1beta1.IPAddressPool {
	p.Spec.ServiceAllocation = &v1beta1.ServiceAllocation{
		Priority:           priority,
		NamespaceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"team": team}}},
	}
	return p
}

func ips(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

type svcOpt func(*assign.Service)

// svc returns a LoadBalancer Service default/<name> on TCP port 80, in
// a namespace without labels.
func svc(name string, opts ...svcOpt) assign.Service {
	s := assign.Service{Svc: &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Protocol: corev1.ProtocolTCP, Port: 80}},
		},
	}}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func inNamespace(ns string, kv ...string) svcOpt {
	return func(s *assign.Service) {
		s.Svc.Namespace = ns
		s.NamespaceLabels = labels.Set{}
		for i := 0; i+1 < len(kv); i += 2 {
			s.NamespaceLabels[kv[i]] = kv[i+1]
		}
	}
}

func annotate(k, v string) svcOpt {
	return func(s *assign.Service) {
		if s.Svc.Annotations == nil {
			s.Svc.Annotations = map[string]string{}
		}
		s.Svc.Annotations[k] = v
	}
}

func requestIPs(v string) svcOpt { return annotate(request.AnnotationLoadBalancerIPs, v) }
func fromPool(v string) svcOpt   { return annotate(request.AnnotationAddressPool, v) }
func shared(v string) svcOpt     { return annotate(request.AnnotationAllowSharedIP, v) }

func status(addrs ...string) svcOpt {
	return func(s *assign.Service) {
		for _, a := range addrs {
			s.Svc.Status.LoadBalancer.Ingress = append(s.Svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: a})
		}
	}
}

func ports(ps ...corev1.ServicePort) svcOpt {
	return func(s *assign.Service) { s.Svc.Spec.Ports = ps }
}

func tcp(n int32) corev1.ServicePort {
	return corev1.ServicePort{Protocol: corev1.ProtocolTCP, Port: n}
}
func udp(n int32) corev1.ServicePort {
	return corev1.ServicePort{Protocol: corev1.ProtocolUDP, Port: n}
}

// local sets externalTrafficPolicy Local with a selector app=<app>.
func local(app string) svcOpt {
	return func(s *assign.Service) {
		s.Svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		s.Svc.Spec.Selector = map[string]string{"app": app}
	}
}

func families(p corev1.IPFamilyPolicy, fams ...corev1.IPFamily) svcOpt {
	return func(s *assign.Service) {
		s.Svc.Spec.IPFamilyPolicy = &p
		s.Svc.Spec.IPFamilies = fams
	}
}
