package speaker

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/frr/vtyshjson"
)

// sessionMetric is one metric the session poller exports from FRR's
// state: ironlb's own (peer is the BGPPeer's name, vrf empty for the
// default VRF, as in the SpeakerStatus) and MetalLB's (peer and vrf as
// MetalLB's FRR mode labels them: "IP:port" with FRR's portForeign for
// BGP, the IP for BFD, and FRR's VRF name, "default" for the default
// VRF).
type sessionMetric int

const (
	mSessionUp sessionMetric = iota
	mPrefixesAdvertised
	mPrefixesReceived
	mBFDUp
	mMetalLBSessionUp
	mMetalLBAnnouncedPrefixes
	mMetalLBBFDUp
	mMetalLBBFDControlIn
	mMetalLBBFDControlOut
	mMetalLBBFDEchoIn
	mMetalLBBFDEchoOut
	mMetalLBBFDUpEvents
	mMetalLBBFDDownEvents
	mMetalLBBFDZebra
	mMetalLBOpensSent
	mMetalLBOpensReceived
	mMetalLBNotificationsSent
	mMetalLBUpdatesSent
	mMetalLBUpdatesReceived
	mMetalLBKeepalivesSent
	mMetalLBKeepalivesReceived
	mMetalLBRouteRefreshSent
	mMetalLBTotalSent
	mMetalLBTotalReceived
	numSessionMetrics
)

var sessionMetricDefs = [numSessionMetrics]struct {
	name, help string
	typ        prometheus.ValueType
}{
	mSessionUp:                 {"ironlb_speaker_bgp_session_up", "1 when the BGP session to the peer is established.", prometheus.GaugeValue},
	mPrefixesAdvertised:        {"ironlb_speaker_bgp_prefixes_advertised", "Prefixes advertised to the peer.", prometheus.GaugeValue},
	mPrefixesReceived:          {"ironlb_speaker_bgp_prefixes_received", "Prefixes received from the peer and accepted.", prometheus.GaugeValue},
	mBFDUp:                     {"ironlb_speaker_bfd_session_up", "1 when the BFD session to the peer is up.", prometheus.GaugeValue},
	mMetalLBSessionUp:          {"metallb_bgp_session_up", "BGP session state (1 is up, 0 is down) (MetalLB's metric).", prometheus.GaugeValue},
	mMetalLBAnnouncedPrefixes:  {"metallb_bgp_announced_prefixes_total", "Number of prefixes currently being advertised on the BGP session (MetalLB's metric).", prometheus.GaugeValue},
	mMetalLBBFDUp:              {"metallb_bfd_session_up", "BFD session state (1 is up, 0 is down) (MetalLB's metric).", prometheus.GaugeValue},
	mMetalLBBFDControlIn:       {"metallb_bfd_control_packet_input", "Number of received BFD control packets (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBBFDControlOut:      {"metallb_bfd_control_packet_output", "Number of sent BFD control packets (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBBFDEchoIn:          {"metallb_bfd_echo_packet_input", "Number of received BFD echo packets (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBBFDEchoOut:         {"metallb_bfd_echo_packet_output", "Number of sent BFD echo packets (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBBFDUpEvents:        {"metallb_bfd_session_up_events", "Number of BFD session up events (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBBFDDownEvents:      {"metallb_bfd_session_down_events", "Number of BFD session down events (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBBFDZebra:           {"metallb_bfd_zebra_notifications", "Number of BFD zebra notifications (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBOpensSent:          {"metallb_bgp_opens_sent", "Number of BGP open messages sent (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBOpensReceived:      {"metallb_bgp_opens_received", "Number of BGP open messages received (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBNotificationsSent:  {"metallb_bgp_notifications_sent", "Number of BGP notification messages sent (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBUpdatesSent:        {"metallb_bgp_updates_total", "Number of BGP UPDATE messages sent (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBUpdatesReceived:    {"metallb_bgp_updates_total_received", "Number of BGP UPDATE messages received (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBKeepalivesSent:     {"metallb_bgp_keepalives_sent", "Number of BGP keepalive messages sent (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBKeepalivesReceived: {"metallb_bgp_keepalives_received", "Number of BGP keepalive messages received (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBRouteRefreshSent:   {"metallb_bgp_route_refresh_sent", "Number of BGP route refresh messages sent (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBTotalSent:          {"metallb_bgp_total_sent", "Number of total BGP messages sent (MetalLB's metric).", prometheus.CounterValue},
	mMetalLBTotalReceived:      {"metallb_bgp_total_received", "Number of total BGP messages received (MetalLB's metric).", prometheus.CounterValue},
}

// sample is one series of a session metric.
type sample struct {
	metric    sessionMetric
	peer, vrf string
	value     float64
}

// sessionSamples computes the session metrics from FRR's state, sorted
// by metric, VRF and peer. A label set that shows twice (two BFD
// sessions to one peer, single and multi hop) keeps its first sample.
func sessionSamples(st agent.Status) []sample {
	var out []sample
	add := func(m sessionMetric, peer, vrf string, v float64) {
		out = append(out, sample{metric: m, peer: peer, vrf: vrf, value: v})
	}
	// BGPPeer names of the neighbors, for the BFD sessions.
	names := map[string]string{}
	for _, n := range st.Sessions {
		name := peerName(n)
		names[frrVRF(n.VRF)+"|"+n.Address] = name
		vrf := vrfName(n.VRF)
		add(mSessionUp, name, vrf, bool01(n.Established()))
		add(mPrefixesAdvertised, name, vrf, float64(sent(n)))
		add(mPrefixesReceived, name, vrf, float64(received(n)))
		label := metallbPeerLabel(n)
		add(mMetalLBSessionUp, label, frrVRF(n.VRF), bool01(n.Established()))
		add(mMetalLBAnnouncedPrefixes, label, frrVRF(n.VRF), float64(sent(n)))
		m := n.Messages
		for metric, v := range map[sessionMetric]int64{
			mMetalLBOpensSent: m.OpensSent, mMetalLBOpensReceived: m.OpensReceived,
			mMetalLBNotificationsSent: m.NotificationsSent,
			mMetalLBUpdatesSent:       m.UpdatesSent, mMetalLBUpdatesReceived: m.UpdatesReceived,
			mMetalLBKeepalivesSent: m.KeepalivesSent, mMetalLBKeepalivesReceived: m.KeepalivesReceived,
			mMetalLBRouteRefreshSent: m.RouteRefreshSent,
			mMetalLBTotalSent:        n.MessagesSent, mMetalLBTotalReceived: n.MessagesReceived,
		} {
			add(metric, label, frrVRF(n.VRF), float64(v))
		}
	}
	for _, p := range st.BFDPeers {
		vrf := frrVRF(p.VRF)
		name, ok := names[vrf+"|"+p.Peer]
		if !ok {
			name = p.Peer
		}
		add(mBFDUp, name, vrfName(vrf), bool01(p.Up()))
		add(mMetalLBBFDUp, p.Peer, vrf, bool01(p.Up()))
	}
	for _, c := range st.BFDCounters {
		vrf := frrVRF(c.VRF)
		for m, v := range map[sessionMetric]int64{
			mMetalLBBFDControlIn: c.ControlPacketInput, mMetalLBBFDControlOut: c.ControlPacketOutput,
			mMetalLBBFDEchoIn: c.EchoPacketInput, mMetalLBBFDEchoOut: c.EchoPacketOutput,
			mMetalLBBFDUpEvents: c.SessionUp, mMetalLBBFDDownEvents: c.SessionDown,
			mMetalLBBFDZebra: c.ZebraNotifications,
		} {
			add(m, c.Peer, vrf, float64(v))
		}
	}
	slices.SortStableFunc(out, func(a, b sample) int {
		if a.metric != b.metric {
			return int(a.metric) - int(b.metric)
		}
		if c := strings.Compare(a.vrf, b.vrf); c != 0 {
			return c
		}
		return strings.Compare(a.peer, b.peer)
	})
	return slices.CompactFunc(out, func(a, b sample) bool {
		return a.metric == b.metric && a.vrf == b.vrf && a.peer == b.peer
	})
}

// peerName is the neighbor's BGPPeer name (its FRR description, which
// frr.Build writes), or its address when it has none.
func peerName(n vtyshjson.BGPNeighbor) string {
	if n.Description != "" {
		return n.Description
	}
	return n.Address
}

// metallbPeerLabel is MetalLB's peer label of a BGP session: the
// neighbor's address, a colon and FRR's portForeign (-1 when FRR has
// none, e.g. an Idle neighbor), IPv6 addresses without brackets.
func metallbPeerLabel(n vtyshjson.BGPNeighbor) string {
	return n.Address + ":" + strconv.FormatInt(n.ForeignPort, 10)
}

// frrVRF is the VRF as FRR names it: "default" for the default one.
func frrVRF(vrf string) string {
	if vrf == "" {
		return "default"
	}
	return vrf
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func received(n vtyshjson.BGPNeighbor) int64 {
	var total int64
	for _, af := range n.AddressFamilies {
		total += af.Accepted
	}
	return total
}

// sessionCollector serves the samples of the last poll.
type sessionCollector struct {
	descs [numSessionMetrics]*prometheus.Desc

	mu      sync.Mutex
	samples []sample
}

func newSessionCollector() *sessionCollector {
	c := &sessionCollector{}
	for m, d := range sessionMetricDefs {
		c.descs[m] = prometheus.NewDesc(d.name, d.help, []string{"peer", "vrf"}, nil)
	}
	return c
}

// set replaces the samples.
func (c *sessionCollector) set(s []sample) {
	c.mu.Lock()
	c.samples = s
	c.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (c *sessionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *sessionCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	samples := c.samples
	c.mu.Unlock()
	for _, s := range samples {
		ch <- prometheus.MustNewConstMetric(c.descs[s.metric], sessionMetricDefs[s.metric].typ, s.value, s.peer, s.vrf)
	}
}
