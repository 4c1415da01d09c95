package request

// The Service annotations ironlb reads and writes. The metallb.io forms are
// current; the metallb.universe.tf forms are the legacy spellings of the same.
const (
	AnnotationAddressPool     = "metallb.io/address-pool"
	AnnotationLoadBalancerIPs = "metallb.io/loadBalancerIPs"
	AnnotationAllowSharedIP   = "metallb.io/allow-shared-ip"

	LegacyAnnotationAddressPool     = "metallb.universe.tf/address-pool"
	LegacyAnnotationLoadBalancerIPs = "metallb.universe.tf/loadBalancerIPs"
	LegacyAnnotationAllowSharedIP   = "metallb.universe.tf/allow-shared-ip"

	// AnnotationAllocatedFromPool is written by the controller: the pool the
	// Service's IPs came from.
	AnnotationAllocatedFromPool = "metallb.io/ip-allocated-from-pool"
)

// annotation reads an annotation in its current or legacy spelling. When
// both are set they must agree.
func annotation(ann map[string]string, current, legacy string) (value, key string, err error) {
	v, okCur := ann[current]
	l, okLeg := ann[legacy]
	switch {
	case okCur && okLeg && v != l:
		return "", current, &Error{Field: "annotations[" + current + "]", Reason: "conflicts with " + legacy + " (" + quote(l) + "); set only one"}
	case okCur:
		return v, current, nil
	case okLeg:
		return l, legacy, nil
	}
	return "", current, nil
}
