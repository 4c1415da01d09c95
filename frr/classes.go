package frr

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/ironlb/ironlb/config"
)

// adv is a BGPAdvertisement that selects the node.
type adv struct {
	*config.BGPAdvertisement
	// index is the advertisement's position in builder.advs (name order).
	index int
	// targets are the node's peers it announces to, by index.
	targets []int
}

// aggLength returns the prefix length of the advertisement's routes.
func (a *adv) aggLength(f family) int {
	if f == ipv4 {
		return a.AggregationLength
	}
	return a.AggregationLengthV6
}

// advertisements selects the node's advertisements and the peers each
// announces to: those it names, or all the node's peers.
func (b *builder) advertisements() {
	for i := range b.model.BGPAdvertisements {
		a := &b.model.BGPAdvertisements[i]
		if a.SelectsNode(b.node.Labels) {
			b.advs = append(b.advs, &adv{BGPAdvertisement: a})
		}
	}
	slices.SortFunc(b.advs, func(x, y *adv) int { return cmp.Compare(x.Name, y.Name) })
	for i, a := range b.advs {
		a.index = i
		if why := nameProblem(a.Name); why != "" {
			b.fieldError(config.KindBGPAdvertisement, a.Name, "metadata.name", "%s", why)
		}
		if a.AggregationLength < 0 || a.AggregationLength > 32 {
			b.fieldError(config.KindBGPAdvertisement, a.Name, "spec.aggregationLength", "%d is out of range [0, 32]", a.AggregationLength)
		}
		if a.AggregationLengthV6 < 0 || a.AggregationLengthV6 > 128 {
			b.fieldError(config.KindBGPAdvertisement, a.Name, "spec.aggregationLengthV6", "%d is out of range [0, 128]", a.AggregationLengthV6)
		}
		for _, p := range b.peerList {
			if len(a.Peers) == 0 || slices.Contains(a.Peers, p.Name) {
				a.targets = append(a.targets, p.index)
			}
		}
	}
}

// A class is the set of advertisements that produce a prefix on the
// node. All the prefixes of a class go to the same peers with the same
// attributes, so the policy is written once per class, not per prefix:
// a network statement tags its prefix with the class's tag (through the
// class's origin route-map), and each peer's outbound route-map has one
// entry per class, matching the tag. Adding a Service then adds only its
// network statements.
type class struct {
	// key is the advertisements' names joined by "+" (names have no "+").
	key string
	// advs are the advertisements, by index.
	advs []int
	// extra marks a class that no single pool makes: it unites the
	// classes of pools whose routes aggregate to the same prefix.
	extra bool
	// tag numbers the class (from 1), and routeMap is its origin map.
	tag      uint32
	routeMap string
	// receivers are the node's peers some advertisement of the class
	// announces to, by index.
	receivers []int
	// recv[f][r] tells that a receiver in router r carries family f:
	// the class's prefixes of that family go into the router.
	recv [2][]bool
}

// group is the prefixes one pool produces in one family at one length.
type group struct {
	bits  int
	class *class
}

// selection is what a pool's advertisements with serviceSelectors add
// to the routes of the Services they select. Such an advertisement
// always announces one route per address (the CRD and config.Build keep
// its aggregation lengths at the defaults), so a selected Service's
// full-length prefix gets the class of the pool's advertisements
// without serviceSelectors at that length (its base) and of the
// selecting ones.
type selection struct {
	// advs are the pool's advertisements with serviceSelectors, by
	// index, sorted.
	advs []int
	// base[f] are the pool's advertisements without serviceSelectors
	// whose family-f routes are full length, by index, sorted.
	base [2][]int
	// single[f][k] is the class of base[f] and advs[k]: that of a
	// Service one advertisement selects.
	single [2][]*class
}

// fullBits is the length of a route to one address of family f.
func fullBits(f family) int {
	if f == ipv4 {
		return config.DefaultAggregationLength
	}
	return config.DefaultAggregationLengthV6
}

// classes makes the groups and classes of every pool from the
// configuration alone: a pool's advertisements without serviceSelectors
// with the same aggregation length (per family) produce the same
// prefixes, so they form one class. An advertisement with
// serviceSelectors makes, per pool and family, the class of itself and
// the pool's full-length base (see selection); a Service that several
// select gets a class that unites them, an extra class like a union.
// Classes and their tags thus do not change when Services come and go,
// except for those extra ones.
func (b *builder) classes() {
	b.classByKey = map[string]*class{}
	b.groups = map[string][2][]group{}
	b.selections = nil
	for _, pool := range b.model.Pools {
		var idx, sel []int
		for _, a := range b.advs {
			if !slices.Contains(a.Pools, pool.Name) {
				continue
			}
			if len(a.ServiceSelectors) > 0 {
				sel = append(sel, a.index)
			} else {
				idx = append(idx, a.index)
			}
		}
		if len(idx) == 0 && len(sel) == 0 {
			continue
		}
		var gs [2][]group
		for _, f := range []family{ipv4, ipv6} {
			var lengths []int
			for _, i := range idx {
				lengths = append(lengths, b.advs[i].aggLength(f))
			}
			slices.Sort(lengths)
			for _, bits := range slices.Compact(lengths) {
				var same []int
				for _, i := range idx {
					if b.advs[i].aggLength(f) == bits {
						same = append(same, i)
					}
				}
				gs[f] = append(gs[f], group{bits: bits, class: b.class(same, false)})
			}
		}
		b.groups[pool.Name] = gs
		if len(sel) == 0 {
			continue
		}
		sl := &selection{advs: sel}
		for _, f := range []family{ipv4, ipv6} {
			for _, i := range idx {
				if b.advs[i].aggLength(f) == fullBits(f) {
					sl.base[f] = append(sl.base[f], i)
				}
			}
			for _, i := range sel {
				sl.single[f] = append(sl.single[f], b.class(withAdv(sl.base[f], i), false))
			}
		}
		if b.selections == nil {
			b.selections = map[string]*selection{}
		}
		b.selections[pool.Name] = sl
	}
}

// withAdv returns the sorted advertisement indexes idx (sorted) with i.
func withAdv(idx []int, i int) []int {
	out := make([]int, 0, len(idx)+1)
	out = append(out, idx...)
	out = append(out, i)
	slices.Sort(out)
	return out
}

// selectedClass returns the class of the full-length family-f prefix
// of a Service that the selection's advertisements matched (indexes in
// sl.advs, at least one) select: a configuration class for one, an
// extra class, made when new, for several.
func (b *builder) selectedClass(sl *selection, f family, matched []int) *class {
	if len(matched) == 1 {
		return sl.single[f][matched[0]]
	}
	idx := slices.Clone(sl.base[f])
	for _, k := range matched {
		idx = append(idx, sl.advs[k])
	}
	slices.Sort(idx)
	return b.class(idx, true)
}

// class returns the class of the advertisements idx (sorted), making it
// when it is new.
func (b *builder) class(idx []int, extra bool) *class {
	names := make([]string, len(idx))
	for i, a := range idx {
		names[i] = b.advs[a].Name
	}
	key := strings.Join(names, "+")
	if c, ok := b.classByKey[key]; ok {
		return c
	}
	c := &class{key: key, advs: idx, extra: extra, routeMap: routeMapClassPrefix + key}
	if len(c.routeMap) > maxClassName {
		sum := sha256.Sum256([]byte(key))
		c.routeMap = routeMapClassHashed + hex.EncodeToString(sum[:8])
	}
	for _, a := range idx {
		c.receivers = append(c.receivers, b.advs[a].targets...)
	}
	slices.Sort(c.receivers)
	c.receivers = slices.Compact(c.receivers)
	for f := range c.recv {
		c.recv[f] = make([]bool, len(b.routerVRFs))
		for _, r := range c.receivers {
			if p := b.peerList[r]; p.active[f] {
				c.recv[f][p.router] = true
			}
		}
	}
	b.classByKey[key] = c
	b.classList = append(b.classList, c)
	return c
}

// union returns the class of the advertisements of both classes.
func (b *builder) union(x, y *class) *class {
	idx := append(slices.Clone(x.advs), y.advs...)
	slices.Sort(idx)
	return b.class(slices.Compact(idx), true)
}

// numberClasses orders the classes and tags them: first those made from
// the configuration, by key, then the extra ones, by key. Only a change
// of the extra classes, which needs two pools whose aggregated routes
// coincide, can make a Service renumber other classes.
func (b *builder) numberClasses() {
	slices.SortFunc(b.classList, func(x, y *class) int {
		if x.extra != y.extra {
			if x.extra {
				return 1
			}
			return -1
		}
		return cmp.Compare(x.key, y.key)
	})
	for i, c := range b.classList {
		c.tag = uint32(i + 1)
	}
	if n := len(b.classList); n > maxTag {
		b.errs = append(b.errs, fmt.Errorf("the advertisements of node %q make %d classes of prefixes, more than the %d an outbound route-map can hold",
			b.node.Name, n, maxTag))
	}
}
