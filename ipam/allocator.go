package ipam

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"

	"github.com/google/btree"
)

// Allocator hands out IPs from a fixed set of pools and remembers which
// service holds which. The pools do not change for its life: on a
// configuration change, build a new Allocator and Assign the existing
// holdings again.
//
// An Allocator is not safe for concurrent use; the caller serialises
// calls.
type Allocator struct {
	pools    map[string]*pool
	spans    [2][]*span // every span per family, sorted, for lookups
	holdings map[string]*holding
	ips      map[netip.Addr]*ipUse
	groups   map[group]*btree.BTreeG[netip.Addr]
}

// holding is what one service holds.
type holding struct {
	ips     []netip.Addr
	pool    *pool
	sharing Sharing
}

// New returns an Allocator over pools. It checks that the pool names are
// unique and that the ranges are valid and do not overlap; its errors
// name the pool.
func New(pools []Pool) (*Allocator, error) {
	a := &Allocator{
		pools:    make(map[string]*pool, len(pools)),
		holdings: make(map[string]*holding),
		ips:      make(map[netip.Addr]*ipUse),
		groups:   make(map[group]*btree.BTreeG[netip.Addr]),
	}
	var named []NamedRange
	for i, cfg := range pools {
		if cfg.Name == "" {
			return nil, fmt.Errorf("pool %d has no name", i)
		}
		if _, dup := a.pools[cfg.Name]; dup {
			return nil, fmt.Errorf("pool %q: duplicate name", cfg.Name)
		}
		p := &pool{name: cfg.Name, avoidBuggy: cfg.AvoidBuggyIPs}
		for _, r := range cfg.Ranges {
			if err := r.validate(); err != nil {
				return nil, fmt.Errorf("pool %q: %w", cfg.Name, err)
			}
			named = append(named, NamedRange{Name: cfg.Name, Range: r})
			pf := &p.fams[r.Family().index()]
			pf.spans = append(pf.spans, newSpan(r, p, cfg.AvoidBuggyIPs))
		}
		a.pools[cfg.Name] = p
	}
	if x, y, ok := Overlaps(named); ok {
		if x.Name == y.Name {
			return nil, fmt.Errorf("pool %q: ranges %s and %s overlap", x.Name, x.Range, y.Range)
		}
		return nil, fmt.Errorf("pools %q and %q overlap: %s and %s", x.Name, y.Name, x.Range, y.Range)
	}
	for _, p := range a.pools {
		for f := range p.fams {
			pf := &p.fams[f]
			slices.SortFunc(pf.spans, func(x, y *span) int { return x.r.First.Compare(y.r.First) })
			pf.open = btree.NewG(btreeDegree, intLess)
			for i, s := range pf.spans {
				s.index = i
				if !s.full() {
					pf.open.ReplaceOrInsert(i)
				}
				a.spans[f] = append(a.spans[f], s)
			}
		}
	}
	for f := range a.spans {
		slices.SortFunc(a.spans[f], func(x, y *span) int { return x.r.First.Compare(y.r.First) })
	}
	return a, nil
}

// lookup returns the span that contains ip, if any.
func (a *Allocator) lookup(ip netip.Addr) (*span, bool) {
	if !ip.IsValid() || ip.Zone() != "" {
		return nil, false
	}
	spans := a.spans[familyOf(ip).index()]
	i := sort.Search(len(spans), func(i int) bool { return ip.Less(spans[i].r.First) })
	if i == 0 || !spans[i-1].r.Contains(ip) {
		return nil, false
	}
	return spans[i-1], true
}

// candidates resolves pool names, dropping repeats.
func (a *Allocator) candidates(names []string) ([]*pool, error) {
	pools := make([]*pool, 0, len(names))
	for _, n := range names {
		p, ok := a.pools[n]
		if !ok {
			return nil, fmt.Errorf("unknown pool %q", n)
		}
		if !slices.Contains(pools, p) {
			pools = append(pools, p)
		}
	}
	return pools, nil
}

// Holding returns the IPs key holds and their pool, or nothing.
func (a *Allocator) Holding(key string) ([]netip.Addr, string) {
	h, ok := a.holdings[key]
	if !ok {
		return nil, ""
	}
	return slices.Clone(h.ips), h.pool.name
}

// PoolOf returns the pool whose ranges contain ip, used or not.
func (a *Allocator) PoolOf(ip netip.Addr) (string, bool) {
	s, ok := a.lookup(ip)
	if !ok {
		return "", false
	}
	return s.pool.name, true
}

// Usage counts addresses per family of a pool.
type Usage struct {
	IPv4, IPv6 FamilyUsage
}

// FamilyUsage counts the addresses of one family of a pool.
type FamilyUsage struct {
	// Assigned is the number of addresses in use; a shared address
	// counts once.
	Assigned int64
	// Available is the number of free addresses that may be handed out;
	// it saturates at math.MaxInt64.
	Available int64
}

// Usage returns the usage of the named pool, and false if there is no
// such pool.
func (a *Allocator) Usage(name string) (Usage, bool) {
	p, ok := a.pools[name]
	if !ok {
		return Usage{}, false
	}
	var u [2]FamilyUsage
	for f := range p.fams {
		var avail u128
		for _, s := range p.fams[f].spans {
			u[f].Assigned += int64(s.used)
			if n := s.available(); avail.add(n).less(avail) {
				avail = u128{hi: ^uint64(0), lo: ^uint64(0)}
			} else {
				avail = avail.add(n)
			}
		}
		u[f].Available = avail.int64Sat()
	}
	return Usage{IPv4: u[0], IPv6: u[1]}, true
}

// Release frees what key holds. Shared IPs stay in use while another
// service uses them. Releasing a key that holds nothing does nothing.
func (a *Allocator) Release(key string) {
	h, ok := a.holdings[key]
	if !ok {
		return
	}
	delete(a.holdings, key)
	for _, ip := range h.ips {
		u := a.ips[ip]
		u.removeUser(key, h.sharing)
		if len(u.users) > 0 {
			continue
		}
		a.indexShared(ip, u, false)
		delete(a.ips, ip)
		u.span.pool.fams[familyOf(ip).index()].free(u.span, ip)
	}
}

// record makes key hold ips of pool p. The IPs must be free or shareable
// by key, and key must hold nothing.
func (a *Allocator) record(key string, ips []netip.Addr, p *pool, sh Sharing) {
	sh.Ports = slices.Clone(sh.Ports)
	a.holdings[key] = &holding{ips: ips, pool: p, sharing: sh}
	for _, ip := range ips {
		u, ok := a.ips[ip]
		if !ok {
			s, _ := a.lookup(ip)
			p.fams[familyOf(ip).index()].mark(s, ip)
			u = &ipUse{span: s, sharing: sh.Key, backend: sh.Backend, users: make([]string, 0, 1)}
			a.ips[ip] = u
			a.indexShared(ip, u, true)
		}
		u.addUser(key, sh)
	}
}
