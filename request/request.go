package request

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Family is an IP family.
type Family int

// The families, in the order Kubernetes spells them.
const (
	IPv4 Family = 4
	IPv6 Family = 6
)

func (f Family) String() string {
	if f == IPv6 {
		return "IPv6"
	}
	return "IPv4"
}

// Policy says how many families a Service wants.
type Policy int

// The policies of spec.ipFamilyPolicy.
const (
	SingleStack Policy = iota
	PreferDualStack
	RequireDualStack
)

// Port is a (protocol, port) pair of a Service.
type Port struct {
	Protocol string
	Port     int32
}

// Request is what one Service asks of the allocator.
type Request struct {
	// Pool is the pool named by the address-pool annotation, or empty.
	Pool string
	// IPs are the requested addresses (loadBalancerIPs annotation or
	// spec.loadBalancerIP), at most one per family.
	IPs []netip.Addr
	// SharingKey is the allow-shared-ip value, or empty.
	SharingKey string
	// BackendKey must be equal for Services sharing an IP: empty for
	// externalTrafficPolicy Cluster, the selector for Local.
	BackendKey string
	// Ports are the Service's (protocol, port) pairs, sorted.
	Ports []Port
	// Families in spec.ipFamilies order (IPv4 when unset).
	Families []Family
	// Policy from spec.ipFamilyPolicy.
	Policy Policy
}

// Handled reports whether ironlb allocates for the Service: type
// LoadBalancer, and a loadBalancerClass equal to lbClass (--lb-class).
// As in MetalLB, an empty lbClass serves only the Services without a
// class, and a set one only the Services of exactly that class: a
// Service without a class then belongs to the cluster's other load
// balancer.
func Handled(svc *corev1.Service, lbClass string) bool {
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return false
	}
	if svc.Spec.LoadBalancerClass == nil {
		return lbClass == ""
	}
	return *svc.Spec.LoadBalancerClass == lbClass
}

// Parse reads the Request of a Service. Errors name the annotation or
// field at fault.
func Parse(svc *corev1.Service) (Request, error) {
	var r Request
	ann := svc.Annotations

	pool, key, err := annotation(ann, AnnotationAddressPool, LegacyAnnotationAddressPool)
	if err != nil {
		return Request{}, err
	}
	if pool != "" {
		if msgs := validation.IsDNS1123Subdomain(pool); len(msgs) > 0 {
			return Request{}, &Error{Field: "annotations[" + key + "]", Reason: quote(pool) + " is not a valid pool name: " + strings.Join(msgs, "; ")}
		}
	}
	r.Pool = pool

	share, key, err := annotation(ann, AnnotationAllowSharedIP, LegacyAnnotationAllowSharedIP)
	if err != nil {
		return Request{}, err
	}
	if share != "" && strings.TrimSpace(share) != share {
		return Request{}, &Error{Field: "annotations[" + key + "]", Reason: "sharing key " + quote(share) + " has leading or trailing whitespace"}
	}
	r.SharingKey = share

	if r.IPs, err = requestedIPs(svc); err != nil {
		return Request{}, err
	}

	r.Families, r.Policy, err = families(svc, r.IPs)
	if err != nil {
		return Request{}, err
	}
	for _, ip := range r.IPs {
		if !slices.Contains(r.Families, familyOf(ip)) {
			return Request{}, &Error{Field: "spec.ipFamilies", Reason: fmt.Sprintf("requested IP %s is %s but the service's families are %v", ip, familyOf(ip), r.Families)}
		}
	}

	for _, p := range svc.Spec.Ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = string(corev1.ProtocolTCP)
		}
		r.Ports = append(r.Ports, Port{Protocol: proto, Port: p.Port})
	}
	slices.SortFunc(r.Ports, func(a, b Port) int {
		if c := strings.Compare(a.Protocol, b.Protocol); c != 0 {
			return c
		}
		return int(a.Port - b.Port)
	})

	if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
		// Services of ETP=Local share an IP only when they reach the same
		// pods, since each node announces for its local endpoints.
		r.BackendKey = labels.Set(svc.Spec.Selector).String()
	}
	return r, nil
}

// requestedIPs reads the loadBalancerIPs annotation, or spec.loadBalancerIP
// when the annotation is absent.
func requestedIPs(svc *corev1.Service) ([]netip.Addr, error) {
	list, key, err := annotation(svc.Annotations, AnnotationLoadBalancerIPs, LegacyAnnotationLoadBalancerIPs)
	if err != nil {
		return nil, err
	}
	field := "annotations[" + key + "]"
	if list == "" {
		if svc.Spec.LoadBalancerIP == "" {
			return nil, nil
		}
		list, field = svc.Spec.LoadBalancerIP, "spec.loadBalancerIP"
	} else if svc.Spec.LoadBalancerIP != "" {
		return nil, &Error{Field: field, Reason: "spec.loadBalancerIP is set too; set only one"}
	}
	var ips []netip.Addr
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		ip, err := netip.ParseAddr(s)
		if err != nil || ip.Zone() != "" {
			return nil, &Error{Field: field, Reason: quote(s) + " is not an IP address"}
		}
		ip = ip.Unmap()
		for _, prev := range ips {
			if familyOf(prev) == familyOf(ip) {
				return nil, &Error{Field: field, Reason: fmt.Sprintf("more than one %s address (%s, %s)", familyOf(ip), prev, ip)}
			}
		}
		ips = append(ips, ip)
	}
	return ips, nil
}

// families reads spec.ipFamilies and spec.ipFamilyPolicy. The API server
// fills ipFamilies in; when it is empty (a manifest read offline), the
// requested IPs decide, then the policy: dual-stack policies get IPv4 and
// IPv6, single stack IPv4.
func families(svc *corev1.Service, requested []netip.Addr) ([]Family, Policy, error) {
	var fams []Family
	for _, f := range svc.Spec.IPFamilies {
		switch f {
		case corev1.IPv4Protocol:
			fams = append(fams, IPv4)
		case corev1.IPv6Protocol:
			fams = append(fams, IPv6)
		default:
			return nil, 0, &Error{Field: "spec.ipFamilies", Reason: "unknown family " + quote(string(f))}
		}
	}
	policy := SingleStack
	if p := svc.Spec.IPFamilyPolicy; p != nil {
		switch *p {
		case corev1.IPFamilyPolicySingleStack:
		case corev1.IPFamilyPolicyPreferDualStack:
			policy = PreferDualStack
		case corev1.IPFamilyPolicyRequireDualStack:
			policy = RequireDualStack
		default:
			return nil, 0, &Error{Field: "spec.ipFamilyPolicy", Reason: "unknown policy " + quote(string(*p))}
		}
	}
	if len(fams) == 0 {
		for _, ip := range requested {
			fams = append(fams, familyOf(ip))
		}
		switch {
		case len(fams) == 2 && policy == SingleStack:
			policy = RequireDualStack
		case len(fams) == 0 && policy != SingleStack:
			fams = []Family{IPv4, IPv6}
		case len(fams) == 1 && policy != SingleStack:
			fams = append(fams, otherFamily(fams[0]))
		case len(fams) == 0:
			fams = []Family{IPv4}
		}
	}
	if policy == SingleStack && len(fams) > 1 {
		return nil, 0, &Error{Field: "spec.ipFamilies", Reason: "two families with ipFamilyPolicy SingleStack"}
	}
	return fams, policy, nil
}

func otherFamily(f Family) Family {
	if f == IPv4 {
		return IPv6
	}
	return IPv4
}

func familyOf(ip netip.Addr) Family {
	if ip.Is4() {
		return IPv4
	}
	return IPv6
}

// IngressIPs returns the IPs in the Service's status, skipping entries that
// are not addresses.
func IngressIPs(svc *corev1.Service) []netip.Addr {
	var ips []netip.Addr
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if ip, err := netip.ParseAddr(in.IP); err == nil {
			ips = append(ips, ip.Unmap())
		}
	}
	return ips
}
