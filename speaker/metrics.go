package speaker

import "github.com/prometheus/client_golang/prometheus"

// metrics are the speaker's Prometheus metrics.
type metrics struct {
	applyDuration *prometheus.HistogramVec
	applyFailures *prometheus.CounterVec
	announced     prometheus.Gauge
	sessionUp     *prometheus.GaugeVec
	prefixesSent  *prometheus.GaugeVec
	configValid   prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
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
		sessionUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ironlb_speaker_bgp_session_up",
			Help: "1 when the BGP session to the peer is established.",
		}, []string{"peer", "vrf"}),
		prefixesSent: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ironlb_speaker_bgp_prefixes_advertised",
			Help: "Prefixes advertised to the peer.",
		}, []string{"peer", "vrf"}),
		configValid: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ironlb_speaker_config_valid",
			Help: "1 when the last configuration seen was valid, 0 when the speaker runs on an older one.",
		}),
	}
	for _, c := range []prometheus.Collector{m.applyDuration, m.applyFailures, m.announced, m.sessionUp, m.prefixesSent, m.configValid} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
