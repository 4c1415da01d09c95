package ipam

import (
	"errors"
	"fmt"
	"net/netip"
)

// Family is an IP family.
type Family uint8

// The IP families. The zero Family is invalid.
const (
	IPv4 Family = iota + 1
	IPv6
)

func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return fmt.Sprintf("Family(%d)", uint8(f))
}

func (f Family) valid() bool { return f == IPv4 || f == IPv6 }

// index numbers the families from 0 for per-family arrays.
func (f Family) index() int { return int(f) - 1 }

// familyOf returns the family of a valid address.
func familyOf(a netip.Addr) Family {
	if a.Is4() {
		return IPv4
	}
	return IPv6
}

// Policy is how many families a service wants, after Kubernetes'
// ipFamilyPolicy. The zero Policy is SingleStack.
type Policy uint8

const (
	// SingleStack wants one IP, of the first family of the request.
	SingleStack Policy = iota
	// PreferDualStack wants one IP per family from one pool, and settles
	// for one IP when no candidate pool can give both.
	PreferDualStack
	// RequireDualStack wants one IP per family from one pool, or nothing.
	RequireDualStack
)

func (p Policy) String() string {
	switch p {
	case SingleStack:
		return "SingleStack"
	case PreferDualStack:
		return "PreferDualStack"
	case RequireDualStack:
		return "RequireDualStack"
	}
	return fmt.Sprintf("Policy(%d)", uint8(p))
}

// Request asks for IPs for one service.
type Request struct {
	// Key names the service, "namespace/name".
	Key string
	// Pools are the pools the service may use, most preferred first.
	Pools []string
	// Families are the families the service wants, in the order of its
	// ipFamilies: the first is the primary family. With a dual-stack
	// policy and a single family listed, the request is single-stack.
	Families []Family
	// Policy says whether one or both families are wanted.
	Policy Policy
	// Sharing says with which services the IPs may be shared.
	Sharing Sharing
}

// tiers returns the family sets to try, best first; each set is tried
// against every candidate pool before the next set.
func (r Request) tiers() ([][]Family, error) {
	if r.Key == "" {
		return nil, errors.New("request has no key")
	}
	switch {
	case len(r.Families) == 0:
		return nil, errors.New("request has no IP family")
	case len(r.Families) > 2:
		return nil, fmt.Errorf("request has %d IP families, want at most 2", len(r.Families))
	}
	for _, f := range r.Families {
		if !f.valid() {
			return nil, fmt.Errorf("request has invalid IP family %s", f)
		}
	}
	if len(r.Families) == 2 && r.Families[0] == r.Families[1] {
		return nil, fmt.Errorf("request lists IP family %s twice", r.Families[0])
	}
	if r.Policy > RequireDualStack {
		return nil, fmt.Errorf("request has invalid policy %s", r.Policy)
	}
	primary := r.Families[:1]
	switch {
	case len(r.Families) == 1 || r.Policy == SingleStack:
		return [][]Family{primary}, nil
	case r.Policy == PreferDualStack:
		return [][]Family{r.Families, primary, r.Families[1:]}, nil
	}
	return [][]Family{r.Families}, nil
}
