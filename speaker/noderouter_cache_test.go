package speaker_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/internal/testenv"
)

// TestNodeRouterFollowsUpdates changes an FRRConfiguration in place,
// then ironlb's Services, against a real API server: the speaker merges
// through a noderouter.Cache that keeps the converted inputs between
// reconciles, and must take the object's new version (same UID, new
// resourceVersion) and ironlb's new announcements.
func TestNodeRouterFollowsUpdates(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	c := env.Client
	create := seedBGP(t, c, map[string]string{"rack": "a"})
	announceService(t, c, "web", "203.0.113.5")
	frr := startSpeaker(t, env, withNodeRouter)
	create(frrConfiguration(t, "extra", `
nodeSelector: {matchLabels: {rack: a}}
bgp:
  routers:
  - asn: 64512
    prefixes: [198.51.100.0/24]
    neighbors:
    - address: 192.0.2.1
      asn: 64500
      toAdvertise: {allowed: {mode: all}}
`))
	testenv.Eventually(t, "the FRRConfiguration merged", func() (bool, string) {
		last := frr.last()
		return strings.Contains(last, "network 198.51.100.0/24") && strings.Contains(last, "network 203.0.113.5/32"), last
	})

	var cur frrk8s.FRRConfiguration
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "extra"}, &cur); err != nil {
		t.Fatal(err)
	}
	cur.Spec.BGP.Routers[0].Prefixes = []string{"198.51.100.64/26"}
	if err := c.Update(ctx, &cur); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the updated FRRConfiguration merged", func() (bool, string) {
		last := frr.last()
		return strings.Contains(last, "network 198.51.100.64/26") && !strings.Contains(last, "network 198.51.100.0/24"), last
	})

	// A new Service: ironlb's own config changes, the object does not.
	announceService(t, c, "api", "203.0.113.6")
	testenv.Eventually(t, "the new Service announced with the FRRConfiguration", func() (bool, string) {
		last := frr.last()
		return strings.Contains(last, "network 203.0.113.6/32") && strings.Contains(last, "network 198.51.100.64/26"), last
	})
}
