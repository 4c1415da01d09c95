package controller

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ironlb/ironlb/ipam"
)

func TestMetalLBPoolCounts(t *testing.T) {
	for _, tc := range []struct {
		name      string
		usage     ipam.Usage
		wantInUse float64
		wantTotal float64
	}{
		{name: "empty pool of four", usage: ipam.Usage{IPv4: ipam.FamilyUsage{Available: 4}}, wantTotal: 4},
		{name: "half used", usage: ipam.Usage{IPv4: ipam.FamilyUsage{Assigned: 2, Available: 2}}, wantInUse: 2, wantTotal: 4},
		{name: "exhausted", usage: ipam.Usage{IPv4: ipam.FamilyUsage{Assigned: 4}}, wantInUse: 4, wantTotal: 4},
		{name: "dual stack adds both families", usage: ipam.Usage{IPv4: ipam.FamilyUsage{Assigned: 1, Available: 3}, IPv6: ipam.FamilyUsage{Assigned: 1, Available: 255}}, wantInUse: 2, wantTotal: 260},
		{name: "huge IPv6 pool saturates", usage: ipam.Usage{IPv6: ipam.FamilyUsage{Assigned: 1, Available: math.MaxInt64}}, wantInUse: 1, wantTotal: 1 + math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inUse, total := metallbPoolCounts(tc.usage)
			if diff := cmp.Diff([2]float64{tc.wantInUse, tc.wantTotal}, [2]float64{inUse, total}); diff != "" {
				t.Errorf("metallbPoolCounts() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConfigResultMetrics(t *testing.T) {
	for _, tc := range []struct {
		name    string
		results []bool
		want    string
	}{
		{name: "nothing loaded yet", want: gauges(0, 0, 0)},
		{name: "first config invalid", results: []bool{false}, want: gauges(0, 1, 0)},
		{name: "valid", results: []bool{true}, want: gauges(1, 0, 1)},
		{name: "valid then invalid: loaded stays, stale", results: []bool{true, false}, want: gauges(1, 1, 0)},
		{name: "invalid then fixed", results: []bool{true, false, true}, want: gauges(1, 0, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			m, err := newMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range tc.results {
				m.configResult(r)
			}
			err = testutil.GatherAndCompare(reg, strings.NewReader(tc.want),
				"metallb_k8s_client_config_loaded_bool", "metallb_k8s_client_config_stale_bool", "ironlb_config_valid")
			if err != nil {
				t.Error(err)
			}
		})
	}
}

func gauges(loaded, stale, valid int) string {
	return strings.NewReplacer("LOADED", itoa(loaded), "STALE", itoa(stale), "VALID", itoa(valid)).Replace(`
# HELP ironlb_config_valid 1 when the last configuration seen was valid, 0 when the controller runs on an older one.
# TYPE ironlb_config_valid gauge
ironlb_config_valid VALID
# HELP metallb_k8s_client_config_loaded_bool 1 if the configuration was successfully loaded at least once (MetalLB's metric).
# TYPE metallb_k8s_client_config_loaded_bool gauge
metallb_k8s_client_config_loaded_bool LOADED
# HELP metallb_k8s_client_config_stale_bool 1 if running on a stale configuration, because the latest config failed to load (MetalLB's metric).
# TYPE metallb_k8s_client_config_stale_bool gauge
metallb_k8s_client_config_stale_bool STALE
`)
}

func itoa(v int) string { return string(rune('0' + v)) }

func TestPoolUsageMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.poolUsage("a", ipam.Usage{IPv4: ipam.FamilyUsage{Assigned: 3, Available: 1}})
	m.poolUsage("b", ipam.Usage{IPv6: ipam.FamilyUsage{Assigned: 1, Available: 15}})
	m.poolUsage("gone", ipam.Usage{IPv4: ipam.FamilyUsage{Available: 1}})
	m.forgetPool("gone")
	want := `
# HELP metallb_allocator_addresses_in_use_total Number of IP addresses in use, per pool (MetalLB's metric).
# TYPE metallb_allocator_addresses_in_use_total gauge
metallb_allocator_addresses_in_use_total{pool="a"} 3
metallb_allocator_addresses_in_use_total{pool="b"} 1
# HELP metallb_allocator_addresses_total Number of usable IP addresses, per pool (MetalLB's metric).
# TYPE metallb_allocator_addresses_total gauge
metallb_allocator_addresses_total{pool="a"} 4
metallb_allocator_addresses_total{pool="b"} 16
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "metallb_allocator_addresses_in_use_total", "metallb_allocator_addresses_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(m.poolAddrs); n != 8 {
		t.Errorf("ironlb_pool_addresses has %d series, want 8 (two pools, two families, two states)", n)
	}
}
