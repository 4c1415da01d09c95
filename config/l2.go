package config

import (
	"fmt"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/api/v1beta1"
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
}

// SelectsNode reports whether a node with these labels may announce.
func (a *L2Advertisement) SelectsNode(nodeLabels labels.Set) bool {
	return matchesAny(a.NodeSelectors, nodeLabels)
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
			Name:          name,
			Pools:         b.selectPools(KindL2Advertisement, name, s.IPAddressPools, s.IPAddressPoolSelectors, pools),
			NodeSelectors: b.selectors(KindL2Advertisement, name, "spec.nodeSelectors", s.NodeSelectors),
			Interfaces:    sortedUnique(s.Interfaces),
		})
	}
	return out
}
