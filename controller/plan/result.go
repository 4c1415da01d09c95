package plan

import "net/netip"

// Result is the outcome of a plan. Its JSON form is part of the plan
// command's interface: fields are only ever added.
type Result struct {
	// Services are the Services ironlb handles, in input order.
	Services []Service `json:"services"`
	// Pools are the use of every pool after the plan, by name.
	Pools []PoolUsage `json:"pools"`
}

// Service is the plan of one Service.
type Service struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// IPs are the Service's addresses in the order of its families. It
	// is never nil, so that JSON shows [] rather than null. On error it
	// holds what the Service keeps, usually nothing.
	IPs []netip.Addr `json:"ips"`
	// Pool is the pool of IPs, or empty.
	Pool string `json:"pool,omitempty"`
	// Note explains a change the user may not expect, such as an IP in
	// the Service's status that it does not keep.
	Note string `json:"note,omitempty"`
	// Error says why the Service gets no (new) IPs.
	Error string `json:"error,omitempty"`
	// BGPAdvertisements and L2Advertisements name the advertisements
	// that announce the Service's IPs, sorted: those of its pool whose
	// serviceSelectors, if any, select it (nodeSelectors aside). Both
	// are empty for a Service with IPs that nothing announces.
	BGPAdvertisements []string `json:"bgpAdvertisements,omitempty"`
	L2Advertisements  []string `json:"l2Advertisements,omitempty"`
}

// Announced reports whether an advertisement announces the Service's
// IPs.
func (s Service) Announced() bool { return len(s.BGPAdvertisements)+len(s.L2Advertisements) > 0 }

// Key returns "namespace/name".
func (s Service) Key() string { return s.Namespace + "/" + s.Name }

// PoolUsage counts the addresses of one pool after the plan. A shared
// address counts once; Available saturates at math.MaxInt64.
type PoolUsage struct {
	Name          string `json:"name"`
	AssignedIPv4  int64  `json:"assignedIPv4"`
	AssignedIPv6  int64  `json:"assignedIPv6"`
	AvailableIPv4 int64  `json:"availableIPv4"`
	AvailableIPv6 int64  `json:"availableIPv6"`
}
