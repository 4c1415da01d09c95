package speaker

import (
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// podJoin returns the memberlist members to join: extra, and every
// speaker pod's IP of bind's family at port, "ip:port", sorted and
// without duplicates. It skips the pods on node (this speaker's own,
// including a surge replacement), the terminating ones, the finished
// ones (Succeeded, Failed) and those without an IP yet. A Pending pod
// with an IP counts: its speaker may be starting at the same moment as
// this one, and joining a member that is not there yet only fails.
func podJoin(pods []corev1.Pod, node string, bind netip.Addr, port int, extra []string) []string {
	var ips []netip.Addr
	for i := range pods {
		p := &pods[i]
		if p.Spec.NodeName == node || p.DeletionTimestamp != nil ||
			p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		ips = append(ips, podAddrs(p, bind.Is4())...)
	}
	return joinList(ips, port, extra)
}

// podAddrs returns the pod's IPs of a family: status.podIPs, or
// status.podIP when the list is empty.
func podAddrs(p *corev1.Pod, v4 bool) []netip.Addr {
	raw := make([]string, 0, len(p.Status.PodIPs)+1)
	for _, ip := range p.Status.PodIPs {
		raw = append(raw, ip.IP)
	}
	if len(raw) == 0 && p.Status.PodIP != "" {
		raw = append(raw, p.Status.PodIP)
	}
	var out []netip.Addr
	for _, s := range raw {
		if ip, err := netip.ParseAddr(s); err == nil && ip.Unmap().Is4() == v4 {
			out = append(out, ip.Unmap())
		}
	}
	return out
}

// nodeJoin returns the memberlist members to join: extra, and every
// other Node's first InternalIP of bind's family at port, sorted and
// without duplicates.
func nodeJoin(nodes []corev1.Node, node string, bind netip.Addr, port int, extra []string) []string {
	var ips []netip.Addr
	for i := range nodes {
		if nodes[i].Name == node {
			continue
		}
		if ip := internalIP(&nodes[i], bind.Is4()); ip.IsValid() {
			ips = append(ips, ip)
		}
	}
	return joinList(ips, port, extra)
}

// joinList formats ips at port as "ip:port" and merges them with extra,
// sorted and without duplicates.
func joinList(ips []netip.Addr, port int, extra []string) []string {
	join := slices.Clone(extra)
	for _, ip := range ips {
		join = append(join, netip.AddrPortFrom(ip, uint16(port)).String())
	}
	slices.Sort(join)
	return slices.Compact(join)
}
