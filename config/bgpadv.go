package config

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/api/v1beta1"
)

// The aggregation lengths of a BGPAdvertisement that sets none: one
// route per address.
const (
	DefaultAggregationLength   = 32
	DefaultAggregationLengthV6 = 128
)

// BGPAdvertisement is a validated BGPAdvertisement.
type BGPAdvertisement struct {
	Name string
	// AggregationLength and AggregationLengthV6 are the prefix lengths
	// of the IPv4 and IPv6 routes announced.
	AggregationLength   int
	AggregationLengthV6 int
	// LocalPref is the LOCAL_PREF of the routes, for iBGP peers; 0 for
	// none.
	LocalPref uint32
	// Communities are the resolved community values, in order (standard
	// before large), each once.
	Communities []Community
	// Pools are the names of the pools announced, in order.
	Pools []string
	// NodeSelectors select the nodes that announce; none means every
	// node.
	NodeSelectors []labels.Selector
	// Peers are the names of the peers announced to, in order; none
	// means every peer.
	Peers []string
	// ServiceSelectors select the Services of the pools announced; none
	// means every Service. With some, the aggregation lengths are the
	// defaults: one route per address.
	ServiceSelectors []labels.Selector
}

// SelectsNode reports whether a node with these labels announces.
func (a *BGPAdvertisement) SelectsNode(nodeLabels labels.Set) bool {
	return matchesAny(a.NodeSelectors, nodeLabels)
}

// SelectsService reports whether the advertisement applies to a Service
// of its pools with these labels: one of its ServiceSelectors matches
// them, or it has none.
func (a *BGPAdvertisement) SelectsService(serviceLabels labels.Set) bool {
	return matchesAny(a.ServiceSelectors, serviceLabels)
}

// bgpAdvertisements builds the BGP advertisements, objs in name order.
// Pools, peers and community aliases must be known already.
func (b *builder) bgpAdvertisements(objs []*v1beta1.BGPAdvertisement, pools []Pool) []BGPAdvertisement {
	checkNames(b, KindBGPAdvertisement, objs)
	out := make([]BGPAdvertisement, 0, len(objs))
	for _, o := range objs {
		out = append(out, b.bgpAdvertisement(o, pools))
	}
	return out
}

// bgpAdvertisement validates one BGPAdvertisement.
func (b *builder) bgpAdvertisement(o *v1beta1.BGPAdvertisement, pools []Pool) BGPAdvertisement {
	name, s := o.Name, &o.Spec
	bad := func(field, format string, args ...any) { b.add(KindBGPAdvertisement, name, field, format, args...) }
	a := BGPAdvertisement{
		Name:                name,
		AggregationLength:   DefaultAggregationLength,
		AggregationLengthV6: DefaultAggregationLengthV6,
		LocalPref:           s.LocalPref,
	}
	aggOK := true
	if s.AggregationLength != nil {
		a.AggregationLength = int(*s.AggregationLength)
		if a.AggregationLength < 0 || a.AggregationLength > 32 {
			bad("spec.aggregationLength", "%d is out of range [0, 32]", a.AggregationLength)
			aggOK = false
		}
	}
	if s.AggregationLengthV6 != nil {
		a.AggregationLengthV6 = int(*s.AggregationLengthV6)
		if a.AggregationLengthV6 < 0 || a.AggregationLengthV6 > 128 {
			bad("spec.aggregationLengthV6", "%d is out of range [0, 128]", a.AggregationLengthV6)
			aggOK = false
		}
	}

	b.checkList(KindBGPAdvertisement, name, "spec.communities", s.Communities)
	for i, text := range s.Communities {
		if text == "" {
			continue
		}
		c, err := b.community(text)
		if err != nil {
			bad(fmt.Sprintf("spec.communities[%d]", i), "%v", err)
			continue
		}
		a.Communities = append(a.Communities, c)
	}
	slices.SortFunc(a.Communities, compareCommunities)
	a.Communities = slices.Compact(a.Communities)

	a.Pools = b.selectPools(KindBGPAdvertisement, name, s.IPAddressPools, s.IPAddressPoolSelectors, pools)
	if aggOK {
		b.checkAggregation(&a)
	}
	a.NodeSelectors = b.selectors(KindBGPAdvertisement, name, "spec.nodeSelectors", s.NodeSelectors)
	a.ServiceSelectors = b.selectors(KindBGPAdvertisement, name, "spec.serviceSelectors", s.ServiceSelectors)
	if len(s.ServiceSelectors) > 0 && aggOK &&
		(a.AggregationLength != DefaultAggregationLength || a.AggregationLengthV6 != DefaultAggregationLengthV6) {
		// The CRD's rule says the same; objects that never met the API
		// server (ironlb plan) meet it here.
		bad("spec.serviceSelectors", "cannot be combined with aggregationLength %d and aggregationLengthV6 %d: serviceSelectors need one route per address (%d and %d)",
			a.AggregationLength, a.AggregationLengthV6, DefaultAggregationLength, DefaultAggregationLengthV6)
	}

	b.checkList(KindBGPAdvertisement, name, "spec.peers", s.Peers)
	for i, peer := range s.Peers {
		if _, ok := b.peerRef.get(peer); peer != "" && !ok {
			bad(fmt.Sprintf("spec.peers[%d]", i), "no BGPPeer is named %q", peer)
		}
	}
	a.Peers = sortedUnique(s.Peers)
	return a
}

// checkAggregation rejects an aggregation length shorter than a block
// of a selected pool, as MetalLB does: each entry of spec.addresses is
// split into the CIDRs that exactly cover it, and the aggregation length
// must be at least the shortest of their prefix lengths. For a CIDR
// entry that is its own prefix length (a /24 takes 24 to 32); for a
// range it is the prefix of its largest aligned block. A shorter
// aggregate would announce addresses outside the pool. It reports the
// first offending entry per pool and family.
func (b *builder) checkAggregation(a *BGPAdvertisement) {
	for _, pool := range a.Pools {
		info, _ := b.poolRef.get(pool)
		if info == nil {
			continue
		}
		reported := map[bool]bool{} // by "is IPv6"
		for _, s := range info.spans {
			v6 := !s.r.First.Is4()
			length, field := a.AggregationLength, "spec.aggregationLength"
			if v6 {
				length, field = a.AggregationLengthV6, "spec.aggregationLengthV6"
			}
			if length >= s.widest || reported[v6] {
				continue
			}
			reported[v6] = true
			b.add(KindBGPAdvertisement, a.Name, field,
				"%d is shorter than prefix length %d of %q (%s of IPAddressPool %q): the aggregated route would cover addresses outside the pool",
				length, s.widest, s.text, s.field(), pool)
		}
	}
}
