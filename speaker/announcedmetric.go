package speaker

import (
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
	service, protocol, ip string
}

// announcedGauge is MetalLB's metallb_speaker_announced{service,
// protocol, node, ip}: 1 for every Service IP the node announces, the
// desired state (routes may not have converged). Each protocol's series
// are replaced as a whole.
type announcedGauge struct {
	vec  *prometheus.GaugeVec
	node string

	mu  sync.Mutex
	cur map[string][]announcement // by protocol
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

// set replaces the series of one protocol.
func (g *announcedGauge) set(protocol string, want []announcement) {
	g.mu.Lock()
	defer g.mu.Unlock()
	keep := make(map[announcement]bool, len(want))
	for _, a := range want {
		keep[a] = true
		g.vec.WithLabelValues(a.service, a.protocol, g.node, a.ip).Set(1)
	}
	for _, a := range g.cur[protocol] {
		if !keep[a] {
			g.vec.DeleteLabelValues(a.service, a.protocol, g.node, a.ip)
		}
	}
	g.cur[protocol] = want
}

// bgpAnnouncements are the IPs of the Services the node announces over
// BGP (frr.Config.Announced).
func bgpAnnouncements(c *state.Cluster, announced []frr.ServicePeers) []announcement {
	if c == nil {
		return nil
	}
	byKey := make(map[string]state.Service, len(c.Services))
	for _, s := range c.Services {
		byKey[s.Key()] = s
	}
	var out []announcement
	for _, a := range announced {
		for _, ip := range byKey[a.Service].IPs {
			out = append(out, announcement{service: a.Service, protocol: protocolBGP, ip: ip.String()})
		}
	}
	return out
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
			out = append(out, announcement{service: s.Key(), protocol: protocolLayer2, ip: ip.String()})
		}
	}
	return out
}
