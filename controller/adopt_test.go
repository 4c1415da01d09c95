package controller_test

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/internal/testenv"
)

// metallbService is a Service as MetalLB v0.16 left it: its ingress IPs
// (bare IPs, IPv4 first whatever the family order) and the pool
// annotation (empty: none, as an older MetalLB or a hand-edit leaves it).
type metallbService struct {
	svc      *corev1.Service
	ingress  []string
	pool     string
	wantPool string // the annotation once ironlb runs
}

// TestAdoptMetalLBServices starts the controller on Services whose
// status MetalLB wrote, with IPs first fit would never choose (the
// highest addresses first, in the first pool by name, another pool, an
// autoAssign=false pool), shared IPs, dual stack in both family orders,
// spec.loadBalancerIP, a pool annotation naming a renamed pool and none
// at all. No IP may change, not even the order of the ingress list, and
// no IP event may be given; a new Service then gets the lowest free IP.
func TestAdoptMetalLBServices(t *testing.T) {
	cl := newIdleCluster(t, testenv.Options{ServiceCIDRs: "10.96.0.0/16,fd00:10:96::/108"})
	ctx := context.Background()
	cl.create(pool("a", "192.0.2.1-192.0.2.254", "2001:db8::1-2001:db8::ffff"))
	cl.create(pool("b", "198.51.100.1-198.51.100.254"))
	manual := pool("manual", "203.0.113.1-203.0.113.100")
	manual.Spec.AutoAssign = ptr.To(false)
	cl.create(manual)

	fixtures := metallbFixtures(*adoptServices)
	for _, f := range fixtures {
		if f.pool != "" {
			f.svc.Annotations[annotationPool] = f.pool
		}
		cl.create(f.svc)
		patch := client.MergeFrom(f.svc.DeepCopy())
		for _, ip := range f.ingress {
			f.svc.Status.LoadBalancer.Ingress = append(f.svc.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
		}
		if err := cl.c.Status().Patch(ctx, f.svc, patch); err != nil {
			t.Fatalf("writing status of %s: %v", f.svc.Name, err)
		}
	}

	cl.startController()
	// The newcomer is queued after every existing Service: once it has
	// its IP and event, they have all been reconciled.
	cl.create(service("default", "newcomer"))
	cl.waitIngress("default", "newcomer", "192.0.2.1")
	cl.waitEvent("default", "newcomer", "IPAllocated", "192.0.2.1")

	for _, f := range fixtures {
		var s corev1.Service
		if err := cl.c.Get(ctx, types.NamespacedName{Namespace: f.svc.Namespace, Name: f.svc.Name}, &s); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, in := range s.Status.LoadBalancer.Ingress {
			got = append(got, in.IP)
		}
		if strings.Join(got, ",") != strings.Join(f.ingress, ",") {
			t.Errorf("%s: ingress %v, want %v as MetalLB wrote it", f.svc.Name, got, f.ingress)
		}
		if f.wantPool != "" {
			name := f.svc.Name
			cl.eventually("pool annotation of "+name, func() (bool, string) {
				_, p := cl.ingress("default", name)
				return p == f.wantPool, p
			})
		}
	}
	var events eventsv1.EventList
	if err := cl.c.List(ctx, &events, client.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		// The API server's own events (cluster IP repair) are not ours.
		if e.ReportingController == "ironlb-controller" && e.Regarding.Name != "newcomer" {
			t.Errorf("event on %s: %s %s", e.Regarding.Name, e.Reason, e.Note)
		}
	}
	cl.eventually("pool a status", func() (bool, string) {
		var p v1beta1.IPAddressPool
		if err := cl.c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "a"}, &p); err != nil {
			return false, err.Error()
		}
		want := countIPs(fixtures, "a", true)
		return p.Status.AssignedIPv4 == want+1, fmt.Sprintf("%+v, want %d IPv4 assigned", p.Status, want+1)
	})
}

const annotationPool = "metallb.io/ip-allocated-from-pool"

// adoptServices sizes TestAdoptMetalLBServices: groups of Services, each
// one to two Services; past 200, IPv6-only Services (the documentation
// ranges hold too few IPv4 addresses).
var adoptServices = flag.Int("adopt-services", 200, "groups of Services TestAdoptMetalLBServices adopts")

// metallbFixtures returns n groups of Services with the IPs MetalLB
// could have given them, from the top of each pool downwards.
func metallbFixtures(n int) []metallbService {
	a4, a6, b4, m4 := 254, 0xffff, 254, 100
	next := func(n *int) int { v := *n; *n--; return v }
	var out []metallbService
	add := func(name string, ingress []string, pool, wantPool string, mods ...func(*corev1.Service)) {
		out = append(out, metallbService{svc: service("default", name, append(mods, withAnnotations)...), ingress: ingress, pool: pool, wantPool: wantPool})
	}
	dual := func(policy corev1.IPFamilyPolicy, fams ...corev1.IPFamily) func(*corev1.Service) {
		return func(s *corev1.Service) { s.Spec.IPFamilyPolicy = &policy; s.Spec.IPFamilies = fams }
	}
	for i := range n {
		name := fmt.Sprintf("s%05d", i)
		if i >= 200 {
			add(name, []string{fmt.Sprintf("2001:db8::%x", next(&a6))}, "a", "a", dual(corev1.IPFamilyPolicySingleStack, corev1.IPv6Protocol))
			continue
		}
		switch i % 8 {
		case 0, 1:
			add(name, []string{fmt.Sprintf("192.0.2.%d", next(&a4))}, "a", "a")
		case 2:
			// IPv6 first: MetalLB still lists IPv4 first.
			v4, v6 := fmt.Sprintf("192.0.2.%d", next(&a4)), fmt.Sprintf("2001:db8::%x", next(&a6))
			add(name, []string{v4, v6}, "a", "a", dual(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv6Protocol, corev1.IPv4Protocol))
		case 3:
			v4, v6 := fmt.Sprintf("192.0.2.%d", next(&a4)), fmt.Sprintf("2001:db8::%x", next(&a6))
			add(name, []string{v4, v6}, "a", "a", dual(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))
		case 4:
			// Two Services on one IP with allow-shared-ip, ports apart.
			ip := []string{fmt.Sprintf("198.51.100.%d", next(&b4))}
			share := withAnnotation("metallb.io/allow-shared-ip", "dns-"+name)
			add(name+"-tcp", ip, "b", "b", share, withPort(53))
			add(name+"-udp", ip, "b", "b", share, func(s *corev1.Service) {
				s.Spec.Ports = []corev1.ServicePort{{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53}}
			})
		case 5:
			// A shared dual-stack pair, in both family orders.
			v4, v6 := fmt.Sprintf("192.0.2.%d", next(&a4)), fmt.Sprintf("2001:db8::%x", next(&a6))
			share := withAnnotation("metallb.io/allow-shared-ip", "web-"+name)
			add(name+"-http", []string{v4, v6}, "a", "a", share, withPort(80), dual(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv4Protocol, corev1.IPv6Protocol))
			add(name+"-https", []string{v4, v6}, "a", "a", share, withPort(443), dual(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv6Protocol, corev1.IPv4Protocol))
		case 6:
			// No pool annotation at all; ironlb adds it.
			add(name, []string{fmt.Sprintf("198.51.100.%d", next(&b4))}, "", "b")
		case 7:
			// spec.loadBalancerIP in the autoAssign=false pool.
			ip := fmt.Sprintf("203.0.113.%d", next(&m4))
			add(name, []string{ip}, "manual", "manual", func(s *corev1.Service) { s.Spec.LoadBalancerIP = ip })
		}
	}
	// A pool renamed since MetalLB wrote the annotation.
	add("renamed", []string{fmt.Sprintf("192.0.2.%d", next(&a4))}, "old-name-of-a", "a")
	return out
}

// withAnnotations readies the annotations, and asks for no node ports:
// the API server has fewer than 10,000.
func withAnnotations(s *corev1.Service) {
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	s.Spec.AllocateLoadBalancerNodePorts = ptr.To(false)
}

// countIPs counts the distinct addresses of one family the fixtures hold
// in a pool.
func countIPs(fs []metallbService, pool string, v4 bool) int64 {
	seen := map[string]bool{}
	for _, f := range fs {
		if f.wantPool != pool {
			continue
		}
		for _, ip := range f.ingress {
			if netip.MustParseAddr(ip).Is4() == v4 {
				seen[ip] = true
			}
		}
	}
	return int64(len(seen))
}
