package controller_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestLBClassServesOnlyItsClass runs the controller with --lb-class: as
// in MetalLB, it allocates only for Services of exactly that class, and
// leaves those without a class to the cluster's other load balancer.
func TestLBClassServesOnlyItsClass(t *testing.T) {
	cl := newCluster(t, false)
	cl.stopController()
	cl.lbClass = "ironlb.io/lb"
	cl.startController()
	cl.create(pool("pool", "192.0.2.20-192.0.2.29"))

	ours, other := "ironlb.io/lb", "other.io/lb"
	withClass := func(c *string) func(*corev1.Service) {
		return func(s *corev1.Service) { s.Spec.LoadBalancerClass = c }
	}
	// The Services are created in this order and the controller works
	// its queue in order with one worker: once the last one has its IP,
	// the controller has seen the first two.
	cl.create(service("default", "classless"))
	cl.create(service("default", "foreign", withClass(&other)))
	cl.create(service("default", "ours", withClass(&ours)))
	cl.eventually("service default/ours to get an IP", func() (bool, string) {
		got, _ := cl.ingress("default", "ours")
		return got != "", got
	})
	for _, name := range []string{"classless", "foreign"} {
		if got, pool := cl.ingress("default", name); got != "" || pool != "" {
			t.Errorf("service default/%s got IPs %q (pool %q); want none under --lb-class %s", name, got, pool, ours)
		}
	}
}
