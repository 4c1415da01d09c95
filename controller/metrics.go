package controller

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ironlb/ironlb/ipam"
)

// metrics are the controller's Prometheus metrics: ironlb's own and
// MetalLB's (metallb_*), with MetalLB's names, labels and meaning, so
// that dashboards and alerts written for MetalLB keep working.
type metrics struct {
	allocations *prometheus.CounterVec
	releases    prometheus.Counter
	poolAddrs   *prometheus.GaugeVec
	configValid prometheus.Gauge

	// MetalLB's.
	poolInUse    *prometheus.GaugeVec
	poolTotal    *prometheus.GaugeVec
	configLoaded prometheus.Gauge
	configStale  prometheus.Gauge
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
		poolInUse: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "metallb_allocator_addresses_in_use_total",
			Help: "Number of IP addresses in use, per pool (MetalLB's metric).",
		}, []string{"pool"}),
		poolTotal: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "metallb_allocator_addresses_total",
			Help: "Number of usable IP addresses, per pool (MetalLB's metric).",
		}, []string{"pool"}),
		configLoaded: newConfigLoaded(),
		configStale:  newConfigStale(),
	}
	for _, c := range []prometheus.Collector{m.allocations, m.releases, m.poolAddrs, m.configValid, m.poolInUse, m.poolTotal, m.configLoaded, m.configStale} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// newConfigLoaded and newConfigStale are MetalLB's configuration gauges,
// which its controller and speaker both export.
func newConfigLoaded() prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "metallb_k8s_client_config_loaded_bool",
		Help: "1 if the configuration was successfully loaded at least once (MetalLB's metric).",
	})
}

func newConfigStale() prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "metallb_k8s_client_config_stale_bool",
		Help: "1 if running on a stale configuration, because the latest config failed to load (MetalLB's metric).",
	})
}

// configResult records the outcome of building the configuration: valid
// sets loaded (for good) and clears stale; invalid sets stale and leaves
// loaded as it was.
func (m *metrics) configResult(valid bool) {
	if valid {
		m.configValid.Set(1)
		m.configLoaded.Set(1)
		m.configStale.Set(0)
		return
	}
	m.configValid.Set(0)
	m.configStale.Set(1)
}

// poolUsage sets a pool's gauges from its usage in the model in force.
func (m *metrics) poolUsage(pool string, u ipam.Usage) {
	for fam, f := range map[string]ipam.FamilyUsage{"IPv4": u.IPv4, "IPv6": u.IPv6} {
		m.poolAddrs.WithLabelValues(pool, fam, "assigned").Set(float64(f.Assigned))
		m.poolAddrs.WithLabelValues(pool, fam, "available").Set(math.Min(float64(f.Available), math.MaxInt64))
	}
	inUse, total := metallbPoolCounts(u)
	m.poolInUse.WithLabelValues(pool).Set(inUse)
	m.poolTotal.WithLabelValues(pool).Set(total)
}

// forgetPool drops the gauges of a pool that no longer exists.
func (m *metrics) forgetPool(pool string) {
	m.poolAddrs.DeletePartialMatch(map[string]string{"pool": pool})
	m.poolInUse.DeleteLabelValues(pool)
	m.poolTotal.DeleteLabelValues(pool)
}

// metallbPoolCounts is a pool's usage as MetalLB counts it: addresses in
// use, and usable addresses (in use plus free), both families together.
// A shared address counts once. Pools of more than 2^63 addresses (IPv6)
// report 2^63 usable, as the ironlb_pool_addresses gauge saturates.
func metallbPoolCounts(u ipam.Usage) (inUse, total float64) {
	inUse = float64(u.IPv4.Assigned) + float64(u.IPv6.Assigned)
	total = inUse + math.Min(float64(u.IPv4.Available)+float64(u.IPv6.Available), math.MaxInt64)
	return inUse, total
}
