package speaker

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/state"
)

// ann is an announcement with its IP written as text.
func ann(service, protocol, ip string) announcement {
	return announcement{service: service, protocol: protocol, ip: netip.MustParseAddr(ip)}
}

func TestAnnouncements(t *testing.T) {
	cluster := &state.Cluster{Services: []state.Service{
		{Namespace: "default", Name: "dual", IPs: []netip.Addr{netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("2001:db8::10")}},
		{Namespace: "default", Name: "l2", IPs: []netip.Addr{netip.MustParseAddr("192.0.2.20")}},
		{Namespace: "team-a", Name: "other", IPs: []netip.Addr{netip.MustParseAddr("192.0.2.30")}},
	}}
	for _, tc := range []struct {
		name string
		got  []announcement
		want []announcement
	}{
		{name: "bgp: every IP of the Services announced",
			got:  bgpAnnouncements(cluster, []frr.ServicePeers{{Service: "default/dual", Peers: []string{"r1"}}}),
			want: []announcement{ann("default/dual", "bgp", "192.0.2.10"), ann("default/dual", "bgp", "2001:db8::10")}},
		{name: "bgp: an announced Service the cluster lost gives nothing",
			got: bgpAnnouncements(cluster, []frr.ServicePeers{{Service: "default/gone"}})},
		{name: "bgp: no cluster", got: bgpAnnouncements(nil, []frr.ServicePeers{{Service: "default/dual"}})},
		{name: "layer2: the owned Services",
			got:  l2Announcements(cluster, map[serviceRef]bool{{Namespace: "default", Name: "l2"}: true}),
			want: []announcement{ann("default/l2", "layer2", "192.0.2.20")}},
		{name: "layer2: nothing owned", got: l2Announcements(cluster, nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.got, cmp.AllowUnexported(announcement{}), cmp.Comparer(func(a, b netip.Addr) bool { return a == b }), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnnouncedGaugeReplacesPerProtocol(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	g := newAnnouncedGauge("node-1")
	reg.MustRegister(g.vec)
	g.set(protocolBGP, []announcement{ann("default/a", "bgp", "192.0.2.1"), ann("default/b", "bgp", "192.0.2.2")})
	g.set(protocolLayer2, []announcement{ann("default/c", "layer2", "192.0.2.3")})
	g.set(protocolBGP, []announcement{ann("default/b", "bgp", "192.0.2.2")})
	want := `
# HELP metallb_speaker_announced Services being announced from this node. This is desired state, it does not guarantee that the routing protocols have converged (MetalLB's metric).
# TYPE metallb_speaker_announced gauge
metallb_speaker_announced{ip="192.0.2.2",node="node-1",protocol="bgp",service="default/b"} 1
metallb_speaker_announced{ip="192.0.2.3",node="node-1",protocol="layer2",service="default/c"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "metallb_speaker_announced"); err != nil {
		t.Error(err)
	}
}
