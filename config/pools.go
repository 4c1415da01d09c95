package config

import (
	"cmp"
	"fmt"
	"maps"
	"math/big"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/ipam"
)

// Pool is a validated IPAddressPool.
type Pool struct {
	Name string
	// Labels are the pool's labels, which ipAddressPoolSelectors match.
	Labels labels.Set
	// Ranges are the pool's addresses in address order, IPv4 first.
	Ranges []ipam.Range
	// AutoAssign is false for a pool that only serves services naming it
	// or asking for one of its addresses. It defaults to true.
	AutoAssign    bool
	AvoidBuggyIPs bool
	// ServiceAllocation limits the pool to some services and ranks it
	// among the pools they may use; nil lets any service use the pool.
	ServiceAllocation *ServiceAllocation
}

// ServiceAllocation restricts a pool to the services that match it.
type ServiceAllocation struct {
	// Priority ranks the pools a service matches: a lower number is
	// tried first, and 0 means no priority, tried after every pool that
	// has one (as in MetalLB).
	Priority int
	// Namespaces, in order, and NamespaceSelectors say which namespaces'
	// services may use the pool: a service qualifies if its namespace is
	// listed or matches a selector. With neither, every namespace does.
	Namespaces         []string
	NamespaceSelectors []labels.Selector
	// ServiceSelectors select the services that may use the pool by
	// their labels; with none, every service in a qualifying namespace
	// may.
	ServiceSelectors []labels.Selector
}

// poolInfo is what Build keeps about a pool beyond its model: where
// each range came from, for errors and aggregation checks.
type poolInfo struct {
	pool  *Pool
	spans []poolSpan
}

// poolSpan is one valid entry of spec.addresses.
type poolSpan struct {
	index  int    // position in spec.addresses
	text   string // as written
	r      ipam.Range
	widest int // shortest prefix length among the CIDRs that exactly cover r
}

func (s poolSpan) field() string { return fmt.Sprintf("spec.addresses[%d]", s.index) }

// pools builds the pools, objs in name order, and reports overlaps.
func (b *builder) pools(objs []*v1beta1.IPAddressPool) []Pool {
	checkNames(b, KindIPAddressPool, objs)
	out := make([]Pool, 0, len(objs))
	infos := make([]*poolInfo, 0, len(objs))
	for _, o := range objs {
		info := b.pool(o)
		out = append(out, *info.pool)
		infos = append(infos, info)
	}
	for i, info := range infos {
		info.pool = &out[i]
		b.poolRef.add(info.pool.Name, info)
	}
	b.overlaps(infos)
	return out
}

// pool validates one IPAddressPool.
func (b *builder) pool(o *v1beta1.IPAddressPool) *poolInfo {
	name := o.Name
	p := &Pool{
		Name:          name,
		Labels:        labels.Set(maps.Clone(o.Labels)),
		AutoAssign:    true,
		AvoidBuggyIPs: o.Spec.AvoidBuggyIPs,
	}
	if o.Spec.AutoAssign != nil {
		p.AutoAssign = *o.Spec.AutoAssign
	}
	info := &poolInfo{pool: p}
	if len(o.Spec.Addresses) == 0 {
		b.add(KindIPAddressPool, name, "spec.addresses", "must list at least one CIDR or range")
	}
	for i, text := range o.Spec.Addresses {
		r, err := ipam.ParseRange(text)
		if err != nil {
			b.add(KindIPAddressPool, name, fmt.Sprintf("spec.addresses[%d]", i), "%q is not a valid CIDR or range: %v", text, err)
			continue
		}
		info.spans = append(info.spans, poolSpan{index: i, text: text, r: r, widest: widestPrefix(r)})
		p.Ranges = append(p.Ranges, r)
	}
	slices.SortFunc(p.Ranges, compareRanges)
	p.ServiceAllocation = b.serviceAllocation(name, o.Spec.ServiceAllocation)
	return info
}

// serviceAllocation validates spec.serviceAllocation of a pool.
func (b *builder) serviceAllocation(pool string, in *v1beta1.ServiceAllocation) *ServiceAllocation {
	if in == nil {
		return nil
	}
	const field = "spec.serviceAllocation"
	sa := &ServiceAllocation{Priority: in.Priority}
	if in.Priority < 0 {
		b.add(KindIPAddressPool, pool, field+".priority", "%d is negative; use 0 for no priority", in.Priority)
	}
	b.checkList(KindIPAddressPool, pool, field+".namespaces", in.Namespaces)
	sa.Namespaces = sortedUnique(in.Namespaces)
	sa.NamespaceSelectors = b.selectors(KindIPAddressPool, pool, field+".namespaceSelectors", in.NamespaceSelectors)
	sa.ServiceSelectors = b.selectors(KindIPAddressPool, pool, field+".serviceSelectors", in.ServiceSelectors)
	return sa
}

// overlaps reports every range that shares an address with a range
// that starts before it (or at the same address), in its own pool or
// another. Pools whose name is not unique are left out: that is an
// error already, and a copy would overlap itself.
func (b *builder) overlaps(infos []*poolInfo) {
	type located struct {
		pool string
		span poolSpan
	}
	var all []located
	for _, info := range infos {
		if _, ok := b.poolRef.byName[info.pool.Name]; !ok {
			continue
		}
		for _, s := range info.spans {
			all = append(all, located{pool: info.pool.Name, span: s})
		}
	}
	slices.SortFunc(all, func(x, y located) int {
		return cmp.Or(compareRanges(x.span.r, y.span.r), cmp.Compare(x.pool, y.pool), cmp.Compare(x.span.index, y.span.index))
	})
	// reach is the range seen so far that ends last; a range that starts
	// at or before its end overlaps it. IPv6 addresses sort after IPv4
	// ones, so families never mix.
	var reach *located
	for i := range all {
		cur := &all[i]
		if reach != nil && cur.span.r.First.Compare(reach.span.r.Last) <= 0 {
			where := fmt.Sprintf("%s of IPAddressPool %q", reach.span.field(), reach.pool)
			if reach.pool == cur.pool {
				where = reach.span.field() + " of the same pool"
			}
			b.add(KindIPAddressPool, cur.pool, cur.span.field(), "%q overlaps %q (%s)", cur.span.text, reach.span.text, where)
		}
		if reach == nil || reach.span.r.Last.Less(cur.span.r.Last) {
			reach = cur
		}
	}
}

// compareRanges orders ranges by first, then last address.
func compareRanges(x, y ipam.Range) int {
	return cmp.Or(x.First.Compare(y.First), x.Last.Compare(y.Last))
}

// widestPrefix returns the shortest prefix length among the CIDRs that
// exactly cover r, that is the prefix of the largest aligned block
// inside it: 24 for 192.0.2.0/24, 30 for 192.0.2.10-192.0.2.20
// (.10/31, .12/30, .16/30, .20/32). It walks the blocks greedily, at
// most twice the address length of them.
func widestPrefix(r ipam.Range) int {
	bits := r.First.BitLen()
	next := new(big.Int).SetBytes(r.First.AsSlice())
	last := new(big.Int).SetBytes(r.Last.AsSlice())
	one := big.NewInt(1)
	left := new(big.Int)
	widest := bits
	for next.Cmp(last) <= 0 {
		left.Sub(last, next).Add(left, one)
		k := left.BitLen() - 1 // the largest block that fits
		if next.Sign() != 0 {
			k = min(k, int(next.TrailingZeroBits())) // and is aligned
		}
		widest = min(widest, bits-k)
		next.Add(next, new(big.Int).Lsh(one, uint(k)))
	}
	return widest
}

// selectPools resolves the ipAddressPools and ipAddressPoolSelectors of
// an advertisement to pool names, in order. With neither, it selects
// every pool. A name that no pool has is an error; selectors that match
// nothing are not.
func (b *builder) selectPools(kind, adv string, names []string, sels []metav1.LabelSelector, pools []Pool) []string {
	var out []string
	if len(names) == 0 && len(sels) == 0 {
		for _, p := range pools {
			out = append(out, p.Name)
		}
		return sortedUnique(out)
	}
	b.checkList(kind, adv, "spec.ipAddressPools", names)
	for i, name := range names {
		if name == "" {
			continue
		}
		if _, ok := b.poolRef.get(name); !ok {
			b.add(kind, adv, fmt.Sprintf("spec.ipAddressPools[%d]", i), "no IPAddressPool is named %q", name)
			continue
		}
		out = append(out, name)
	}
	selectors := b.selectors(kind, adv, "spec.ipAddressPoolSelectors", sels)
	for _, p := range pools {
		for _, s := range selectors {
			if s.Matches(p.Labels) {
				out = append(out, p.Name)
				break
			}
		}
	}
	return sortedUnique(out)
}
