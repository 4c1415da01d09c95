package e2e

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/ironlb/ironlb/e2e/lab"
)

// TestMetalLBMetrics scrapes the lab's controller and speakers, as a
// Prometheus would, and checks MetalLB's series (what dashboards and
// alerts written for MetalLB read); then cuts one BGP session and runs
// the chart's alerting rules with promtool over the series scraped.
func TestMetalLBMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if testing.Short() {
			t.Skip("promtool missing (Debian package prometheus; hack/install-deps.sh installs it)")
		}
		t.Fatalf("promtool missing: install Debian's prometheus package (hack/install-deps.sh): %v", err)
	}
	l := startSpeakerLab(t)
	waitSessions(t, l)
	ips := newService(t, l, "metrics", dualStack)
	if err := l.CreateEndpoints(t.Context(), "lab", "metrics", "ilb-n1", "ilb-n2", "ilb-n3"); err != nil {
		t.Fatal(err)
	}

	// The controller: the pools hold the IPs the Services' status shows
	// (the lab's own Services and this one), of 128 + 256 addresses in
	// bgp and 51 + 256 in l2; the configuration is loaded and not stale.
	waitCond(t, "the controller's MetalLB series", func(ctx context.Context) (bool, string) {
		inUse, err := ipsByPool(ctx, l)
		if err != nil {
			return false, err.Error()
		}
		s, err := scrape(ctx, lab.ControlPlaneNetns, controllerMetricsURL())
		if err != nil {
			return false, err.Error()
		}
		want := []sampleWant{
			{"metallb_allocator_addresses_in_use_total", map[string]string{"pool": "bgp"}, inUse["bgp"]},
			{"metallb_allocator_addresses_total", map[string]string{"pool": "bgp"}, 384},
			{"metallb_allocator_addresses_in_use_total", map[string]string{"pool": "l2"}, inUse["l2"]},
			{"metallb_allocator_addresses_total", map[string]string{"pool": "l2"}, 307},
			{"metallb_k8s_client_config_loaded_bool", nil, 1},
			{"metallb_k8s_client_config_stale_bool", nil, 0},
		}
		return s.check(want)
	})

	// Each speaker: both sessions to the router up, labelled as MetalLB
	// labels them (IP:port, VRF default), BFD up, the Service's IPs
	// announced.
	for _, n := range lab.Nodes() {
		waitCond(t, n.Name+"'s MetalLB series", func(ctx context.Context) (bool, string) {
			s, err := scrape(ctx, n.Name, speakerMetricsURL)
			if err != nil {
				return false, err.Error()
			}
			want := []sampleWant{
				{"metallb_k8s_client_config_loaded_bool", nil, 1},
				{"metallb_k8s_client_config_stale_bool", nil, 0},
				{"metallb_bfd_session_up", map[string]string{"peer": lab.RouterIPv4, "vrf": "default"}, 1},
				{"metallb_bfd_session_up", map[string]string{"peer": lab.RouterIPv6, "vrf": "default"}, 1},
				{"ironlb_speaker_bfd_session_up", map[string]string{"peer": "router-v4", "vrf": ""}, 1},
				{"ironlb_speaker_bgp_session_up", map[string]string{"peer": "router-v6", "vrf": ""}, 1},
			}
			for _, ip := range ips {
				want = append(want, sampleWant{"metallb_speaker_announced", map[string]string{"service": "lab/metrics", "protocol": "bgp", "node": n.Name, "ip": ip.String()}, 1})
			}
			if ok, seen := s.check(want); !ok {
				return false, seen
			}
			for _, router := range []string{lab.RouterIPv4, lab.RouterIPv6} {
				up, ok := s.bgpPeer("metallb_bgp_session_up", router)
				if !ok || up != 1 {
					return false, fmt.Sprintf("metallb_bgp_session_up for %s = %v (found %v); series %v", router, up, ok, s.names("metallb_bgp_session_up"))
				}
				if pfx, _ := s.bgpPeer("metallb_bgp_announced_prefixes_total", router); pfx < 1 {
					return false, fmt.Sprintf("metallb_bgp_announced_prefixes_total for %s = %v, want at least the Service's prefix", router, pfx)
				}
				if upd, _ := s.bgpPeer("metallb_bgp_updates_total", router); upd < 1 {
					return false, fmt.Sprintf("metallb_bgp_updates_total for %s = %v, want at least one UPDATE sent", router, upd)
				}
			}
			if v, ok := s.value("metallb_bfd_session_up_events", map[string]string{"peer": lab.RouterIPv4, "vrf": "default"}); !ok || v < 1 {
				return false, fmt.Sprintf("metallb_bfd_session_up_events = %v (found %v), want at least 1", v, ok)
			}
			return true, ""
		})
	}

	// The router shuts its IPv4 session to ilb-n1: ilb-n1 reports it down,
	// its MetalLB series labelled with FRR's remote port as MetalLB's FRR
	// mode does (-1 when there is no connection).
	n1 := lab.Nodes()[0]
	if _, err := l.RouterVtysh(t.Context(), "configure terminal", fmt.Sprintf("router bgp %d", lab.RouterAS), "neighbor "+n1.IPv4.String()+" shutdown"); err != nil {
		t.Fatal(err)
	}
	var (
		speaker, controller scraped
		downPeer            string
		seen                string
	)
	waitCond(t, n1.Name+"'s IPv4 session down in the metrics", func(ctx context.Context) (bool, string) {
		s, err := scrape(ctx, n1.Name, speakerMetricsURL)
		if err != nil {
			return false, seen + "; " + err.Error()
		}
		if ok, why := s.check([]sampleWant{{"ironlb_speaker_bgp_session_up", map[string]string{"peer": "router-v4", "vrf": ""}, 0}}); !ok {
			seen = why
			return false, why
		}
		if up, ok := s.bgpPeer("metallb_bgp_session_up", lab.RouterIPv4); !ok || up != 0 {
			seen = fmt.Sprintf("metallb_bgp_session_up for %s = %v (found %v); series %v", lab.RouterIPv4, up, ok, s.names("metallb_bgp_session_up"))
			return false, seen
		}
		for _, x := range s {
			if x.name == "metallb_bgp_session_up" && strings.HasPrefix(x.labels["peer"], lab.RouterIPv4+":") {
				downPeer = x.labels["peer"]
			}
		}
		speaker = s
		return true, ""
	})
	t.Logf("MetalLB's label of the session down: peer=%q", downPeer)
	controller, err = scrape(t.Context(), lab.ControlPlaneNetns, controllerMetricsURL())
	if err != nil {
		t.Fatal(err)
	}

	// The chart's rules over these series, with the labels the chart's
	// ServiceMonitors add: the session down fires MetalLB's and ironlb's
	// alert; nothing else fires.
	series := append(controller.promtoolSeries(map[string]string{"job": "ironlb-controller-metrics", "pod": "ironlb-controller-0", "container": "controller"}),
		speaker.promtoolSeries(map[string]string{"job": "ironlb-speaker-metrics", "pod": "ironlb-speaker-n1", "container": "speaker", "node": n1.Name})...)
	speakerLabels := map[string]string{"job": "ironlb-speaker-metrics", "pod": "ironlb-speaker-n1", "container": "speaker", "node": n1.Name}
	expect := map[string][]expAlert{
		"MetalLBBGPSessionDown": {{
			labels: with(speakerLabels, map[string]string{"severity": "critical", "peer": downPeer, "vrf": "default"}),
			annotations: map[string]string{
				"summary":     "BGP session down on ironlb-speaker-n1",
				"description": "ironlb-speaker-metrics - speaker on ironlb-speaker-n1 has BGP session " + downPeer + " down for more than 1 minute",
			},
		}},
		"IronLBBGPSessionDown": {{
			labels: with(speakerLabels, map[string]string{"severity": "critical", "peer": "router-v4", "vrf": ""}),
			annotations: map[string]string{
				"summary":     "BGP session to router-v4 down",
				"description": "The BGP session of node " + n1.Name + " (ironlb-speaker-n1) to BGPPeer router-v4 (VRF ) is not established for more than 2 minutes",
			},
		}},
	}
	for _, quiet := range []string{"MetalLBStaleConfig", "MetalLBConfigNotLoaded", "MetalLBAddressPoolExhausted", "MetalLBAddressPoolUsage75Percent", "IronLBConfigInvalid", "IronLBAllocationFailing", "IronLBFRRApplyFailing"} {
		expect[quiet] = nil
	}
	runPromtool(t, promtool, series, expect)
}

// ipsByPool counts the IPs in the Services' status by the pool the
// controller annotated them with.
func ipsByPool(ctx context.Context, l *lab.Lab) (map[string]float64, error) {
	var list corev1.ServiceList
	if err := l.Kube().List(ctx, &list); err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, svc := range list.Items {
		if pool := svc.Annotations["metallb.io/ip-allocated-from-pool"]; pool != "" {
			out[pool] += float64(len(svc.Status.LoadBalancer.Ingress))
		}
	}
	return out, nil
}

func controllerMetricsURL() string {
	return "http://" + net.JoinHostPort(lab.ControlPlaneIPv4, strconv.Itoa(lab.ControllerMetricsPort)) + "/metrics"
}

// speakerMetricsURL is a speaker's metrics endpoint, in its node's
// namespace.
const speakerMetricsURL = "http://127.0.0.1:7474/metrics"

// scraped is one scrape's samples of gauges and counters.
type scraped []scrapedSample

type scrapedSample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape reads a metrics endpoint from a namespace.
func scrape(ctx context.Context, netns, url string) (scraped, error) {
	body, err := lab.HTTPGet(ctx, netns, url)
	if err != nil {
		return nil, err
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", url, err)
	}
	var out scraped
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			var v float64
			switch f.GetType() {
			case dto.MetricType_GAUGE:
				v = m.GetGauge().GetValue()
			case dto.MetricType_COUNTER:
				v = m.GetCounter().GetValue()
			default:
				continue
			}
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			out = append(out, scrapedSample{name: name, labels: labels, value: v})
		}
	}
	return out, nil
}

type sampleWant struct {
	name   string
	labels map[string]string
	value  float64
}

// value returns the sample of name with exactly these labels.
func (s scraped) value(name string, labels map[string]string) (float64, bool) {
	for _, x := range s {
		if x.name == name && len(x.labels) == len(labels) && matches(x.labels, labels) {
			return x.value, true
		}
	}
	return 0, false
}

func matches(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// check reports whether every wanted sample is there with its value.
func (s scraped) check(want []sampleWant) (bool, string) {
	for _, w := range want {
		v, ok := s.value(w.name, w.labels)
		if !ok || v != w.value {
			return false, fmt.Sprintf("%s%v = %v (found %v), want %v; series %v", w.name, w.labels, v, ok, w.value, s.names(w.name))
		}
	}
	return true, ""
}

// bgpPeer returns the default VRF's sample of a MetalLB BGP metric for
// the router address: its peer label is "address:port".
func (s scraped) bgpPeer(name, addr string) (float64, bool) {
	for _, x := range s {
		if x.name != name || x.labels["vrf"] != "default" {
			continue
		}
		host, port, ok := cutLast(x.labels["peer"], ":")
		if _, err := strconv.Atoi(port); ok && err == nil && host == addr {
			return x.value, true
		}
	}
	return 0, false
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// names lists the label sets of a metric, for failure messages.
func (s scraped) names(name string) []string {
	var out []string
	for _, x := range s {
		if x.name == name {
			out = append(out, fmt.Sprintf("%v=%v", x.labels, x.value))
		}
	}
	slices.Sort(out)
	return out
}

// promtoolSeries turns the metallb_* and ironlb_* samples into promtool
// input series, with extra labels, constant over ten minutes.
func (s scraped) promtoolSeries(extra map[string]string) []map[string]string {
	var out []map[string]string
	for _, x := range s {
		if !strings.HasPrefix(x.name, "metallb_") && !strings.HasPrefix(x.name, "ironlb_") {
			continue
		}
		labels := with(x.labels, extra)
		keys := make([]string, 0, len(labels))
		for k := range labels {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%s", k, strconv.Quote(labels[k])))
		}
		v := strconv.FormatFloat(x.value, 'f', -1, 64)
		out = append(out, map[string]string{
			"series": x.name + "{" + strings.Join(parts, ",") + "}",
			"values": v + "+0x10",
		})
	}
	return out
}

// with returns a's labels with b's added.
func with(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// expAlert is an alert promtool is to find firing.
type expAlert struct{ labels, annotations map[string]string }

// runPromtool renders the chart's PrometheusRule (release ironlb) and
// runs `promtool test rules` over series, expecting at 5 minutes exactly
// these alerts (by name; nil: none).
func runPromtool(t *testing.T, promtool string, series []map[string]string, expect map[string][]expAlert) {
	t.Helper()
	helm := filepath.Join(repoRoot(t), "bin", "helm")
	out, err := exec.Command(helm, "template", "ironlb", filepath.Join(repoRoot(t), "charts", "ironlb"),
		"--namespace", lab.MetalLBNamespace, "--kube-version", "1.34.0",
		"--set", "prometheus.rules.enabled=true", "--show-only", "templates/prometheusrule.yaml").Output()
	if err != nil {
		t.Fatalf("helm template: %v", err)
	}
	var rule unstructured.Unstructured
	if err := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(string(out)), 4096).Decode(&rule.Object); err != nil {
		t.Fatal(err)
	}
	groups, _, err := unstructured.NestedSlice(rule.Object, "spec", "groups")
	if err != nil || len(groups) == 0 {
		t.Fatalf("no rule groups in the rendering (%v):\n%s", err, out)
	}
	var tests []map[string]any
	for _, name := range slices.Sorted(maps.Keys(expect)) {
		var alerts []map[string]any
		for _, a := range expect[name] {
			// An empty label is no label to Prometheus.
			maps.DeleteFunc(a.labels, func(_, v string) bool { return v == "" })
			alerts = append(alerts, map[string]any{"exp_labels": a.labels, "exp_annotations": a.annotations})
		}
		tests = append(tests, map[string]any{"eval_time": "5m", "alertname": name, "exp_alerts": alerts})
	}
	dir := t.TempDir()
	files := map[string]any{
		"rules.yaml": map[string]any{"groups": groups},
		"test.yaml": map[string]any{
			"rule_files":          []string{"rules.yaml"},
			"evaluation_interval": "1m",
			"tests":               []map[string]any{{"interval": "1m", "input_series": series, "alert_rule_test": tests}},
		},
	}
	for name, v := range files {
		b, err := yaml.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(promtool, "test", "rules", "test.yaml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool test rules over the lab's series: %v\n%s", err, out)
	}
}
