package speaker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/frr/apply"
	"github.com/ironlb/ironlb/state"
)

// listReader answers List of FRRConfigurations with fixed objects, as
// the speaker's cache does (values of the cached objects, no deep copy),
// and Get of Secrets from secrets (by name).
type listReader struct {
	items   []frrk8s.FRRConfiguration
	secrets map[string]*corev1.Secret
}

func (r listReader) Get(_ context.Context, key client.ObjectKey, o client.Object, _ ...client.GetOption) error {
	s, ok := r.secrets[key.Name]
	if !ok {
		return apierrors.NewNotFound(corev1.Resource("secrets"), key.Name)
	}
	*o.(*corev1.Secret) = *s
	return nil
}

func (r listReader) List(_ context.Context, l client.ObjectList, _ ...client.ListOption) error {
	l.(*frrk8s.FRRConfigurationList).Items = r.items
	return nil
}

// benchOwn is ironlb's frr.Config of a node announcing n Service
// prefixes to one peer.
func benchOwn(n int) *frr.Config {
	c := &frr.Config{
		Hostname: "n1", LogLevel: "informational",
		Routers: []frr.Router{{
			ASN: 64512, RouterID: "192.0.2.10",
			Neighbors:       []frr.Neighbor{{Peer: "router", Address: "192.0.2.1", RemoteAS: "64500"}},
			AddressFamilies: []frr.AddressFamily{{Name: "ipv4 unicast", Neighbors: []frr.AFNeighbor{{Address: "192.0.2.1", RouteMapIn: "ironlb-in", RouteMapOut: "ironlb-out-router"}}}},
		}},
		RouteMaps: []frr.RouteMap{
			{Name: "ironlb-in", Entries: []frr.RouteMapEntry{{Action: "deny", Seq: 1}}},
			{Name: "class-1", Entries: []frr.RouteMapEntry{{Action: "permit", Seq: 1, SetTag: 1}}},
			{Name: "ironlb-out-router", Entries: []frr.RouteMapEntry{{Action: "permit", Seq: 1, MatchTag: 1}, {Action: "deny", Seq: 65535}}},
		},
	}
	af := &c.Routers[0].AddressFamilies[0]
	for i := range n {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		af.Networks = append(af.Networks, frr.Network{Prefix: netip.PrefixFrom(a, 32), RouteMap: "class-1"})
	}
	return c
}

// benchFRRConfigurations returns k FRRConfigurations that each receive a
// prefix from the node's peer and add a neighbor; rack is their node
// selector's label value.
func benchFRRConfigurations(b *testing.B, k int, rack string) []frrk8s.FRRConfiguration {
	var out []frrk8s.FRRConfiguration
	for i := range k {
		spec := fmt.Sprintf(`
nodeSelector: {matchLabels: {rack: %s}}
bgp:
  routers:
  - asn: 64512
    prefixes: [172.16.%d.0/24]
    neighbors:
    - address: 192.0.2.1
      asn: 64500
      toAdvertise: {allowed: {prefixes: [172.16.%d.0/24]}}
      toReceive: {allowed: {prefixes: [{prefix: 198.51.%d.0/24, le: 32}]}}
    - address: 198.18.%d.1
      asn: 65000
`, rack, i, i, i, i)
		c := frrk8s.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("cfg-%03d", i)}}
		if err := yaml.UnmarshalStrict([]byte(spec), &c.Spec); err != nil {
			b.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// BenchmarkNodeRouterRender is the speaker's step from ironlb's frr.Config
// of a node with 10,000 Service prefixes to the frr.conf text, per
// reconcile: without the node router (as before it), with it and no
// FRRConfiguration, with 100 FRRConfigurations for other nodes, and with
// 100 that select the node (merged and translated on every reconcile).
func BenchmarkNodeRouterRender(b *testing.B) {
	own := benchOwn(10000)
	renderer, err := frr.NewRenderer()
	if err != nil {
		b.Fatal(err)
	}
	cluster := &state.Cluster{Nodes: []state.Node{{Name: "n1", Labels: labels.Set{"rack": "a"}}}}
	cases := []struct {
		name   string
		router *nodeRouter
	}{
		{name: "router=off"},
		{name: "router=on,configs=0", router: &nodeRouter{reader: listReader{}, namespace: "ns"}},
		{name: "router=on,configs=100-other-nodes", router: &nodeRouter{reader: listReader{items: benchFRRConfigurations(b, 100, "b")}, namespace: "ns"}},
		{name: "router=on,configs=100-selecting", router: &nodeRouter{reader: listReader{items: benchFRRConfigurations(b, 100, "a")}, namespace: "ns"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := &reconciler{cfg: Config{NodeName: "n1"}, router: c.router, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			b.ReportAllocs()
			for b.Loop() {
				fc, err := r.route(b.Context(), cluster, own, frr.PhaseNormal)
				if err != nil {
					b.Fatal(err)
				}
				r.text.Reset()
				if err := renderer.Write(&r.text, fc); err != nil {
					b.Fatal(err)
				}
				// the FRRNodeState's copy of the text sent
				r.recordRouterApply(apply.Result{}, nil)
			}
			b.ReportMetric(float64(r.text.Len()), "bytes")
		})
	}
}
