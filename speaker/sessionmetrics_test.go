package speaker

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/frr/vtyshjson"
)

// fixtureStatus is the agent's status of the FRR 8.4 outputs captured
// in frr/vtyshjson/testdata (TestCaptureVRFFixtures): a session up in
// the default VRF with BFD, and one down in VRF red.
func fixtureStatus(t *testing.T) agent.Status {
	t.Helper()
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("..", "frr", "vtyshjson", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	var st agent.Status
	var err error
	if st.Sessions, err = vtyshjson.ParseBGPNeighborsAllVRFs(read("bgp_vrf_all_neighbors_speaker.json")); err != nil {
		t.Fatal(err)
	}
	if st.BFDPeers, err = vtyshjson.ParseBFDPeers(read("bfd_peers_vrf_speaker.json")); err != nil {
		t.Fatal(err)
	}
	if st.BFDCounters, err = vtyshjson.ParseBFDCounters(read("bfd_counters_speaker.json")); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSessionMetrics(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  func(t *testing.T) agent.Status
		metrics []string
		want    string
	}{
		{
			name:   "real FRR: default VRF up with BFD, VRF red down",
			status: fixtureStatus,
			metrics: []string{"ironlb_speaker_bgp_session_up", "ironlb_speaker_bgp_prefixes_received", "ironlb_speaker_bfd_session_up",
				"metallb_bgp_session_up", "metallb_bgp_announced_prefixes_total", "metallb_bfd_session_up",
				"metallb_bfd_session_up_events", "metallb_bfd_session_down_events",
				"metallb_bgp_updates_total", "metallb_bgp_opens_sent", "metallb_bgp_total_received"},
			want: `
# HELP ironlb_speaker_bfd_session_up 1 when the BFD session to the peer is up.
# TYPE ironlb_speaker_bfd_session_up gauge
ironlb_speaker_bfd_session_up{peer="router-default",vrf=""} 1
# HELP ironlb_speaker_bgp_prefixes_received Prefixes received from the peer and accepted.
# TYPE ironlb_speaker_bgp_prefixes_received gauge
ironlb_speaker_bgp_prefixes_received{peer="router-default",vrf=""} 1
ironlb_speaker_bgp_prefixes_received{peer="router-red",vrf="red"} 0
# HELP ironlb_speaker_bgp_session_up 1 when the BGP session to the peer is established.
# TYPE ironlb_speaker_bgp_session_up gauge
ironlb_speaker_bgp_session_up{peer="router-default",vrf=""} 1
ironlb_speaker_bgp_session_up{peer="router-red",vrf="red"} 0
# HELP metallb_bfd_session_down_events Number of BFD session down events (MetalLB's metric).
# TYPE metallb_bfd_session_down_events counter
metallb_bfd_session_down_events{peer="192.0.2.2",vrf="default"} 1
# HELP metallb_bfd_session_up BFD session state (1 is up, 0 is down) (MetalLB's metric).
# TYPE metallb_bfd_session_up gauge
metallb_bfd_session_up{peer="192.0.2.2",vrf="default"} 1
# HELP metallb_bfd_session_up_events Number of BFD session up events (MetalLB's metric).
# TYPE metallb_bfd_session_up_events counter
metallb_bfd_session_up_events{peer="192.0.2.2",vrf="default"} 1
# HELP metallb_bgp_announced_prefixes_total Number of prefixes currently being advertised on the BGP session (MetalLB's metric).
# TYPE metallb_bgp_announced_prefixes_total gauge
metallb_bgp_announced_prefixes_total{peer="192.0.2.2:44174",vrf="default"} 2
metallb_bgp_announced_prefixes_total{peer="203.0.113.2:-1",vrf="red"} 0
# HELP metallb_bgp_opens_sent Number of BGP open messages sent (MetalLB's metric).
# TYPE metallb_bgp_opens_sent counter
metallb_bgp_opens_sent{peer="192.0.2.2:44174",vrf="default"} 5
metallb_bgp_opens_sent{peer="203.0.113.2:-1",vrf="red"} 0
# HELP metallb_bgp_session_up BGP session state (1 is up, 0 is down) (MetalLB's metric).
# TYPE metallb_bgp_session_up gauge
metallb_bgp_session_up{peer="192.0.2.2:44174",vrf="default"} 1
metallb_bgp_session_up{peer="203.0.113.2:-1",vrf="red"} 0
# HELP metallb_bgp_total_received Number of total BGP messages received (MetalLB's metric).
# TYPE metallb_bgp_total_received counter
metallb_bgp_total_received{peer="192.0.2.2:44174",vrf="default"} 20
metallb_bgp_total_received{peer="203.0.113.2:-1",vrf="red"} 0
# HELP metallb_bgp_updates_total Number of BGP UPDATE messages sent (MetalLB's metric).
# TYPE metallb_bgp_updates_total counter
metallb_bgp_updates_total{peer="192.0.2.2:44174",vrf="default"} 6
metallb_bgp_updates_total{peer="203.0.113.2:-1",vrf="red"} 0
`,
		},
		{
			name: "IPv6 peer without description, BFD down in a VRF",
			status: func(*testing.T) agent.Status {
				return agent.Status{
					Sessions: []vtyshjson.BGPNeighbor{{Address: "2001:db8::1", VRF: "blue", State: "Established", ForeignPort: 179,
						AddressFamilies: map[string]vtyshjson.AddressFamily{"ipv6Unicast": {Accepted: 2, Sent: 3}, "ipv4Unicast": {Sent: 1}}}},
					BFDPeers: []vtyshjson.BFDPeer{{Peer: "2001:db8::1", VRF: "blue", Status: "down"}, {Peer: "2001:db8::1", VRF: "blue", Multihop: true, Status: "up"}},
				}
			},
			metrics: []string{"ironlb_speaker_bgp_prefixes_advertised", "ironlb_speaker_bgp_prefixes_received", "ironlb_speaker_bfd_session_up", "metallb_bgp_session_up", "metallb_bfd_session_up"},
			want: `
# HELP ironlb_speaker_bfd_session_up 1 when the BFD session to the peer is up.
# TYPE ironlb_speaker_bfd_session_up gauge
ironlb_speaker_bfd_session_up{peer="2001:db8::1",vrf="blue"} 0
# HELP ironlb_speaker_bgp_prefixes_advertised Prefixes advertised to the peer.
# TYPE ironlb_speaker_bgp_prefixes_advertised gauge
ironlb_speaker_bgp_prefixes_advertised{peer="2001:db8::1",vrf="blue"} 4
# HELP ironlb_speaker_bgp_prefixes_received Prefixes received from the peer and accepted.
# TYPE ironlb_speaker_bgp_prefixes_received gauge
ironlb_speaker_bgp_prefixes_received{peer="2001:db8::1",vrf="blue"} 2
# HELP metallb_bfd_session_up BFD session state (1 is up, 0 is down) (MetalLB's metric).
# TYPE metallb_bfd_session_up gauge
metallb_bfd_session_up{peer="2001:db8::1",vrf="blue"} 0
# HELP metallb_bgp_session_up BGP session state (1 is up, 0 is down) (MetalLB's metric).
# TYPE metallb_bgp_session_up gauge
metallb_bgp_session_up{peer="2001:db8::1:179",vrf="blue"} 1
`,
		},
		{
			name:    "nothing configured",
			status:  func(*testing.T) agent.Status { return agent.Status{} },
			metrics: []string{"metallb_bgp_session_up", "ironlb_speaker_bgp_session_up"},
			want:    ``,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			c := newSessionCollector()
			if err := reg.Register(c); err != nil {
				t.Fatal(err)
			}
			c.set(sessionSamples(tc.status(t)))
			if err := testutil.GatherAndCompare(reg, strings.NewReader(tc.want), tc.metrics...); err != nil {
				t.Error(err)
			}
		})
	}
}
