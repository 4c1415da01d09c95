package request

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func svc(mods ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: corev1.ServiceSpec{
			Type:       corev1.ServiceTypeLoadBalancer,
			Ports:      []corev1.ServicePort{{Protocol: corev1.ProtocolTCP, Port: 80}},
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
		},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

func ann(k, v string) func(*corev1.Service) {
	return func(s *corev1.Service) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[k] = v
	}
}

func policy(p corev1.IPFamilyPolicy, fams ...corev1.IPFamily) func(*corev1.Service) {
	return func(s *corev1.Service) {
		s.Spec.IPFamilyPolicy = &p
		s.Spec.IPFamilies = fams
	}
}

func ips(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

var tcp80 = []Port{{Protocol: "TCP", Port: 80}}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		svc     *corev1.Service
		want    Request
		wantErr string
	}{
		{name: "plain", svc: svc(), want: Request{Ports: tcp80, Families: []Family{IPv4}}},
		{name: "pool annotation", svc: svc(ann(AnnotationAddressPool, "gold")), want: Request{Pool: "gold", Ports: tcp80, Families: []Family{IPv4}}},
		{name: "legacy pool annotation", svc: svc(ann(LegacyAnnotationAddressPool, "gold")), want: Request{Pool: "gold", Ports: tcp80, Families: []Family{IPv4}}},
		{name: "both pool annotations agree", svc: svc(ann(AnnotationAddressPool, "gold"), ann(LegacyAnnotationAddressPool, "gold")), want: Request{Pool: "gold", Ports: tcp80, Families: []Family{IPv4}}},
		{name: "pool annotations conflict", svc: svc(ann(AnnotationAddressPool, "gold"), ann(LegacyAnnotationAddressPool, "silver")), wantErr: `annotations[metallb.io/address-pool]: conflicts with metallb.universe.tf/address-pool ("silver"); set only one`},
		{name: "bad pool name", svc: svc(ann(AnnotationAddressPool, "Gold Pool")), wantErr: `annotations[metallb.io/address-pool]: "Gold Pool" is not a valid pool name`},
		{name: "requested ip annotation", svc: svc(ann(AnnotationLoadBalancerIPs, "192.0.2.7")), want: Request{IPs: ips("192.0.2.7"), Ports: tcp80, Families: []Family{IPv4}}},
		{name: "requested ip spec", svc: svc(func(s *corev1.Service) { s.Spec.LoadBalancerIP = "192.0.2.8" }), want: Request{IPs: ips("192.0.2.8"), Ports: tcp80, Families: []Family{IPv4}}},
		{name: "requested ip both", svc: svc(ann(AnnotationLoadBalancerIPs, "192.0.2.7"), func(s *corev1.Service) { s.Spec.LoadBalancerIP = "192.0.2.8" }), wantErr: "spec.loadBalancerIP is set too"},
		{name: "requested ip garbage", svc: svc(ann(AnnotationLoadBalancerIPs, "192.0.2.300")), wantErr: `annotations[metallb.io/loadBalancerIPs]: "192.0.2.300" is not an IP address`},
		{name: "requested ip zone", svc: svc(ann(AnnotationLoadBalancerIPs, "fe80::1%eth0")), wantErr: "is not an IP address"},
		{name: "requested two v4", svc: svc(ann(AnnotationLoadBalancerIPs, "192.0.2.7,192.0.2.8")), wantErr: "more than one IPv4 address"},
		{name: "requested v6 on v4 service", svc: svc(ann(AnnotationLoadBalancerIPs, "2001:db8::7")), wantErr: "spec.ipFamilies: requested IP 2001:db8::7 is IPv6"},
		{
			name: "dual stack requested",
			svc:  svc(policy(corev1.IPFamilyPolicyRequireDualStack, corev1.IPv6Protocol, corev1.IPv4Protocol), ann(AnnotationLoadBalancerIPs, "192.0.2.7, 2001:db8::7")),
			want: Request{IPs: ips("192.0.2.7", "2001:db8::7"), Ports: tcp80, Families: []Family{IPv6, IPv4}, Policy: RequireDualStack},
		},
		{name: "prefer dual on single stack cluster", svc: svc(policy(corev1.IPFamilyPolicyPreferDualStack, corev1.IPv4Protocol)), want: Request{Ports: tcp80, Families: []Family{IPv4}, Policy: PreferDualStack}},
		{name: "offline dual stack without families", svc: svc(policy(corev1.IPFamilyPolicyPreferDualStack)), want: Request{Ports: tcp80, Families: []Family{IPv4, IPv6}, Policy: PreferDualStack}},
		{name: "offline families from requested IPs", svc: svc(policy(corev1.IPFamilyPolicySingleStack), ann(AnnotationLoadBalancerIPs, "2001:db8::9")), want: Request{IPs: ips("2001:db8::9"), Ports: tcp80, Families: []Family{IPv6}}},
		{name: "unknown family", svc: svc(policy(corev1.IPFamilyPolicySingleStack, "IPv5")), wantErr: `spec.ipFamilies: unknown family "IPv5"`},
		{name: "sharing key", svc: svc(ann(AnnotationAllowSharedIP, "team-a")), want: Request{SharingKey: "team-a", Ports: tcp80, Families: []Family{IPv4}}},
		{name: "legacy sharing key", svc: svc(ann(LegacyAnnotationAllowSharedIP, "team-a")), want: Request{SharingKey: "team-a", Ports: tcp80, Families: []Family{IPv4}}},
		{name: "sharing key spaces", svc: svc(ann(AnnotationAllowSharedIP, " team-a")), wantErr: "leading or trailing whitespace"},
		{
			name: "ports sorted and defaulted",
			svc: svc(func(s *corev1.Service) {
				s.Spec.Ports = []corev1.ServicePort{{Protocol: corev1.ProtocolUDP, Port: 53}, {Port: 443}, {Protocol: corev1.ProtocolTCP, Port: 53}}
			}),
			want: Request{Ports: []Port{{"TCP", 53}, {"TCP", 443}, {"UDP", 53}}, Families: []Family{IPv4}},
		},
		{
			name: "etp local backend key",
			svc: svc(func(s *corev1.Service) {
				s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
				s.Spec.Selector = map[string]string{"app": "web", "tier": "fe"}
			}),
			want: Request{BackendKey: "app=web,tier=fe", Ports: tcp80, Families: []Family{IPv4}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.svc)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse() error = %v, want it to contain %q", err, tc.wantErr)
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("Parse() error %T is not *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("Parse() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHandled(t *testing.T) {
	class := func(c string) func(*corev1.Service) {
		return func(s *corev1.Service) { s.Spec.LoadBalancerClass = &c }
	}
	tests := []struct {
		name    string
		svc     *corev1.Service
		lbClass string
		want    bool
	}{
		{name: "no class, flag unset", svc: svc(), want: true},
		{name: "no class, flag set", svc: svc(), lbClass: "ironlb.io/lb", want: false},
		{name: "cluster ip", svc: svc(func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeClusterIP }), want: false},
		{name: "cluster ip of our class", svc: svc(class("ironlb.io/lb"), func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeClusterIP }), lbClass: "ironlb.io/lb", want: false},
		{name: "other class, flag unset", svc: svc(class("other.io/lb")), want: false},
		{name: "other class, flag set", svc: svc(class("other.io/lb")), lbClass: "ironlb.io/lb", want: false},
		{name: "our class", svc: svc(class("ironlb.io/lb")), lbClass: "ironlb.io/lb", want: true},
		{name: "class differs in case", svc: svc(class("IronLB.io/lb")), lbClass: "ironlb.io/lb", want: false},
		{name: "empty class, flag unset", svc: svc(class("")), want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Handled(tc.svc, tc.lbClass); got != tc.want {
				t.Errorf("Handled() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestIngressIPs(t *testing.T) {
	s := svc(func(s *corev1.Service) {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}, {Hostname: "lb.example"}, {IP: "::ffff:192.0.2.2"}}
	})
	got := IngressIPs(s)
	want := ips("192.0.2.1", "192.0.2.2")
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("IngressIPs() (-want +got):\n%s", diff)
	}
}
