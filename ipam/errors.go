package ipam

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// PoolsFullError says that none of the candidate pools could give the
// IPs a request wants.
type PoolsFullError struct {
	// Pools are the candidate pools, in the order of the request.
	Pools []string
}

func (e *PoolsFullError) Error() string {
	switch len(e.Pools) {
	case 0:
		return "no available IPs: no pools to allocate from"
	case 1:
		return "no available IPs in pool " + strconv.Quote(e.Pools[0])
	}
	quoted := make([]string, len(e.Pools))
	for i, p := range e.Pools {
		quoted[i] = strconv.Quote(p)
	}
	return "no available IPs in pools " + strings.Join(quoted, ", ")
}

// Reason is why Assign refused an IP.
type Reason uint8

// The reasons of an AssignError. The in-use reasons say why the IP's
// current users and the service cannot share it.
const (
	// ReasonInvalid: the addresses asked for make no sense together
	// (none, duplicates, two of a family, different pools, zones).
	ReasonInvalid Reason = iota + 1
	// ReasonNotInAnyPool: no pool contains the IP.
	ReasonNotInAnyPool
	// ReasonPoolNotAllowed: the IP's pool is not one the service may use.
	ReasonPoolNotAllowed
	// ReasonBuggyIP: the IP ends in .0 or .255 and its pool avoids those.
	ReasonBuggyIP
	// ReasonNotShareable: the IP is in use and the service or its
	// current users have no sharing key.
	ReasonNotShareable
	// ReasonSharingKeyMismatch: the IP's users have another sharing key.
	ReasonSharingKeyMismatch
	// ReasonBackendMismatch: the IP's users select other backends.
	ReasonBackendMismatch
	// ReasonPortsOverlap: a user of the IP already has one of the ports.
	ReasonPortsOverlap
)

// AssignError says why Assign refused a set of IPs.
type AssignError struct {
	// IP is the refused address; it is the zero Addr for some
	// ReasonInvalid errors.
	IP     netip.Addr
	Reason Reason
	// Pool is the pool that contains IP, if any.
	Pool string
	// Holder is a current user of IP for the in-use reasons: the one
	// that uses an overlapping port for ReasonPortsOverlap.
	Holder string
	// Ports are the overlapping ports for ReasonPortsOverlap.
	Ports []Port
	// Detail explains a ReasonInvalid error.
	Detail string
}

// InUse reports whether the IP was refused because of its current users.
func (e *AssignError) InUse() bool {
	return e.Reason >= ReasonNotShareable && e.Reason <= ReasonPortsOverlap
}

func (e *AssignError) Error() string {
	switch e.Reason {
	case ReasonInvalid:
		return "invalid IPs: " + e.Detail
	case ReasonNotInAnyPool:
		return fmt.Sprintf("%s is not in any pool", e.IP)
	case ReasonPoolNotAllowed:
		return fmt.Sprintf("%s is in pool %q, which this service may not use", e.IP, e.Pool)
	case ReasonBuggyIP:
		return fmt.Sprintf("%s is in pool %q, which avoids IPs ending in .0 or .255", e.IP, e.Pool)
	}
	why := "not shareable"
	switch e.Reason {
	case ReasonSharingKeyMismatch:
		why = "different sharing key"
	case ReasonBackendMismatch:
		why = "different backend"
	case ReasonPortsOverlap:
		ports := make([]string, len(e.Ports))
		for i, p := range e.Ports {
			ports[i] = p.String()
		}
		why = "ports overlap: " + strings.Join(ports, ", ")
	}
	return fmt.Sprintf("%s is already in use by %s (%s)", e.IP, e.Holder, why)
}
