package config

import (
	"cmp"
	"slices"

	"k8s.io/apimachinery/pkg/labels"
)

// Matches reports whether a service in namespace nsName, whose namespace
// has labels nsLabels and which has labels svcLabels, may take an
// address from the pool. A pool without serviceAllocation takes any
// service. Otherwise the namespace must be listed or match a namespace
// selector (unless the pool names no namespace at all), and the service
// must match a service selector (unless there is none), as in MetalLB.
func (p *Pool) Matches(nsName string, nsLabels, svcLabels labels.Set) bool {
	sa := p.ServiceAllocation
	if sa == nil {
		return true
	}
	if len(sa.Namespaces) > 0 || len(sa.NamespaceSelectors) > 0 {
		_, listed := slices.BinarySearch(sa.Namespaces, nsName)
		if !listed && (len(sa.NamespaceSelectors) == 0 || !matchesAny(sa.NamespaceSelectors, nsLabels)) {
			return false
		}
	}
	return matchesAny(sa.ServiceSelectors, svcLabels)
}

// ServiceRef is what CandidatePools needs to know of a service.
type ServiceRef struct {
	Namespace       string
	NamespaceLabels labels.Set
	Labels          labels.Set
	// Pool is the pool the service names (the metallb.io/address-pool
	// annotation), or "" for none.
	Pool string
}

// CandidatePools returns the names of the pools a service may take an
// address from, in the order to try them.
//
// A service that names a pool gets that pool alone, even with autoAssign
// false, provided the pool exists and Matches the service; otherwise it
// gets none. Any other service gets, leaving out autoAssign=false pools:
// first the pools with a serviceAllocation that Matches it, by priority
// (lower first, no priority last, ties by name); then the pools without
// serviceAllocation, by name. A pool with a serviceAllocation that the
// service does not match is never a candidate.
func (m *Model) CandidatePools(s ServiceRef) []string {
	if s.Pool != "" {
		p := m.Pool(s.Pool)
		if p == nil || !p.Matches(s.Namespace, s.NamespaceLabels, s.Labels) {
			return nil
		}
		return []string{p.Name}
	}
	if m == nil {
		return nil
	}
	var pinned, open []*Pool
	for i := range m.Pools {
		p := &m.Pools[i]
		switch {
		case !p.AutoAssign:
		case p.ServiceAllocation == nil:
			open = append(open, p)
		case p.Matches(s.Namespace, s.NamespaceLabels, s.Labels):
			pinned = append(pinned, p)
		}
	}
	slices.SortFunc(pinned, func(a, b *Pool) int {
		return cmp.Or(comparePriority(a.ServiceAllocation.Priority, b.ServiceAllocation.Priority), cmp.Compare(a.Name, b.Name))
	})
	slices.SortFunc(open, func(a, b *Pool) int { return cmp.Compare(a.Name, b.Name) })
	var out []string
	for _, p := range append(pinned, open...) {
		out = append(out, p.Name)
	}
	return out
}

// comparePriority orders serviceAllocation priorities: lower first, and
// 0 (no priority) after all others.
func comparePriority(a, b int) int {
	switch {
	case a == b:
		return 0
	case a == 0:
		return 1
	case b == 0:
		return -1
	}
	return cmp.Compare(a, b)
}
