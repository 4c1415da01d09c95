package kubeproxy

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// ServiceAddrs returns the sorted, distinct ingress IPs of the
// LoadBalancer Services among svcs: the addresses kube-proxy binds.
func ServiceAddrs(svcs []*corev1.Service) []netip.Addr {
	var out []netip.Addr
	for _, s := range svcs {
		if s.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		for _, in := range s.Status.LoadBalancer.Ingress {
			if a, err := netip.ParseAddr(in.IP); err == nil {
				out = append(out, a.Unmap())
			}
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}

// diff returns the addresses of want missing from have, and those of
// have not in want, both sorted. It is linear: the lab holds 10,000
// Service IPs in the benchmarks.
func diff(have, want []netip.Addr) (add, del []netip.Addr) {
	in := func(list []netip.Addr) map[netip.Addr]bool {
		m := make(map[netip.Addr]bool, len(list))
		for _, a := range list {
			m[a] = true
		}
		return m
	}
	haveSet, wantSet := in(have), in(want)
	for a := range wantSet {
		if !haveSet[a] {
			add = append(add, a)
		}
	}
	for a := range haveSet {
		if !wantSet[a] {
			del = append(del, a)
		}
	}
	slices.SortFunc(add, netip.Addr.Compare)
	slices.SortFunc(del, netip.Addr.Compare)
	return add, del
}
