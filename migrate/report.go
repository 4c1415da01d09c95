package migrate

// Report is what the switch from MetalLB to ironlb would do.
type Report struct {
	// Namespace is where ironlb will read its metallb.io objects.
	Namespace string `json:"namespace"`
	// MetalLB lists MetalLB's running components, controller first.
	MetalLB []Component `json:"metallb"`
	// Services lists every Service that MetalLB or ironlb serves, by
	// namespace and name.
	Services []Service `json:"services"`
	// Findings are what ironlb treats differently, most severe first.
	Findings []Finding `json:"findings"`
	// Blocking counts the Services and findings that would move an IP or
	// drop an announcement.
	Blocking int `json:"blocking"`
}

// Safe reports whether nothing would move an IP or drop an announcement.
func (r Report) Safe() bool { return r.Blocking == 0 }

// Component is one of MetalLB's workloads.
type Component struct {
	// Role is "controller" or "speaker".
	Role      string `json:"role"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Image     string `json:"image"`
	// Version is the image tag, such as "v0.16.1", or "" when the image
	// has no tag.
	Version string `json:"version,omitempty"`
	// Flags are the flags of the container that change which Services or
	// nodes MetalLB serves, as name=value.
	Flags []string `json:"flags,omitempty"`
}

// Verdict is what happens to one Service.
type Verdict string

// The verdicts. Moved, Unserved and Taken are blocking.
const (
	// Kept: ironlb keeps the IPs the Service has.
	Kept Verdict = "kept"
	// Moved: ironlb would give the Service other IPs, or none.
	Moved Verdict = "moved"
	// Pending: the Service has no IP yet; ironlb gives it NewIPs (or
	// says why not), as MetalLB would have.
	Pending Verdict = "pending"
	// Unserved: MetalLB serves the Service, ironlb would not (its
	// loadBalancerClass), so its IP would no longer be announced.
	Unserved Verdict = "unserved"
	// Taken: ironlb would serve a Service that MetalLB leaves to another
	// load balancer (its loadBalancerClass).
	Taken Verdict = "taken"
	// Unknown: the configuration is invalid for ironlb, which then
	// allocates nothing; see the findings.
	Unknown Verdict = "unknown"
)

// Blocking reports whether the verdict moves an IP or drops an
// announcement.
func (v Verdict) Blocking() bool {
	return v == Moved || v == Unserved || v == Taken || v == Unknown
}

// Service is one Service and what ironlb does with it.
type Service struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// IPs are the IPs of its status now, as listed there.
	IPs []string `json:"ips,omitempty"`
	// Pool is the pool MetalLB's annotation names, if any.
	Pool    string  `json:"pool,omitempty"`
	Verdict Verdict `json:"verdict"`
	// NewIPs and NewPool are what ironlb would give, when they differ
	// from IPs and Pool.
	NewIPs  []string `json:"newIPs,omitempty"`
	NewPool string   `json:"newPool,omitempty"`
	// Reason says why the Service moves, is not served or gets nothing.
	Reason string `json:"reason,omitempty"`
}

// Severity ranks a finding.
type Severity string

// The severities, most severe first.
const (
	// Blocking: an IP would move or an announcement would be dropped.
	Blocking Severity = "blocking"
	// Warning: works, but differently, or needs a step of the runbook.
	Warning Severity = "warning"
	// Info: no effect on traffic; worth knowing.
	Info Severity = "info"
)

func (s Severity) rank() int {
	switch s {
	case Blocking:
		return 0
	case Warning:
		return 1
	}
	return 2
}

// Finding is something ironlb treats differently from MetalLB.
type Finding struct {
	Severity Severity `json:"severity"`
	// Object names the object, as `Kind namespace/name`.
	Object string `json:"object"`
	// Field is the field, annotation or flag at issue, if any.
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}
