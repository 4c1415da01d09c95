package ipam

import (
	"fmt"
	"net/netip"
	"slices"
)

// Assign makes key hold exactly ips, one or two addresses of different
// families from one pool: the IPs a service already had before a restart,
// or the ones it asks for. Each IP must be in a pool, in one of
// allowedPools unless that is nil, not a buggy address of a pool that
// avoids them, and free or shareable with its current users under
// sharing.
//
// On success Assign replaces what key held. On failure it changes
// nothing and returns an *AssignError that says why.
func (a *Allocator) Assign(key string, ips []netip.Addr, sharing Sharing, allowedPools []string) error {
	p, err := a.check(key, ips, sharing, allowedPools)
	if err != nil {
		return err
	}
	a.Release(key)
	a.record(key, slices.Clone(ips), p, sharing)
	return nil
}

// check returns the pool of ips if key may hold them.
func (a *Allocator) check(key string, ips []netip.Addr, sh Sharing, allowed []string) (*pool, error) {
	invalid := func(ip netip.Addr, format string, args ...any) error {
		return &AssignError{IP: ip, Reason: ReasonInvalid, Detail: fmt.Sprintf(format, args...)}
	}
	switch {
	case key == "":
		return nil, invalid(netip.Addr{}, "empty service key")
	case len(ips) == 0:
		return nil, invalid(netip.Addr{}, "no IPs")
	case len(ips) > 2:
		return nil, invalid(netip.Addr{}, "%d IPs, want at most 2", len(ips))
	}
	var p *pool
	for i, ip := range ips {
		switch {
		case !ip.IsValid():
			return nil, invalid(ip, "missing IP")
		case ip.Zone() != "":
			return nil, invalid(ip, "%s has a zone", ip)
		case ip.Is4In6():
			return nil, invalid(ip, "%s is an IPv4-mapped IPv6 address", ip)
		case i == 1 && familyOf(ip) == familyOf(ips[0]):
			return nil, invalid(ip, "two %s addresses, %s and %s", familyOf(ip), ips[0], ip)
		}
		s, ok := a.lookup(ip)
		if !ok {
			return nil, &AssignError{IP: ip, Reason: ReasonNotInAnyPool}
		}
		name := s.pool.name
		if allowed != nil && !slices.Contains(allowed, name) {
			return nil, &AssignError{IP: ip, Reason: ReasonPoolNotAllowed, Pool: name}
		}
		if !s.usable(ip) {
			return nil, &AssignError{IP: ip, Reason: ReasonBuggyIP, Pool: name}
		}
		if p != nil && p != s.pool {
			return nil, &AssignError{IP: ip, Reason: ReasonInvalid, Pool: name,
				Detail: fmt.Sprintf("%s and %s are in different pools %q and %q", ips[0], ip, p.name, name)}
		}
		p = s.pool
		if u, used := a.ips[ip]; used {
			if e := u.conflict(ip, key, sh); e != nil {
				return nil, e
			}
		}
	}
	return p, nil
}
