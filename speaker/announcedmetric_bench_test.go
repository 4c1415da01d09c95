package speaker

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/state"
)

// BenchmarkAnnouncedMetric is what every BGP reconcile of a speaker
// announcing 10,000 Services spends on metallb_speaker_announced when
// nothing changed.
func BenchmarkAnnouncedMetric(b *testing.B) {
	const n = 10_000
	c := &state.Cluster{}
	announced := make([]frr.ServicePeers, 0, n)
	for i := range n {
		s := state.Service{Namespace: "ns", Name: fmt.Sprintf("svc-%05d", i),
			IPs: []netip.Addr{netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})}}
		c.Services = append(c.Services, s)
		announced = append(announced, frr.ServicePeers{Service: s.Key(), Peers: []string{"r1"}})
	}
	g := newAnnouncedGauge("node-1")
	g.set(protocolBGP, bgpAnnouncements(c, announced))
	b.ReportAllocs()
	for b.Loop() {
		g.set(protocolBGP, bgpAnnouncements(c, announced))
	}
}
