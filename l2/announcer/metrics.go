package announcer

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the announcer's Prometheus metrics.
type metrics struct {
	answered      *prometheus.CounterVec
	announcements *prometheus.CounterVec
	failures      *prometheus.CounterVec
	announced     *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		answered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ironlb_l2_requests_answered_total",
			Help: "ARP requests and Neighbor Solicitations answered, by protocol (arp, ndp), interface and IP.",
		}, []string{"protocol", "iface", "ip"}),
		announcements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ironlb_l2_announcements_total",
			Help: "Gratuitous ARP and unsolicited Neighbor Advertisements sent, by protocol, interface and IP.",
		}, []string{"protocol", "iface", "ip"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ironlb_l2_responder_failures_total",
			Help: "Responders that failed to open or stopped with an error, by protocol and interface.",
		}, []string{"protocol", "iface"}),
		announced: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ironlb_l2_announced_ips",
			Help: "IPs this node announces now, by protocol and interface.",
		}, []string{"protocol", "iface"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.answered, m.announcements, m.failures, m.announced} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering L2 announcer metrics: %w", err)
		}
	}
	return m, nil
}
