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

// classes makes the groups and classes of every pool from the
// configuration alone: a pool's advertisements with the same
// aggregation length (per family) produce the same prefixes, so they
// form one class. Classes and their tags thus do not change when
// Services come and go.
func (b *builder) classes() {
	b.classByKey = map[string]*class{}
	b.groups = map[string][2][]group{}
	for _, pool := range b.model.Pools {
		var idx []int
		for _, a := range b.advs {
			if slices.Contains(a.Pools, pool.Name) {
				idx = append(idx, a.index)
			}
		}
		if len(idx) == 0 {
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
	}
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
