package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/e2e/lab"
)

// adopted is a Service as MetalLB v0.16 left it: bare ingress IPs, IPv4
// first, and the pool annotation.
type adopted struct {
	name    string
	pool    string
	ingress []string
	mods    []func(*corev1.Service)
}

// TestMigrateFromMetalLB starts ironlb's controller and speakers on
// Services whose status MetalLB wrote, at IPs first fit would not choose,
// shared and dual-stack, BGP and Layer 2, and checks that no IP changed
// and every Service is announced: routes on the router from all three
// nodes, one Layer 2 owner.
func TestMigrateFromMetalLB(t *testing.T) {
	skipUnlessLabCanRun(t)
	share := func(s *corev1.Service) { s.Annotations["metallb.io/allow-shared-ip"] = "web" }
	otherPort := func(s *corev1.Service) {
		s.Spec.Ports = []corev1.ServicePort{{Name: "alt", Port: lab.ServicePort + 1}}
	}
	v6First := func(s *corev1.Service) {
		p := corev1.IPFamilyPolicyRequireDualStack
		s.Spec.IPFamilyPolicy, s.Spec.IPFamilies = &p, []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}
	}
	svcs := []adopted{
		{name: "mlb-high", pool: "bgp", ingress: []string{"203.0.113.120"}},
		{name: "mlb-dual", pool: "bgp", ingress: []string{"203.0.113.110", "2001:db8:0:100::a0"}, mods: []func(*corev1.Service){v6First}},
		{name: "mlb-share-a", pool: "bgp", ingress: []string{"203.0.113.100"}, mods: []func(*corev1.Service){share}},
		{name: "mlb-share-b", pool: "bgp", ingress: []string{"203.0.113.100"}, mods: []func(*corev1.Service){share, otherPort}},
		{name: "mlb-l2", pool: "l2", ingress: []string{"192.0.2.240"}},
	}
	cfg := labConfig(t)
	cfg.Speakers = true
	cfg.BeforeWorkloads = func(ctx context.Context, l *lab.Lab) error {
		for _, a := range svcs {
			if err := createAdopted(ctx, l, a); err != nil {
				return err
			}
		}
		return nil
	}
	l := startLab(t, cfg)
	waitSessions(t, l)

	// The example Service web-bgp, without IPs, is allocated after every
	// adopted one is booked: first fit gives it the pool's first address.
	webIPs, err := l.WaitServiceIPs(t.Context(), "lab", "web-bgp", 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := netip.MustParseAddr("203.0.113.0"); !slices.Contains(webIPs, want) {
		t.Errorf("web-bgp got %v, want %s: first fit, below every adopted IP", webIPs, want)
	}
	for _, a := range svcs {
		if a.pool != "bgp" {
			continue
		}
		for _, s := range a.ingress {
			ip := netip.MustParseAddr(s)
			waitCond(t, fmt.Sprintf("route to %s (%s) from three nodes", ip, a.name), func(ctx context.Context) (bool, string) {
				hops, err := nextHops(ctx, ip)
				if err != nil {
					return false, err.Error()
				}
				if ip.Is4() {
					return slices.Equal(hops, nodeIPv4s("ilb-n1", "ilb-n2", "ilb-n3")), strings.Join(hops, " ")
				}
				return len(hops) == 3, strings.Join(hops, " ")
			})
		}
	}
	waitCond(t, "a Layer 2 owner of mlb-l2", func(ctx context.Context) (bool, string) {
		owners, err := l2Owners(ctx, l, "lab", "mlb-l2")
		return err == nil && len(owners) == 1, fmt.Sprint(owners, err)
	})

	for _, a := range svcs {
		var s corev1.Service
		if err := l.Kube().Get(t.Context(), client.ObjectKey{Namespace: "lab", Name: a.name}, &s); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, in := range s.Status.LoadBalancer.Ingress {
			got = append(got, in.IP)
		}
		if !slices.Equal(got, a.ingress) {
			t.Errorf("%s: ingress %v, want %v as MetalLB wrote it", a.name, got, a.ingress)
		}
	}
	var events eventsv1.EventList
	if err := l.Kube().List(t.Context(), &events, client.InNamespace("lab")); err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		if strings.HasPrefix(e.Regarding.Name, "mlb-") && e.ReportingController == "ironlb-controller" {
			t.Errorf("event on %s: %s %s", e.Regarding.Name, e.Reason, e.Note)
		}
	}
}

// createAdopted creates the Service, its status as MetalLB wrote it, and
// an endpoint on every node.
func createAdopted(ctx context.Context, l *lab.Lab, a adopted) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "lab", Name: a.name, Annotations: map[string]string{"metallb.io/ip-allocated-from-pool": a.pool}},
		Spec: corev1.ServiceSpec{
			Type:  corev1.ServiceTypeLoadBalancer,
			Ports: []corev1.ServicePort{{Name: "http", Port: lab.ServicePort}},
		},
	}
	for _, m := range a.mods {
		m(svc)
	}
	if err := l.Kube().Create(ctx, svc); err != nil {
		return fmt.Errorf("creating service %s: %w", a.name, err)
	}
	for _, ip := range a.ingress {
		svc.Status.LoadBalancer.Ingress = append(svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
	}
	if err := l.Kube().Status().Update(ctx, svc); err != nil {
		return fmt.Errorf("writing the status of service %s: %w", a.name, err)
	}
	return l.CreateEndpoints(ctx, "lab", a.name, "ilb-n1", "ilb-n2", "ilb-n3")
}
