package migrate_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ironlb/ironlb/api/v1beta1"
)

const ns = "metallb-system"

// poolObj returns an IPAddressPool as the API server returns it.
func poolObj(t *testing.T, name string, autoAssign bool, addrs ...string) unstructured.Unstructured {
	t.Helper()
	p := v1beta1.IPAddressPool{
		TypeMeta:   metav1.TypeMeta{APIVersion: "metallb.io/v1beta1", Kind: "IPAddressPool"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1beta1.IPAddressPoolSpec{Addresses: addrs, AutoAssign: &autoAssign},
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&p)
	if err != nil {
		t.Fatal(err)
	}
	return unstructured.Unstructured{Object: m}
}

type svcOpt func(*corev1.Service)

// svc returns a LoadBalancer Service default/<name> on TCP 80, created
// minute minutes after a fixed time.
func svc(name string, minute int, opts ...svcOpt) corev1.Service {
	s := corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 1, 0, minute, 0, 0, time.UTC))},
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

// byMetalLB gives the Service what MetalLB v0.16 writes: bare ingress
// IPs (IPv4 first) and the pool annotation.
func byMetalLB(pool string, ips ...string) svcOpt {
	return func(s *corev1.Service) {
		for _, ip := range ips {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
		if pool != "" {
			annotate("metallb.io/ip-allocated-from-pool", pool)(s)
		}
	}
}

func annotate(k, v string) svcOpt {
	return func(s *corev1.Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
}

func port(proto corev1.Protocol, n int32) svcOpt {
	return func(s *corev1.Service) { s.Spec.Ports = []corev1.ServicePort{{Protocol: proto, Port: n}} }
}

func dual(p corev1.IPFamilyPolicy, fams ...corev1.IPFamily) svcOpt {
	return func(s *corev1.Service) { s.Spec.IPFamilyPolicy = &p; s.Spec.IPFamilies = fams }
}

func class(c string) svcOpt {
	return func(s *corev1.Service) { s.Spec.LoadBalancerClass = &c }
}

// controllerDeployment is MetalLB's controller as its manifests run it.
func controllerDeployment(namespace, image string, args ...string) appsv1.Deployment {
	return appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "controller"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "controller", Image: image, Args: append([]string{"--port=7472", "--log-level=info"}, args...)},
		}}}},
	}
}

// speakerDaemonSet is MetalLB's speaker with its FRR sidecar.
func speakerDaemonSet(namespace, image string, args ...string) appsv1.DaemonSet {
	return appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "speaker"},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "speaker", Image: image, Args: append([]string{"--port=7472"}, args...), Env: []corev1.EnvVar{{Name: "METALLB_NODE_NAME"}}},
			{Name: "frr", Image: "quay.io/frrouting/frr:9.1.0"},
		}}}},
	}
}

func node(name string, labels map[string]string) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}
