package speaker

import (
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/state"
)

// MetalLB's protocol label values of metallb_speaker_announced.
const (
	protocolBGP    = "bgp"
	protocolLayer2 = "layer2"
)

// announcement is one series of metallb_speaker_announced: a Service
// ("namespace/name") IP this node announces with a protocol.
type announcement struct {
	service, protocol string
	ip                netip.Addr
}

// announcedGauge is MetalLB's metallb_speaker_announced{service,
// protocol, node, ip}: 1 for every Service IP the node announces, the
// desired state (routes may not have converged). Each protocol's series
// are replaced as a whole, touching only those that change: a reconcile
// of 10,000 announced Services must not rewrite 10,000 series.
type announcedGauge struct {
	vec  *prometheus.GaugeVec
	node string

	mu  sync.Mutex
	cur map[string][]announcement // by protocol, sorted by compareAnnouncements
}

func newAnnouncedGauge(node string) *announcedGauge {
	return &announcedGauge{
		vec: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "metallb_speaker_announced",
			Help: "Services being announced from this node. This is desired state, it does not guarantee that the routing protocols have converged (MetalLB's metric).",
		}, []string{"service", "protocol", "node", "ip"}),
		node: node,
		cur:  map[string][]announcement{},
	}
}

// set replaces the series of one protocol: one merge walk over the
// series before and after, in order.
func (g *announcedGauge) set(protocol string, want []announcement) {
	if !slices.IsSortedFunc(want, compareAnnouncements) {
		slices.SortFunc(want, compareAnnouncements)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	old := g.cur[protocol]
	i, j := 0, 0
	for i < len(old) || j < len(want) {
		c := 0
		switch {
		case i == len(old):
			c = 1
		case j == len(want):
			c = -1
		default:
			c = compareAnnouncements(old[i], want[j])
		}
		switch {
		case c < 0:
			g.vec.DeleteLabelValues(old[i].service, old[i].protocol, g.node, old[i].ip.String())
			i++
		case c > 0:
			g.vec.WithLabelValues(want[j].service, want[j].protocol, g.node, want[j].ip.String()).Set(1)
			j++
		default:
			i, j = i+1, j+1
		}
	}
	g.cur[protocol] = want
}

// compareAnnouncements orders announcements by Service, protocol and IP.
func compareAnnouncements(a, b announcement) int {
	if c := strings.Compare(a.service, b.service); c != 0 {
		return c
	}
	if c := strings.Compare(a.protocol, b.protocol); c != 0 {
		return c
	}
	return a.ip.Compare(b.ip)
}

// bgpAnnouncements are the IPs of the Services the node announces over
// BGP (frr.Config.Announced).
func bgpAnnouncements(c *state.Cluster, announced []frr.ServicePeers) []announcement {
	if c == nil {
		return nil
	}
	// Both lists are in key order: one walk finds each Service.
	out := make([]announcement, 0, len(announced))
	i := 0
	for _, a := range announced {
		for i < len(c.Services) && compareToKey(c.Services[i], a.Service) < 0 {
			i++
		}
		if i == len(c.Services) || compareToKey(c.Services[i], a.Service) != 0 {
			continue
		}
		for _, ip := range c.Services[i].IPs {
			out = append(out, announcement{service: a.Service, protocol: protocolBGP, ip: ip})
		}
	}
	return out
}

// compareToKey orders a Service against a "namespace/name" key as
// state.CompareKeys orders Services, without building the Service's key.
func compareToKey(s state.Service, key string) int {
	ns, name, _ := strings.Cut(key, "/")
	return state.CompareKeys(s, state.Service{Namespace: ns, Name: name})
}

// l2Announcements are the IPs of the Services the node owns in Layer 2.
func l2Announcements(c *state.Cluster, owned map[serviceRef]bool) []announcement {
	if c == nil {
		return nil
	}
	var out []announcement
	for _, s := range c.Services {
		if !owned[serviceRef{Namespace: s.Namespace, Name: s.Name}] {
			continue
		}
		for _, ip := range s.IPs {
			out = append(out, announcement{service: s.Key(), protocol: protocolLayer2, ip: ip})
		}
	}
	return out
}
