package election

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/state"
)

// Target is one IP to announce and where.
type Target struct {
	IP netip.Addr
	// Interfaces limits the announcement to these interface names,
	// sorted; empty means every eligible interface of the node. It is
	// the union of the interfaces of the L2Advertisements that select
	// the node for the IP's Services.
	Interfaces []string
}

// Assignment is what one node announces.
type Assignment struct {
	Node string
	// Owned are the IPs the node won, sorted by IP. It announces them.
	Owned []Target
	// Handover are the IPs for which the node is a draining candidate,
	// sorted by IP: the node may keep announcing those it announces
	// already, for a grace period while the owner takes over, and must
	// not start announcing the others.
	Handover []Target
}

// ServiceOwner names the node that announces a Service.
type ServiceOwner struct {
	Namespace, Name string
	// Node announces every IP of the Service; "" when no node does
	// (no candidate, or no serving endpoint).
	Node string
}

// Result is the outcome of an election.
type Result struct {
	// Nodes that own or hand over at least one IP, sorted by name.
	Nodes []Assignment
	// Services lists every Service an L2Advertisement applies to (one
	// of its pool whose serviceSelectors, if any, select it), sorted by
	// namespace and name.
	Services []ServiceOwner
}

// For returns the assignment of a node; it is empty when the node has
// nothing to announce.
func (r *Result) For(node string) Assignment {
	i, ok := slices.BinarySearchFunc(r.Nodes, node, func(a Assignment, n string) int { return cmp.Compare(a.Node, n) })
	if !ok {
		return Assignment{Node: node}
	}
	return r.Nodes[i]
}

// tier ranks a candidate: lower tiers win.
type tier int

const (
	// active nodes may own IPs.
	active tier = iota
	// cordoned nodes own an IP only when no active node qualifies.
	cordoned
	// excluded nodes never own an IP; they only hand over.
	excluded
)

func tierOf(n state.Node) tier {
	switch {
	case n.Excluded:
		return excluded
	case n.Draining():
		return cordoned
	}
	return active
}

// Options refine an election.
type Options struct {
	// CanAnnounce, when set, reports whether a node has a usable
	// interface among allowed (sorted; empty means any interface).
	// A node that has none is no candidate for the Services it would
	// announce there. It must give the same answer on every node, as
	// from what the nodes publish of themselves.
	CanAnnounce func(node string, allowed []string) bool
}

// Elect decides the announcements of every node. live holds the names of
// the nodes whose speaker is alive; nodes not in it are no candidates.
// The order of c.Nodes, c.Services and live does not matter.
func Elect(c *state.Cluster, live []string) Result {
	return ElectWith(c, live, Options{})
}

// ElectWith is Elect with options.
func ElectWith(c *state.Cluster, live []string, opts Options) Result {
	if c == nil || c.Model == nil {
		return Result{}
	}
	nodes := usableNodes(c.Nodes, live)
	var (
		res    Result
		l2     []int // indexes in c.Services of the Layer 2 Services
		groups = newGrouper()
		elig   = map[int]candidates{} // by index in c.Services, when announceable
	)
	for i := range c.Services {
		s := &c.Services[i]
		ads := advertisementsFor(c.Model, s)
		if len(ads) == 0 {
			continue
		}
		l2 = append(l2, i)
		if !s.HasServingEndpoint() || len(s.IPs) == 0 || refusedSharing(s, ads) {
			continue
		}
		elig[i] = candidatesFor(s, ads, nodes, opts.CanAnnounce)
		groups.link(i, s.IPs)
	}

	owners := map[netip.Addr]string{} // group key -> owner
	byNode := map[string]*Assignment{}
	assignment := func(node string) *Assignment {
		a := byNode[node]
		if a == nil {
			a = &Assignment{Node: node}
			byNode[node] = a
		}
		return a
	}
	for _, g := range groups.all() {
		cands := make([]candidates, 0, len(g.services))
		for _, i := range g.services {
			cands = append(cands, elig[i])
		}
		owner, handover := decide(g.key, combine(cands), nodes)
		owners[g.key] = owner
		if owner != "" {
			a := assignment(owner)
			for _, ip := range g.ips {
				a.Owned = append(a.Owned, Target{IP: ip, Interfaces: interfacesOf(owner, cands)})
			}
		}
		for _, n := range handover {
			a := assignment(n)
			for _, ip := range g.ips {
				a.Handover = append(a.Handover, Target{IP: ip, Interfaces: interfacesOf(n, cands)})
			}
		}
	}

	for _, i := range l2 {
		s := &c.Services[i]
		so := ServiceOwner{Namespace: s.Namespace, Name: s.Name}
		if _, ok := elig[i]; ok {
			so.Node = owners[groups.keyOf(s.IPs[0])]
		}
		res.Services = append(res.Services, so)
	}
	slices.SortFunc(res.Services, func(a, b ServiceOwner) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	for _, a := range byNode {
		byIP := func(x, y Target) int { return x.IP.Compare(y.IP) }
		slices.SortFunc(a.Owned, byIP)
		slices.SortFunc(a.Handover, byIP)
		res.Nodes = append(res.Nodes, *a)
	}
	slices.SortFunc(res.Nodes, func(a, b Assignment) int { return cmp.Compare(a.Node, b.Node) })
	return res
}

// usableNodes returns the nodes that may be candidates at all, by name:
// alive and with a network.
func usableNodes(all []state.Node, live []string) map[string]state.Node {
	alive := make(map[string]bool, len(live))
	for _, n := range live {
		alive[n] = true
	}
	out := map[string]state.Node{}
	for _, n := range all {
		if alive[n.Name] && !n.NetworkUnavailable {
			out[n.Name] = n
		}
	}
	return out
}

// advertisementsFor returns the L2Advertisements that apply to a
// Service: those of its pool whose serviceSelectors, if it has any,
// match its labels.
func advertisementsFor(m *config.Model, s *state.Service) []*config.L2Advertisement {
	if s.Pool == "" {
		return nil
	}
	var out []*config.L2Advertisement
	for i := range m.L2Advertisements {
		ad := &m.L2Advertisements[i]
		if slices.Contains(ad.Pools, s.Pool) && ad.SelectsService(s.Labels) {
			out = append(out, ad)
		}
	}
	return out
}

// refusedSharing reports MetalLB's rule for Services that may share an
// IP: one with the allow-shared-ip annotation is not announced when an
// advertisement with serviceSelectors applies to it, since Services on
// one IP could otherwise be selected by advertisements that place the
// IP on different nodes.
func refusedSharing(s *state.Service, ads []*config.L2Advertisement) bool {
	if s.SharingKey == "" {
		return false
	}
	for _, ad := range ads {
		if len(ad.ServiceSelectors) > 0 {
			return true
		}
	}
	return false
}

// rank orders the candidates of a group: by tier, then the higher
// preference, then the lower score, then the name.
type rank struct {
	tier  tier
	pref  int
	score uint64
	name  string
}

func (r rank) compare(o rank) int {
	return cmp.Or(cmp.Compare(r.tier, o.tier), cmp.Compare(o.pref, r.pref), cmp.Compare(r.score, o.score), cmp.Compare(r.name, o.name))
}

// decide ranks the candidates of a group, given with their preference,
// and returns the owner ("" for none) and the draining candidates that
// are not the owner, sorted. Excluded nodes never own.
func decide(key netip.Addr, cands map[string]int, nodes map[string]state.Node) (owner string, handover []string) {
	var best rank
	found := false
	for name, pref := range cands {
		r := rank{tier: tierOf(nodes[name]), pref: pref, score: score(name, key), name: name}
		if r.tier != excluded && (!found || r.compare(best) < 0) {
			best, found = r, true
		}
	}
	if found {
		owner = best.name
	}
	for name := range cands {
		if name != owner && tierOf(nodes[name]) != active {
			handover = append(handover, name)
		}
	}
	slices.Sort(handover)
	return owner, handover
}

// score is a node's rank for a group key among candidates of equal tier
// and preference: lower wins. It is the first 8 bytes of
// SHA-256("node/ip"), the same on every node and architecture.
func score(node string, key netip.Addr) uint64 {
	sum := sha256.Sum256([]byte(node + "/" + key.String()))
	return binary.BigEndian.Uint64(sum[:8])
}
