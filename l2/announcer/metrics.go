package announcer

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the announcer's Prometheus metrics: ironlb's own, and
// MetalLB's metallb_layer2_* with MetalLB's names, labels and meaning.
type metrics struct {
	answered      *prometheus.CounterVec
	announcements *prometheus.CounterVec
	failures      *prometheus.CounterVec
	announced     *prometheus.GaugeVec

	// MetalLB's, by IP.
	requestsReceived *prometheus.CounterVec
	responsesSent    *prometheus.CounterVec
	gratuitousSent   *prometheus.CounterVec
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
		requestsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "metallb_layer2_requests_received",
			Help: "Number of layer2 requests received for owned IPs (MetalLB's metric).",
		}, []string{"ip"}),
		responsesSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "metallb_layer2_responses_sent",
			Help: "Number of layer2 responses sent for owned IPs in response to requests (MetalLB's metric).",
		}, []string{"ip"}),
		gratuitousSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "metallb_layer2_gratuitous_sent",
			Help: "Number of gratuitous layer2 packets sent for owned IPs (MetalLB's metric).",
		}, []string{"ip"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.answered, m.announcements, m.failures, m.announced, m.requestsReceived, m.responsesSent, m.gratuitousSent} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("registering L2 announcer metrics: %w", err)
		}
	}
	return m, nil
}
