package speaker

import "github.com/prometheus/client_golang/prometheus"

// metrics are the speaker's Prometheus metrics: ironlb's own, and
// MetalLB's (metallb_*) with MetalLB's names, labels and meaning.
type metrics struct {
	applyDuration *prometheus.HistogramVec
	applyFailures *prometheus.CounterVec
	announced     prometheus.Gauge
	// sessions holds the BGP and BFD session metrics of the last poll.
	sessions    *sessionCollector
	configValid prometheus.Gauge
	// MetalLB's configuration gauges.
	configLoaded prometheus.Gauge
	configStale  prometheus.Gauge
	// speakerAnnounced is MetalLB's metallb_speaker_announced.
	speakerAnnounced *announcedGauge
}

func newMetrics(reg prometheus.Registerer, node string) (*metrics, error) {
	m := &metrics{
		speakerAnnounced: newAnnouncedGauge(node),
		applyDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ironlb_speaker_frr_apply_duration_seconds",
			Help:    "Time to get the desired configuration into FRR, by path (none, fast, full).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"path"}),
		applyFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ironlb_speaker_frr_apply_failures_total",
			Help: "Failed FRR applies, by the stage that failed.",
		}, []string{"stage"}),
		announced: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ironlb_speaker_bgp_services_announced",
			Help: "Services this node announces over BGP.",
		}),
		sessions: newSessionCollector(),
		configValid: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ironlb_speaker_config_valid",
			Help: "1 when the last configuration seen was valid, 0 when the speaker runs on an older one.",
		}),
		configLoaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "metallb_k8s_client_config_loaded_bool",
			Help: "1 if the configuration was successfully loaded at least once (MetalLB's metric).",
		}),
		configStale: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "metallb_k8s_client_config_stale_bool",
			Help: "1 if running on a stale configuration, because the latest config failed to load (MetalLB's metric).",
		}),
	}
	for _, c := range []prometheus.Collector{m.applyDuration, m.applyFailures, m.announced, m.sessions, m.configValid, m.configLoaded, m.configStale, m.speakerAnnounced.vec} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// configResult records the outcome of building the configuration: valid
// sets loaded (for good) and clears stale; invalid sets stale.
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
