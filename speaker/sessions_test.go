package speaker

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/frr/vtyshjson"
)

func TestSessionsFrom(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	st := agent.Status{
		Sessions: []vtyshjson.BGPNeighbor{
			{Address: "192.0.2.1", Description: "router-v4", State: "Established", Uptime: 90 * time.Second, ConnectionsEstablished: 2,
				AddressFamilies: map[string]vtyshjson.AddressFamily{"ipv4Unicast": {Sent: 3, Accepted: 2}, "ipv6Unicast": {Accepted: 1}}},
			{Address: "2001:db8:0:1::1", Description: "router-v6", State: "Active", LastResetReason: "Waiting for peer OPEN"},
			{Address: "198.51.100.9", State: "Connect", LastNotification: "Cease/Administrative Shutdown"},
			{Address: "203.0.113.2", VRF: "red", Description: "router-red", State: "Established", AddressFamilies: map[string]vtyshjson.AddressFamily{"ipv4Unicast": {Sent: 1}}},
			// Unnumbered: FRR keys the neighbor by its interface, its BFD
			// session by the link-local address found there.
			{Address: "ul-rtr", Description: "router-unnumbered", State: "Established", Uptime: 90 * time.Second, ConnectionsEstablished: 1,
				AddressFamilies: map[string]vtyshjson.AddressFamily{"ipv4Unicast": {Sent: 1}, "ipv6Unicast": {Sent: 1}}},
		},
		BFDPeers: []vtyshjson.BFDPeer{
			{Peer: "192.0.2.1", VRF: "default", Status: "up"}, {Peer: "2001:db8:0:1::1", VRF: "default", Status: "down"},
			{Peer: "fe80::ff:fe00:102", Interface: "ul-rtr", VRF: "default", Status: "up"},
			{Peer: "203.0.113.2", VRF: "red", Status: "up"},
		},
	}
	since := metav1.NewTime(now.Add(-90 * time.Second))
	want := []v1beta1.BGPSession{
		{Peer: "198.51.100.9", Address: "198.51.100.9", State: "Connect", LastError: "Cease/Administrative Shutdown"},
		{Peer: "router-unnumbered", Address: "ul-rtr", State: "Established", Since: &since, EstablishedTransitions: 1, PrefixesSent: 2, BFD: "up"},
		{Peer: "router-v4", Address: "192.0.2.1", State: "Established", Since: &since, EstablishedTransitions: 2, PrefixesSent: 3, PrefixesReceived: 3, BFD: "up"},
		{Peer: "router-v6", Address: "2001:db8:0:1::1", State: "Active", BFD: "down", LastError: "Waiting for peer OPEN"},
		{Peer: "router-red", Address: "203.0.113.2", VRF: "red", State: "Established", PrefixesSent: 1, BFD: "up"},
	}
	if diff := cmp.Diff(want, sessionsFrom(st, now)); diff != "" {
		t.Errorf("sessionsFrom() (-want +got):\n%s", diff)
	}
}
