package controller

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the controller's Prometheus metrics.
type metrics struct {
	allocations *prometheus.CounterVec
	releases    prometheus.Counter
	poolAddrs   *prometheus.GaugeVec
	configValid prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		allocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ironlb_allocations_total",
			Help: "Service IP allocations by result (allocated, failed).",
		}, []string{"result"}),
		releases: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ironlb_releases_total",
			Help: "Service IP releases.",
		}),
		poolAddrs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ironlb_pool_addresses",
			Help: "Addresses of a pool by family and state (assigned, available).",
		}, []string{"pool", "family", "state"}),
		configValid: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ironlb_config_valid",
			Help: "1 when the last configuration seen was valid, 0 when the controller runs on an older one.",
		}),
	}
	for _, c := range []prometheus.Collector{m.allocations, m.releases, m.poolAddrs, m.configValid} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
