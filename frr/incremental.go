package frr

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/state"
)

// Builder computes the same Config as Build, reusing its previous
// result. Build recomputes everything from all the Services (several
// milliseconds for 10,000), and the speaker calls it on every reconcile,
// where usually one Service came, went or changed; a Builder kept across
// reconciles recomputes the routes and Announced entries of those
// Services only. What remains proportional to the number of Services is
// a merge walk comparing them with the previous ones and the copy of
// the slices that change (BenchmarkBuilderOneServiceChange).
//
// Build is the reference: Builder.Build(c, node, opts) returns a Config
// equal to what Build(c, node, opts) returns, or the same error. The
// Config it returns may share slices with those it returned before and
// will return later, so callers must not modify it; a Builder never
// modifies a Config it handed out (it copies every slice it changes).
//
// A call reuses the previous result when the previous call succeeded
// with the same *config.Model (the same pointer: a new model is a new
// pointer), an equal node (every state.Node field) and equal options;
// it then merge-walks the previous and the new Services and updates
// only the prefixes of those that were added, removed or changed. Every
// other call, and every change the update does not cover, takes the
// full computation:
//   - Services that are not strictly sorted by key, or a namespace
//     holding a '/' (keys would then sort differently from Services);
//   - a change that touches a prefix several classes produce, or would
//     make a prefix produced by one class be produced by another: both
//     can create or drop a union class, which renumbers the tags (see
//     numberClasses);
//   - a change to a Service that several serviceSelectors select, whose
//     class is extra too.
//
// The Builder keeps its own copies of the Services, so the caller may
// reuse or modify the slices of a Cluster it passed; a model, on the
// other hand, must not be modified once passed, nor a Service's Labels
// map, which the copies share (state.Store never modifies one). A Builder is not safe
// for concurrent use.
type Builder struct {
	// last is what the previous call computed, nil after an error.
	last *lastBuild
}

// NewBuilder returns a Builder that has built nothing yet; its first
// call does the full computation.
func NewBuilder() *Builder { return &Builder{} }

// Build returns the Config of the node, equal to Build(c, node, opts).
func (bl *Builder) Build(c *state.Cluster, node string, opts BuildOptions) (*Config, error) {
	if l := bl.last; l != nil && l.sameInputs(c, node, opts) {
		if cfg, ok := l.update(c.Services); ok {
			return cfg, nil
		}
	}
	bl.last = nil
	cfg, b, err := build(c, node, opts)
	if err != nil {
		return nil, buildError(node, err)
	}
	bl.last = newLastBuild(c, node, opts, cfg, b)
	return cfg, nil
}

// lastBuild is what a Builder keeps of its previous result.
type lastBuild struct {
	// The inputs that must not change for an update: the model pointer,
	// the node (with its own copy of the labels) and the options as given.
	model    *config.Model
	nodeName string
	node     state.Node
	opts     BuildOptions

	cfg *Config
	// b is the builder of the full computation: the node's peers,
	// groups and numbered classes, which only the inputs above decide.
	// Its groups are nil when the node announces nothing.
	b *builder
	// mergeable tells that the Services below can be merge-walked:
	// sorted, unique keys, no '/' in a namespace.
	mergeable bool
	// services point to copies of the Services cfg was computed from,
	// sorted by key, which nothing modifies; spare is a buffer for the
	// next list. Pointers make the list a tenth of the Services' size to
	// copy.
	services, spare []*state.Service
	// refs count, per announced prefix, the routes that produce it.
	refs map[netip.Prefix]prefixRef
	// afIndex[r][f] is the index of family f's block in
	// cfg.Routers[r].AddressFamilies, or -1.
	afIndex [][2]int
}

// prefixRef counts the routes of the announced Services that produce a
// prefix. class is the class of those routes, or nil when they come from
// several classes (the prefix's class is then a union).
type prefixRef struct {
	class *class
	n     int
}

// newLastBuild records a full computation.
func newLastBuild(c *state.Cluster, node string, opts BuildOptions, cfg *Config, b *builder) *lastBuild {
	n, _ := c.Node(node)
	n.Labels = maps.Clone(n.Labels)
	l := &lastBuild{model: c.Model, nodeName: node, node: n, opts: opts, cfg: cfg, b: b}
	if b.groups == nil {
		return l
	}
	l.afIndex = make([][2]int, len(cfg.Routers))
	for r, rt := range cfg.Routers {
		l.afIndex[r] = [2]int{-1, -1}
		for j, af := range rt.AddressFamilies {
			for _, f := range []family{ipv4, ipv6} {
				if af.Name == f.afName() {
					l.afIndex[r][f] = j
				}
			}
		}
	}
	svcs := c.Services
	for i := range svcs {
		if (i > 0 && compareServiceKeys(&svcs[i-1], &svcs[i]) >= 0) || strings.Contains(svcs[i].Namespace, "/") {
			return l
		}
	}
	l.refs = make(map[netip.Prefix]prefixRef, len(svcs))
	var routes []svcRoute
	var peers []int
	for i := range svcs {
		routes, peers = b.serviceRoutes(&svcs[i], routes[:0], peers[:0])
		for _, rt := range routes {
			ref, ok := l.refs[rt.prefix]
			if ok && ref.class != rt.class {
				ref.class = nil
			} else if !ok {
				ref.class = rt.class
			}
			ref.n++
			l.refs[rt.prefix] = ref
		}
	}
	copies := cloneServices(svcs)
	l.services = make([]*state.Service, len(copies))
	for i := range copies {
		l.services[i] = &copies[i]
	}
	l.mergeable = true
	return l
}

// sameInputs reports whether a Build of these inputs may update l.
func (l *lastBuild) sameInputs(c *state.Cluster, node string, opts BuildOptions) bool {
	if c == nil || c.Model == nil || c.Model != l.model || node != l.nodeName || opts != l.opts {
		return false
	}
	n, ok := c.Node(node)
	return ok && sameNode(n, l.node)
}

// update returns the Config of the Services svcs, computed from the
// previous one, or false when the change needs the full computation. It
// changes l only when it succeeds.
func (l *lastBuild) update(svcs []state.Service) (*Config, bool) {
	if l.b.groups == nil {
		return l.cfg, true // the node announces no Service
	}
	if !l.mergeable {
		return nil, false
	}
	gone, come, ok := diffServices(l.services, svcs)
	if !ok {
		return nil, false
	}
	if len(gone) == 0 && len(come) == 0 {
		return l.cfg, true
	}
	for _, s := range come {
		if strings.Contains(s.Namespace, "/") {
			return nil, false
		}
	}
	delta, annDel, annAdd, ok := l.routeDelta(gone, come)
	if !ok {
		return nil, false
	}
	refs, edits, ok := l.networkEdits(delta)
	if !ok {
		return nil, false
	}
	cfg, ok := l.patchConfig(edits, annDel, annAdd)
	if !ok {
		return nil, false
	}
	add := make([]*state.Service, len(come))
	for i, s := range come {
		c := cloneService(s)
		add[i] = &c
	}
	services, ok := patchSorted(l.spare, l.services, gone, add, compareServiceKeys)
	if !ok {
		return nil, false
	}

	for p, ref := range refs {
		if ref.n == 0 {
			delete(l.refs, p)
		} else {
			l.refs[p] = ref
		}
	}
	l.services, l.spare = services, l.services
	l.cfg = cfg
	return cfg, true
}

// routeDelta returns the change of the routes per prefix, with the
// class of those routes, and the Announced entries that go and come, in
// key order. It reports false when routes of two classes change one
// prefix: that may make or drop a union class.
func (l *lastBuild) routeDelta(gone, come []*state.Service) (delta map[netip.Prefix]prefixRef, annDel, annAdd []ServicePeers, ok bool) {
	delta = map[netip.Prefix]prefixRef{}
	var routes []svcRoute
	var peers []int
	for _, side := range []struct {
		svcs []*state.Service
		d    int
		ann  *[]ServicePeers
	}{{gone, -1, &annDel}, {come, +1, &annAdd}} {
		for _, s := range side.svcs {
			routes, peers = l.b.serviceRoutes(s, routes[:0], peers[:0])
			for _, rt := range routes {
				if rt.class.extra {
					// Several serviceSelectors select the Service: its
					// class may be new, or go with it.
					return nil, nil, nil, false
				}
				d, ok := delta[rt.prefix]
				if ok && d.class != rt.class {
					return nil, nil, nil, false
				}
				delta[rt.prefix] = prefixRef{class: rt.class, n: d.n + side.d}
			}
			if sp, ok := l.b.servicePeers(s, peers); ok {
				*side.ann = append(*side.ann, sp)
			}
		}
	}
	annDel, annAdd = dropUnchanged(annDel, annAdd)
	return delta, annDel, annAdd, true
}

// networkEdits is the network statements to delete and add in one
// address family.
type networkEdits struct {
	del, add []Network
}

// networkEdits applies delta to the reference counts: it returns the
// counts that change (0 for a prefix that goes) and the network
// statements that go and come, per router r and family f at
// edits[2*r+f], sorted. It reports false when a prefix several classes
// produce changes, or one class's prefix would get another class.
func (l *lastBuild) networkEdits(delta map[netip.Prefix]prefixRef) (map[netip.Prefix]prefixRef, []networkEdits, bool) {
	edits := make([]networkEdits, 2*len(l.afIndex))
	refs := make(map[netip.Prefix]prefixRef, len(delta))
	for p, d := range delta {
		cur := l.refs[p] // the zero prefixRef when absent
		if cur.n > 0 && cur.class != d.class {
			return nil, nil, false
		}
		n := cur.n + d.n
		switch {
		case n < 0:
			return nil, nil, false
		case n == cur.n:
			continue
		}
		refs[p] = prefixRef{class: d.class, n: n}
		if cur.n > 0 && n > 0 {
			continue // still announced, by fewer or more Services
		}
		f := familyOf(p.Addr())
		for r := range l.afIndex {
			if !d.class.recv[f][r] {
				continue
			}
			if l.afIndex[r][f] < 0 {
				return nil, nil, false
			}
			e := &edits[2*r+int(f)]
			if n > 0 {
				e.add = append(e.add, Network{Prefix: p, RouteMap: d.class.routeMap})
			} else {
				e.del = append(e.del, Network{Prefix: p})
			}
		}
	}
	for i := range edits {
		slices.SortFunc(edits[i].del, compareNetworks)
		slices.SortFunc(edits[i].add, compareNetworks)
	}
	return refs, edits, true
}

// compareNetworks orders network statements as networks() does.
func compareNetworks(x, y Network) int { return comparePrefixes(x.Prefix, y.Prefix) }

// patchConfig returns the previous Config with the network statements
// and Announced entries edited, copying every slice it changes (the
// previous Config itself when nothing changes), or false when an edit
// does not fit.
func (l *lastBuild) patchConfig(edits []networkEdits, annDel, annAdd []ServicePeers) (*Config, bool) {
	next := *l.cfg
	changed := false
	// copied[r] tells that next.Routers[r].AddressFamilies is a copy.
	copied := make([]bool, len(l.afIndex))
	for i, e := range edits {
		if len(e.del) == 0 && len(e.add) == 0 {
			continue
		}
		r, f := i/2, family(i%2)
		if !changed {
			next.Routers = slices.Clone(l.cfg.Routers)
		}
		if !copied[r] {
			next.Routers[r].AddressFamilies = slices.Clone(l.cfg.Routers[r].AddressFamilies)
			copied[r] = true
		}
		af := &next.Routers[r].AddressFamilies[l.afIndex[r][f]]
		nets, ok := patchSorted(nil, af.Networks, e.del, e.add, compareNetworks)
		if !ok {
			return nil, false
		}
		if len(nets) == 0 {
			nets = nil // as networks() leaves it
		}
		af.Networks = nets
		changed = true
	}
	if len(annDel) > 0 || len(annAdd) > 0 {
		ann, ok := patchSorted(nil, l.cfg.Announced, annDel, annAdd, func(x, y ServicePeers) int { return cmp.Compare(x.Service, y.Service) })
		if !ok {
			return nil, false
		}
		if ann == nil {
			ann = []ServicePeers{} // as prefixes() leaves it
		}
		next.Announced = ann
		changed = true
	}
	if !changed {
		return l.cfg, true
	}
	return &next, true
}
