package ipam

import (
	"net/netip"
	"slices"
)

// Allocate gives req.Key IPs and returns them, in the order of
// req.Families, with their pool.
//
// If the key already holds IPs that still satisfy the request (a pool it
// may use, families its policy accepts, sharing still compatible), they
// are returned unchanged; Release first to force a move. Otherwise the
// key gets new IPs, and keeps its old ones if that fails.
//
// New IPs come from the first candidate pool, in request order, that can
// give the families wanted: for a dual-stack policy first both families
// from one pool, then (PreferDualStack only) the primary family alone,
// then the other one. Within a pool each family gets its lowest free
// address. With a sharing key, pools that have an IP the service may
// share are tried before the others, and such an IP (the lowest) is
// taken before a free one.
//
// When no pool can give the IPs, the error is a *PoolsFullError. Other
// errors mean the request itself is malformed.
func (a *Allocator) Allocate(req Request) ([]netip.Addr, string, error) {
	tiers, err := req.tiers()
	if err != nil {
		return nil, "", err
	}
	pools, err := a.candidates(req.Pools)
	if err != nil {
		return nil, "", err
	}
	old, held := a.holdings[req.Key]
	if held {
		if ips, ok := a.keep(old, req, tiers, pools); ok {
			a.Release(req.Key)
			a.record(req.Key, ips, old.pool, req.Sharing)
			return slices.Clone(ips), old.pool.name, nil
		}
		a.Release(req.Key)
	}
	ips, p, err := a.choose(req, tiers, pools)
	if err != nil {
		if held {
			a.record(req.Key, old.ips, old.pool, old.sharing)
		}
		return nil, "", err
	}
	a.record(req.Key, ips, p, req.Sharing)
	return slices.Clone(ips), p.name, nil
}

// keep returns h's IPs in the order of req.Families if they satisfy req.
func (a *Allocator) keep(h *holding, req Request, tiers [][]Family, pools []*pool) ([]netip.Addr, bool) {
	if !slices.Contains(pools, h.pool) {
		return nil, false
	}
	for _, ip := range h.ips {
		if a.ips[ip].conflict(ip, req.Key, req.Sharing) != nil {
			return nil, false
		}
	}
	for _, tier := range tiers {
		if len(tier) != len(h.ips) {
			continue
		}
		ips := make([]netip.Addr, 0, len(tier))
		for _, f := range tier {
			for _, ip := range h.ips {
				if familyOf(ip) == f {
					ips = append(ips, ip)
				}
			}
		}
		if len(ips) == len(tier) {
			return ips, true
		}
	}
	return nil, false
}

// choose picks IPs for req without changing anything.
func (a *Allocator) choose(req Request, tiers [][]Family, pools []*pool) ([]netip.Addr, *pool, error) {
	order := pools
	if req.Sharing.Key != "" {
		order = a.sharingFirst(req, tiers[0], pools)
	}
	for _, tier := range tiers {
		for _, p := range order {
			if ips, ok := a.offer(p, tier, req); ok {
				return ips, p, nil
			}
		}
	}
	names := make([]string, len(pools))
	for i, p := range pools {
		names[i] = p.name
	}
	return nil, nil, &PoolsFullError{Pools: names}
}

// sharingFirst moves the pools that have an IP of a wanted family which
// req may share to the front, keeping the order otherwise.
func (a *Allocator) sharingFirst(req Request, fams []Family, pools []*pool) []*pool {
	var sharing, others []*pool
	for _, p := range pools {
		found := false
		for _, f := range fams {
			if _, ok := a.sharedIP(p, f, req.Key, req.Sharing); ok {
				found = true
				break
			}
		}
		if found {
			sharing = append(sharing, p)
		} else {
			others = append(others, p)
		}
	}
	return append(sharing, others...)
}

// offer returns one IP per family of fams from pool p, or false.
func (a *Allocator) offer(p *pool, fams []Family, req Request) ([]netip.Addr, bool) {
	ips := make([]netip.Addr, 0, len(fams))
	for _, f := range fams {
		ip, ok := a.sharedIP(p, f, req.Key, req.Sharing)
		if !ok {
			ip, ok = p.fams[f.index()].lowestFree()
		}
		if !ok {
			return nil, false
		}
		ips = append(ips, ip)
	}
	return ips, true
}
