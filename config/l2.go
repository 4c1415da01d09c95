package config

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/api/v1beta1"
)

// The bounds of an L2Advertisement's preferredNodeSelectors, as in its
// CRD.
const (
	minPreferenceWeight = 1
	maxPreferenceWeight = 100
	maxPreferredTerms   = 32
)

// L2Advertisement is a validated L2Advertisement.
type L2Advertisement struct {
	Name string
	// Pools are the names of the pools announced, in order.
	Pools []string
	// NodeSelectors select the nodes that may announce; none means every
	// node.
	NodeSelectors []labels.Selector
	// Interfaces, in order, limit the announcement to these interfaces;
	// none means every eligible interface.
	Interfaces []string
	// Preferred are the weighted preferences for the nodes that announce,
	// in the order of spec.preferredNodeSelectors.
	Preferred []WeightedSelector
	// ServiceSelectors select the Services of the pools announced; none
	// means every Service.
	ServiceSelectors []labels.Selector
}

// WeightedSelector is one term of an L2Advertisement's
// preferredNodeSelectors.
type WeightedSelector struct {
	// Weight is between 1 and 100.
	Weight   int
	Selector labels.Selector
}

// SelectsNode reports whether a node with these labels may announce.
func (a *L2Advertisement) SelectsNode(nodeLabels labels.Set) bool {
	return matchesAny(a.NodeSelectors, nodeLabels)
}

// SelectsService reports whether the advertisement applies to a Service
// of its pools with these labels: one of its ServiceSelectors matches
// them, or it has none.
func (a *L2Advertisement) SelectsService(serviceLabels labels.Set) bool {
	return matchesAny(a.ServiceSelectors, serviceLabels)
}

// Preference returns the preference of the advertisement for a node with
// these labels: the sum of the weights of the terms that select it, 0
// when none does. It does not look at NodeSelectors.
func (a *L2Advertisement) Preference(nodeLabels labels.Set) int {
	sum := 0
	for _, p := range a.Preferred {
		if p.Selector.Matches(nodeLabels) {
			sum += p.Weight
		}
	}
	return sum
}

// l2Advertisements builds the L2 advertisements, objs in name order.
// Pools must be known already.
func (b *builder) l2Advertisements(objs []*v1beta1.L2Advertisement, pools []Pool) []L2Advertisement {
	checkNames(b, KindL2Advertisement, objs)
	out := make([]L2Advertisement, 0, len(objs))
	for _, o := range objs {
		name, s := o.Name, &o.Spec
		for i, iface := range s.Interfaces {
			if why := ifaceNameProblem(iface); why != "" {
				b.add(KindL2Advertisement, name, fmt.Sprintf("spec.interfaces[%d]", i), "%s", why)
			}
		}
		out = append(out, L2Advertisement{
			Name:             name,
			Pools:            b.selectPools(KindL2Advertisement, name, s.IPAddressPools, s.IPAddressPoolSelectors, pools),
			NodeSelectors:    b.selectors(KindL2Advertisement, name, "spec.nodeSelectors", s.NodeSelectors),
			Interfaces:       sortedUnique(s.Interfaces),
			Preferred:        b.preferred(name, s.PreferredNodeSelectors),
			ServiceSelectors: b.selectors(KindL2Advertisement, name, "spec.serviceSelectors", s.ServiceSelectors),
		})
	}
	return out
}

// preferred builds the weighted preferences of L2Advertisement name and
// reports the terms that are out of bounds or do not parse.
func (b *builder) preferred(name string, in []v1beta1.PreferredNodeSelector) []WeightedSelector {
	const field = "spec.preferredNodeSelectors"
	if len(in) > maxPreferredTerms {
		b.add(KindL2Advertisement, name, field, "has %d terms, at most %d are allowed", len(in), maxPreferredTerms)
	}
	var out []WeightedSelector
	for i := range in {
		t := &in[i]
		ok := true
		if t.Weight < minPreferenceWeight || t.Weight > maxPreferenceWeight {
			b.add(KindL2Advertisement, name, fmt.Sprintf("%s[%d].weight", field, i),
				"must be between %d and %d, not %d", minPreferenceWeight, maxPreferenceWeight, t.Weight)
			ok = false
		}
		sel, err := labelSelector(&t.Preference)
		if err != nil {
			b.add(KindL2Advertisement, name, fmt.Sprintf("%s[%d].preference", field, i), "invalid label selector: %v", err)
			ok = false
		}
		if ok {
			out = append(out, WeightedSelector{Weight: int(t.Weight), Selector: sel})
		}
	}
	return out
}
