package request

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// FuzzParse feeds arbitrary annotation values and spec.loadBalancerIP to
// Parse: it must never panic, and what it accepts must be consistent.
func FuzzParse(f *testing.F) {
	for _, seed := range [][4]string{
		{"pool-a", "192.0.2.1", "key", ""},
		{"", "192.0.2.1,2001:db8::1", "", ""},
		{"", "", "", "2001:db8::1"},
		{"", " 192.0.2.1 , ", "", ""},
		{"", "::ffff:192.0.2.1", "", ""},
		{"", "fe80::1%eth0", "", ""},
		{"UPPER", "1.2.3.4,1.2.3.5", " k", "1.2.3.4"},
		{"", ",", "", ""},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	f.Fuzz(func(t *testing.T, pool, lbIPs, share, specIP string) {
		s := svc(ann(AnnotationAddressPool, pool), ann(LegacyAnnotationLoadBalancerIPs, lbIPs), ann(AnnotationAllowSharedIP, share))
		s.Spec.LoadBalancerIP = specIP
		p := corev1.IPFamilyPolicyPreferDualStack
		s.Spec.IPFamilyPolicy = &p
		s.Spec.IPFamilies = nil
		r, err := Parse(s)
		if err != nil {
			return
		}
		if len(r.IPs) > 2 {
			t.Fatalf("accepted %d IPs", len(r.IPs))
		}
		for i, ip := range r.IPs {
			if !ip.IsValid() || ip.Zone() != "" || ip.Is4In6() {
				t.Fatalf("accepted bad IP %v", ip)
			}
			for _, other := range r.IPs[:i] {
				if familyOf(other) == familyOf(ip) {
					t.Fatalf("accepted two IPs of one family: %v", r.IPs)
				}
			}
		}
		if len(r.Families) == 0 || len(r.Families) > 2 {
			t.Fatalf("families %v", r.Families)
		}
	})
}
