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
		svc  *corev1.Service
		want []netip.Addr
	}{{
		name: "none",
		svc:  lbService(corev1.ServiceTypeLoadBalancer),
	}, {
		name: "sorted, distinct, both families",
		svc:  lbService(corev1.ServiceTypeLoadBalancer, "2001:db8:0:100::1", "203.0.113.7", "203.0.113.7"),
		want: addrs("203.0.113.7", "2001:db8:0:100::1"),
	}, {
		name: "not a LoadBalancer",
		svc:  lbService(corev1.ServiceTypeClusterIP, "192.0.2.201"),
	}, {
		name: "hostnames and junk skipped, mapped IPv4 unmapped",
		svc:  lbService(corev1.ServiceTypeLoadBalancer, "", "not-an-ip", "::ffff:192.0.2.202"),
		want: addrs("192.0.2.202"),
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, serviceAddrs(tc.svc), cmpAddr); diff != "" {
				t.Errorf("serviceAddrs() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// TestAddrIndex runs steps on one index: each sets a Service's
// addresses (or marks addresses), then takes the pending changes.
func TestAddrIndex(t *testing.T) {
	type step struct {
		key              string
		addrs            []netip.Addr
		mark             []netip.Addr
		wantAdd, wantDel []netip.Addr
	}
	steps := []step{
		{key: "lab/a", addrs: addrs("192.0.2.1", "2001:db8::1"), wantAdd: addrs("192.0.2.1", "2001:db8::1")},
		// A shared IP: already there.
		{key: "lab/b", addrs: addrs("192.0.2.1")},
		// One of two holders goes: the address stays.
		{key: "lab/a", addrs: addrs("2001:db8::1")},
		// The last holder goes: it is removed.
		{key: "lab/b", wantDel: addrs("192.0.2.1")},
		// Unchanged: nothing to do.
		{key: "lab/a", addrs: addrs("2001:db8::1")},
		// Stale addresses of the table (and a failed change) are looked at
		// again: held ones added, others removed.
		{mark: addrs("192.0.2.99", "2001:db8::1"), wantAdd: addrs("2001:db8::1"), wantDel: addrs("192.0.2.99")},
		// Deleted.
		{key: "lab/a", wantDel: addrs("2001:db8::1")},
		// A Service that was never seen, deleted: nothing.
		{key: "lab/never"},
	}
	x := newAddrIndex()
	for i, s := range steps {
		if s.key != "" {
			x.set(s.key, s.addrs)
		}
		x.mark(s.mark...)
		add, del := x.take()
		if d := cmp.Diff(s.wantAdd, add, cmpAddr); d != "" {
			t.Errorf("step %d: add (-want +got):\n%s", i, d)
		}
		if d := cmp.Diff(s.wantDel, del, cmpAddr); d != "" {
			t.Errorf("step %d: del (-want +got):\n%s", i, d)
		}
	}
	if len(x.bySvc) != 0 || len(x.refs) != 0 {
		t.Errorf("index not empty at the end: %v, %v", x.bySvc, x.refs)
	}
}
