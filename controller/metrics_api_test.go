package controller_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ironlb/ironlb/api/v1beta1"
)

// TestMetalLBMetrics checks MetalLB's allocator and configuration series
// against a real API server: what a dashboard or alert written for
// MetalLB reads.
func TestMetalLBMetrics(t *testing.T) {
	cl := newCluster(t, false) // no webhook, so an invalid pool gets in
	cl.create(pool("a", "192.0.2.64/30"))
	cl.create(pool("v6", "2001:db8:5::/124"))
	cl.waitConfigState(v1beta1.ConfigurationStateResultValid, "")
	cl.create(service("default", "s1", withAnnotation("metallb.io/address-pool", "a")))
	cl.waitIngress("default", "s1", "192.0.2.64")

	cl.waitMetrics(`
# HELP metallb_allocator_addresses_in_use_total Number of IP addresses in use, per pool (MetalLB's metric).
# TYPE metallb_allocator_addresses_in_use_total gauge
metallb_allocator_addresses_in_use_total{pool="a"} 1
metallb_allocator_addresses_in_use_total{pool="v6"} 0
# HELP metallb_allocator_addresses_total Number of usable IP addresses, per pool (MetalLB's metric).
# TYPE metallb_allocator_addresses_total gauge
metallb_allocator_addresses_total{pool="a"} 4
metallb_allocator_addresses_total{pool="v6"} 16
# HELP metallb_k8s_client_config_loaded_bool 1 if the configuration was successfully loaded at least once (MetalLB's metric).
# TYPE metallb_k8s_client_config_loaded_bool gauge
metallb_k8s_client_config_loaded_bool 1
# HELP metallb_k8s_client_config_stale_bool 1 if running on a stale configuration, because the latest config failed to load (MetalLB's metric).
# TYPE metallb_k8s_client_config_stale_bool gauge
metallb_k8s_client_config_stale_bool 0
`)

	// An overlapping pool makes the configuration invalid: stale, still
	// loaded, the pools in force unchanged.
	cl.create(pool("b", "192.0.2.65/32"))
	cl.waitConfigState(v1beta1.ConfigurationStateResultInvalid, `IPAddressPool "b"`)
	cl.waitMetrics(`
# HELP metallb_k8s_client_config_loaded_bool 1 if the configuration was successfully loaded at least once (MetalLB's metric).
# TYPE metallb_k8s_client_config_loaded_bool gauge
metallb_k8s_client_config_loaded_bool 1
# HELP metallb_k8s_client_config_stale_bool 1 if running on a stale configuration, because the latest config failed to load (MetalLB's metric).
# TYPE metallb_k8s_client_config_stale_bool gauge
metallb_k8s_client_config_stale_bool 1
`)
	if err := cl.c.Delete(context.Background(), pool("b")); err != nil {
		t.Fatal(err)
	}
	cl.waitConfigState(v1beta1.ConfigurationStateResultValid, "")
	if err := cl.c.Delete(context.Background(), pool("v6")); err != nil {
		t.Fatal(err)
	}
	// A deleted pool's series go away.
	cl.waitMetrics(`
# HELP metallb_allocator_addresses_total Number of usable IP addresses, per pool (MetalLB's metric).
# TYPE metallb_allocator_addresses_total gauge
metallb_allocator_addresses_total{pool="a"} 4
# HELP metallb_k8s_client_config_stale_bool 1 if running on a stale configuration, because the latest config failed to load (MetalLB's metric).
# TYPE metallb_k8s_client_config_stale_bool gauge
metallb_k8s_client_config_stale_bool 0
`)
}

// waitMetrics waits until the controller's registry holds exactly the
// series of want, for the metric families want names.
func (cl *cluster) waitMetrics(want string) {
	cl.t.Helper()
	var names []string
	for _, line := range strings.Split(want, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "#" && f[1] == "TYPE" {
			names = append(names, f[2])
		}
	}
	cl.eventually("metrics "+strings.Join(names, ", "), func() (bool, string) {
		err := testutil.GatherAndCompare(cl.reg, strings.NewReader(want), names...)
		if err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}
