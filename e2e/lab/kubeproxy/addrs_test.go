package kubeproxy

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func lbService(typ corev1.ServiceType, ips ...string) *corev1.Service {
	s := &corev1.Service{Spec: corev1.ServiceSpec{Type: typ}}
	for _, ip := range ips {
		s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip})
	}
	return s
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestServiceAddrs(t *testing.T) {
	tests := []struct {
		name string
		svcs []*corev1.Service
		want []netip.Addr
	}{{
		name: "none",
	}, {
		name: "sorted, distinct, both families",
		svcs: []*corev1.Service{
			lbService(corev1.ServiceTypeLoadBalancer, "2001:db8:0:100::1", "203.0.113.7"),
			lbService(corev1.ServiceTypeLoadBalancer, "192.0.2.200"),
			lbService(corev1.ServiceTypeLoadBalancer, "203.0.113.7"), // shared IP
		},
		want: addrs("192.0.2.200", "203.0.113.7", "2001:db8:0:100::1"),
	}, {
		name: "only LoadBalancer Services; hostnames and junk skipped",
		svcs: []*corev1.Service{
			lbService(corev1.ServiceTypeClusterIP, "192.0.2.201"),
			lbService(corev1.ServiceTypeLoadBalancer, "", "not-an-ip", "::ffff:192.0.2.202"),
		},
		want: addrs("192.0.2.202"),
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ServiceAddrs(tc.svcs)
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("ServiceAddrs() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name             string
		have, want       []netip.Addr
		wantAdd, wantDel []netip.Addr
	}{{
		name: "equal",
		have: addrs("192.0.2.1"), want: addrs("192.0.2.1"),
	}, {
		name:    "add and remove",
		have:    addrs("2001:db8::2", "192.0.2.9", "192.0.2.1"),
		want:    addrs("192.0.2.1", "192.0.2.3", "2001:db8::1"),
		wantAdd: addrs("192.0.2.3", "2001:db8::1"),
		wantDel: addrs("192.0.2.9", "2001:db8::2"),
	}}
	cmpAddr := cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			add, del := diff(tc.have, tc.want)
			if d := cmp.Diff(tc.wantAdd, add, cmpAddr); d != "" {
				t.Errorf("add mismatch (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantDel, del, cmpAddr); d != "" {
				t.Errorf("del mismatch (-want +got):\n%s", d)
			}
		})
	}
}
