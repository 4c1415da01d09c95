package assign_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/controller/assign"
	"github.com/ironlb/ironlb/request"
)

// created sets the Service's creation time, minutes after a fixed start.
func created(minute int) svcOpt {
	return func(s *assign.Service) {
		s.Svc.CreationTimestamp = metav1.NewTime(time.Date(2026, 1, 1, 0, minute, 0, 0, time.UTC))
	}
}

// metallb marks the Service as MetalLB v0.16 leaves it: the pool
// annotation it writes (status() gives the ingress IPs, which it writes
// as bare IPs, IPv4 first).
func metallb(pool string) svcOpt { return annotate(request.AnnotationAllocatedFromPool, pool) }

func specIP(ip string) svcOpt {
	return func(s *assign.Service) { s.Svc.Spec.LoadBalancerIP = ip }
}

// TestAdoptMetalLB restores Services as MetalLB left them, in the order
// of the list, and checks that each keeps its IPs (or who is refused),
// then that a new Service gets a free address.
func TestAdoptMetalLB(t *testing.T) {
	const (
		prefer  = corev1.IPFamilyPolicyPreferDualStack
		require = corev1.IPFamilyPolicyRequireDualStack
		v4      = corev1.IPv4Protocol
		v6      = corev1.IPv6Protocol
	)
	// "b" sorts after "a", and "a"'s lowest addresses are free: first fit
	// would give every Service below another IP than the one it has.
	pools := []v1beta1.IPAddressPool{
		pool("a", "192.0.2.10-192.0.2.19", "2001:db8::10-2001:db8::19"),
		pool("b", "198.51.100.10-198.51.100.19"),
		manual(pool("manual", "203.0.113.10-203.0.113.19")),
	}
	tests := []struct {
		name        string
		svcs        []assign.Service
		want        map[string]assign.Result
		wantRefused map[string]string
		// newcomer is what a new Service without IPs gets afterwards.
		newcomer assign.Result
	}{
		{
			name: "MetalLB's assignments are kept, whatever first fit would choose",
			svcs: []assign.Service{
				svc("in-b", created(1), status("198.51.100.15"), metallb("b")),
				svc("high-in-a", created(2), status("192.0.2.19"), metallb("a")),
				// MetalLB writes IPv4 first even for an IPv6-first Service.
				svc("dual-v6-first", created(3), families(require, v6, v4), status("192.0.2.17", "2001:db8::17"), metallb("a")),
				svc("dual-prefer", created(4), families(prefer, v4, v6), status("192.0.2.16", "2001:db8::16"), metallb("a")),
				svc("prefer-one-family", created(5), families(prefer, v4, v6), status("198.51.100.12"), metallb("b")),
				// autoAssign false: kept without naming the pool.
				svc("in-manual", created(6), status("203.0.113.14"), metallb("manual")),
				// MetalLB's IP from spec.loadBalancerIP.
				svc("spec-ip", created(7), specIP("192.0.2.18"), status("192.0.2.18"), metallb("a")),
				// The legacy annotations, which MetalLB v0.16 still reads.
				svc("legacy", created(8), status("198.51.100.11"), annotate(request.LegacyAnnotationAddressPool, "b"), annotate("metallb.universe.tf/ip-allocated-from-pool", "b")),
			},
			want: map[string]assign.Result{
				"default/in-b":              {IPs: ips("198.51.100.15"), Pool: "b"},
				"default/high-in-a":         {IPs: ips("192.0.2.19"), Pool: "a"},
				"default/dual-v6-first":     {IPs: ips("2001:db8::17", "192.0.2.17"), Pool: "a"},
				"default/dual-prefer":       {IPs: ips("192.0.2.16", "2001:db8::16"), Pool: "a"},
				"default/prefer-one-family": {IPs: ips("198.51.100.12"), Pool: "b"},
				"default/in-manual":         {IPs: ips("203.0.113.14"), Pool: "manual"},
				"default/spec-ip":           {IPs: ips("192.0.2.18"), Pool: "a"},
				"default/legacy":            {IPs: ips("198.51.100.11"), Pool: "b"},
			},
			newcomer: assign.Result{IPs: ips("192.0.2.10"), Pool: "a"},
		},
		{
			name: "the pool annotation is not read: a renamed, missing or wrong pool keeps the IP, and no annotation is needed",
			svcs: []assign.Service{
				svc("renamed", created(1), status("192.0.2.12"), metallb("old-name-of-a")),
				svc("wrong-pool", created(2), status("198.51.100.13"), metallb("a")),
				svc("no-annotation", created(3), status("192.0.2.11")),
			},
			want: map[string]assign.Result{
				"default/renamed":       {IPs: ips("192.0.2.12"), Pool: "a"},
				"default/wrong-pool":    {IPs: ips("198.51.100.13"), Pool: "b"},
				"default/no-annotation": {IPs: ips("192.0.2.11"), Pool: "a"},
			},
			newcomer: assign.Result{IPs: ips("192.0.2.10"), Pool: "a"},
		},
		{
			name: "shared IPs: every Service of a sharing key keeps the IP, single and dual stack",
			svcs: []assign.Service{
				svc("dns-udp", created(3), shared("dns"), ports(udp(53)), status("192.0.2.13"), metallb("a")),
				svc("dns-tcp", created(1), shared("dns"), ports(tcp(53)), status("192.0.2.13"), metallb("a")),
				svc("web-v4", created(2), shared("web"), ports(tcp(80)), families(require, v4, v6), status("192.0.2.14", "2001:db8::14"), metallb("a")),
				svc("web-v6", created(4), shared("web"), ports(tcp(443)), families(require, v6, v4), status("192.0.2.14", "2001:db8::14"), metallb("a")),
				svc("local-a", created(5), shared("loc"), local("x"), ports(tcp(80)), status("198.51.100.10"), metallb("b")),
				svc("local-b", created(6), shared("loc"), local("x"), ports(tcp(81)), status("198.51.100.10"), metallb("b")),
			},
			want: map[string]assign.Result{
				"default/dns-udp": {IPs: ips("192.0.2.13"), Pool: "a"},
				"default/dns-tcp": {IPs: ips("192.0.2.13"), Pool: "a"},
				"default/web-v4":  {IPs: ips("192.0.2.14", "2001:db8::14"), Pool: "a"},
				"default/web-v6":  {IPs: ips("2001:db8::14", "192.0.2.14"), Pool: "a"},
				"default/local-a": {IPs: ips("198.51.100.10"), Pool: "b"},
				"default/local-b": {IPs: ips("198.51.100.10"), Pool: "b"},
			},
			newcomer: assign.Result{IPs: ips("192.0.2.10"), Pool: "a"},
		},
		{
			name: "a conflict goes to the older Service, whatever the order of the list",
			svcs: []assign.Service{
				svc("young", created(9), status("192.0.2.10")),
				svc("old", created(1), status("192.0.2.10")),
			},
			want: map[string]assign.Result{
				"default/old":   {IPs: ips("192.0.2.10"), Pool: "a"},
				"default/young": {IPs: ips("192.0.2.11"), Pool: "a"},
			},
			wantRefused: map[string]string{"default/young": "keeping ingress IPs: 192.0.2.10 is already in use by default/old (not shareable)"},
			newcomer:    assign.Result{IPs: ips("192.0.2.12"), Pool: "a"},
		},
		{
			name: "what MetalLB would move too is refused: an IP outside every pool, a pool the Service no longer names",
			svcs: []assign.Service{
				svc("gone", created(1), status("192.0.2.200"), metallb("a")),
				svc("names-b", created(2), fromPool("b"), status("192.0.2.15"), metallb("a")),
			},
			want: map[string]assign.Result{
				"default/gone":    {IPs: ips("192.0.2.10"), Pool: "a"},
				"default/names-b": {IPs: ips("198.51.100.10"), Pool: "b"},
			},
			wantRefused: map[string]string{
				"default/gone":    "keeping ingress IPs: 192.0.2.200 is not in any pool",
				"default/names-b": `keeping ingress IPs: 192.0.2.15 is in pool "a", which this service may not use`,
			},
			newcomer: assign.Result{IPs: ips("192.0.2.11"), Pool: "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAssigner(t, pools)
			refused := map[string]string{}
			for k, err := range a.RestoreAll(tt.svcs) {
				refused[k] = err.Error()
			}
			if diff := cmp.Diff(tt.wantRefused, refused, cmpAddr); diff != "" {
				t.Errorf("RestoreAll refused (-want +got):\n%s", diff)
			}
			got := map[string]assign.Result{}
			for _, s := range tt.svcs {
				res, err := a.Ensure(s)
				if err != nil {
					t.Fatalf("Ensure(%s): %v", s.Key(), err)
				}
				got[s.Key()] = res
			}
			if diff := cmp.Diff(tt.want, got, cmpAddr); diff != "" {
				t.Errorf("after RestoreAll and Ensure (-want +got):\n%s", diff)
			}
			res, err := a.Ensure(svc("newcomer", created(99)))
			if err != nil {
				t.Fatalf("Ensure(newcomer): %v", err)
			}
			if diff := cmp.Diff(tt.newcomer, res, cmpAddr); diff != "" {
				t.Errorf("newcomer (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEnsureAdoptsUnrestoredService: a Service whose status IPs were
// written after the last RestoreAll (MetalLB still running, or a status
// the list did not show yet) keeps them on its first Ensure instead of
// taking the first free address.
func TestEnsureAdoptsUnrestoredService(t *testing.T) {
	tests := []struct {
		name string
		svc  assign.Service
		want assign.Result
	}{
		{
			name: "status IP above the first free one",
			svc:  svc("late", status("192.0.2.12"), metallb("a")),
			want: assign.Result{IPs: ips("192.0.2.12"), Pool: "a"},
		},
		{
			name: "dual stack, IPv4 listed first for an IPv6-first Service",
			svc:  svc("late", families(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv6Protocol, corev1.IPv4Protocol), status("192.0.2.11", "2001:db8::11"), metallb("a")),
			want: assign.Result{IPs: ips("2001:db8::11", "192.0.2.11"), Pool: "a"},
		},
		{
			name: "a status IP outside every pool is not kept",
			svc:  svc("late", status("203.0.113.99"), metallb("a")),
			want: assign.Result{IPs: ips("192.0.2.10"), Pool: "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAssigner(t, []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.12", "2001:db8::10-2001:db8::12")})
			got, err := a.Ensure(tt.svc)
			if err != nil {
				t.Fatalf("Ensure: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpAddr); diff != "" {
				t.Errorf("Ensure (-want +got):\n%s", diff)
			}
		})
	}
}
