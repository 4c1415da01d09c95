package frr

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/state"
)

func TestBuildRouters(t *testing.T) {
	af := func(name string, addrs ...string) AddressFamily {
		a := AddressFamily{Name: name}
		for _, ad := range addrs {
			a.Neighbors = append(a.Neighbors, AFNeighbor{Address: ad, RouteMapIn: "ironlb-in", RouteMapOut: map[string]string{
				"192.0.2.1": "ironlb-out-a", "192.0.2.2": "ironlb-out-b", "2001:db8::3": "ironlb-out-c", "192.0.2.9": "ironlb-out-red",
			}[ad]})
		}
		return a
	}
	tests := []struct {
		name  string
		peers []config.Peer
		opts  BuildOptions
		want  []Router
	}{
		{
			name: "remote AS forms, sorted by address",
			peers: []config.Peer{
				mkPeer("c", "2001:db8::3", 64512, 64513),
				mkPeer("b", "192.0.2.2", 64512, 0, func(p *config.Peer) { p.DynamicASN = "external" }),
				mkPeer("a", "192.0.2.1", 64512, 0, func(p *config.Peer) { p.DynamicASN = "internal" }),
			},
			want: []Router{{
				ASN: 64512,
				Neighbors: []Neighbor{
					{Peer: "a", Address: "192.0.2.1", RemoteAS: "internal"},
					{Peer: "b", Address: "192.0.2.2", RemoteAS: "external"},
					{Peer: "c", Address: "2001:db8::3", RemoteAS: "64513", DisableConnectedCheck: true},
				},
				AddressFamilies: []AddressFamily{af("ipv4 unicast", "192.0.2.1", "192.0.2.2"), af("ipv6 unicast", "2001:db8::3")},
			}},
		},
		{
			name: "session options; the default port is left out",
			peers: []config.Peer{
				mkPeer("a", "192.0.2.1", 64512, 64513, func(p *config.Peer) {
					p.Port, p.EBGPMultiHop, p.SourceAddress = 1179, true, addr("192.0.2.100")
					p.HoldTime, p.KeepaliveTime, p.ConnectTime = dur("90s"), dur("30s"), dur("5s")
					p.Password = config.NewPassword("pw")
					p.BFDProfile = &config.BFDProfile{Name: "fast"}
				}),
				mkPeer("b", "192.0.2.2", 64512, 64513, func(p *config.Peer) { p.HoldTime, p.KeepaliveTime = dur("0s"), dur("0s") }),
			},
			want: []Router{{
				ASN: 64512,
				Neighbors: []Neighbor{
					{
						Peer: "a", Address: "192.0.2.1", RemoteAS: "64513", Port: 1179, EBGPMultiHop: true, UpdateSource: "192.0.2.100",
						Timers: &Timers{Keepalive: 30, Hold: 90}, ConnectTime: 5, Password: config.NewPassword("pw"), BFD: true, BFDProfile: "fast",
					},
					{Peer: "b", Address: "192.0.2.2", RemoteAS: "64513", Timers: &Timers{}},
				},
				AddressFamilies: []AddressFamily{af("ipv4 unicast", "192.0.2.1", "192.0.2.2")},
			}},
		},
		{
			name: "graceful restart for every neighbor is set on the router",
			peers: []config.Peer{
				mkPeer("a", "192.0.2.1", 64512, 64513, func(p *config.Peer) { p.EnableGracefulRestart = true }),
				mkPeer("b", "192.0.2.2", 64512, 64513, func(p *config.Peer) { p.EnableGracefulRestart = true }),
				mkPeer("red", "192.0.2.9", 64600, 64513, func(p *config.Peer) { p.VRF = "red" }),
			},
			want: []Router{
				{
					ASN: 64512, GracefulRestart: true, PreserveForwardingState: true,
					Neighbors: []Neighbor{
						{Peer: "a", Address: "192.0.2.1", RemoteAS: "64513"},
						{Peer: "b", Address: "192.0.2.2", RemoteAS: "64513"},
					},
					AddressFamilies: []AddressFamily{af("ipv4 unicast", "192.0.2.1", "192.0.2.2")},
				},
				{
					ASN: 64600, VRF: "red",
					Neighbors:       []Neighbor{{Peer: "red", Address: "192.0.2.9", RemoteAS: "64513"}},
					AddressFamilies: []AddressFamily{af("ipv4 unicast", "192.0.2.9")},
				},
			},
		},
		{
			name: "graceful restart for some neighbors is set on them",
			peers: []config.Peer{
				mkPeer("a", "192.0.2.1", 64512, 64513, func(p *config.Peer) { p.EnableGracefulRestart = true }),
				mkPeer("b", "192.0.2.2", 64512, 64513),
			},
			want: []Router{{
				ASN: 64512, PreserveForwardingState: true,
				Neighbors: []Neighbor{
					{Peer: "a", Address: "192.0.2.1", RemoteAS: "64513", GracefulRestart: true},
					{Peer: "b", Address: "192.0.2.2", RemoteAS: "64513"},
				},
				AddressFamilies: []AddressFamily{af("ipv4 unicast", "192.0.2.1", "192.0.2.2")},
			}},
		},
		{
			name: "router ID: a peer's wins over the node's; dual stack activates both families",
			peers: []config.Peer{
				mkPeer("a", "192.0.2.1", 64512, 64513, func(p *config.Peer) { p.DualStackAddressFamily = true }),
				mkPeer("red", "192.0.2.9", 64600, 64513, func(p *config.Peer) { p.VRF, p.RouterID = "red", addr("192.0.2.99") }),
			},
			opts: BuildOptions{RouterID: addr("192.0.2.50")},
			want: []Router{
				{
					ASN: 64512, RouterID: "192.0.2.50",
					Neighbors:       []Neighbor{{Peer: "a", Address: "192.0.2.1", RemoteAS: "64513"}},
					AddressFamilies: []AddressFamily{af("ipv4 unicast", "192.0.2.1"), af("ipv6 unicast", "192.0.2.1")},
				},
				{
					ASN: 64600, VRF: "red", RouterID: "192.0.2.99",
					Neighbors:       []Neighbor{{Peer: "red", Address: "192.0.2.9", RemoteAS: "64513"}},
					AddressFamilies: []AddressFamily{af("ipv4 unicast", "192.0.2.9")},
				},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Build(cluster(&config.Model{Peers: tc.peers}), node1, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, cfg.Routers, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("routers (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildRouteMaps(t *testing.T) {
	in := RouteMap{Name: "ironlb-in", Entries: []RouteMapEntry{{Action: "deny", Seq: 1}}}
	origin := func(name string, tag uint32) RouteMap {
		return RouteMap{Name: name, Entries: []RouteMapEntry{{Action: "permit", Seq: 1, SetTag: tag}}}
	}
	deny := RouteMapEntry{Action: "deny", Seq: 65535}
	twoAdvs := func(t testing.TB, m *config.Model) {
		m.BGPAdvertisements = []config.BGPAdvertisement{
			mkAdv("all", []string{"pool-a"}, func(a *config.BGPAdvertisement) {
				a.LocalPref = 300
				a.Communities = []config.Community{community(t, "65000:2"), community(t, "65535:65281"), community(t, "large:1:2:3")}
			}),
			mkAdv("rr-only", []string{"pool-a"}, func(a *config.BGPAdvertisement) {
				a.Peers = []string{"rr"}
				a.Communities = []config.Community{community(t, "65000:1"), community(t, "65000:2"), community(t, "large:1:1:1")}
			}),
			mkAdv("summary", []string{"pool-a", "pool-b"}, func(a *config.BGPAdvertisement) {
				a.AggregationLength = 24
				a.Communities = []config.Community{community(t, "0:0")}
			}),
		}
	}
	tests := []struct {
		name  string
		model func(testing.TB, *config.Model)
		nodes func([]state.Node)
		opts  BuildOptions
		want  []RouteMap
	}{
		{
			// summary aggregates IPv4 only, so for IPv6 all three
			// advertisements make the same /128 routes: a class of its own.
			name:  "classes, communities and local preference",
			model: twoAdvs,
			want: func() []RouteMap {
				rr1 := RouteMapEntry{
					Action: "permit", Seq: 1, MatchTag: 1, SetLocalPref: true, LocalPref: 300,
					Communities: []string{"65000:1", "65000:2", "no-export"}, LargeCommunities: []string{"1:1:1", "1:2:3"},
				}
				rr2 := rr1
				rr2.Seq, rr2.MatchTag, rr2.Communities = 2, 2, []string{"internet", "65000:1", "65000:2", "no-export"}
				tor1 := RouteMapEntry{Action: "permit", Seq: 1, MatchTag: 1, Communities: []string{"65000:2", "no-export"}, LargeCommunities: []string{"1:2:3"}}
				tor2 := tor1
				tor2.Seq, tor2.MatchTag, tor2.Communities = 2, 2, []string{"internet", "65000:2", "no-export"}
				summary := RouteMapEntry{Action: "permit", Seq: 3, MatchTag: 3, Communities: []string{"internet"}}
				return []RouteMap{
					in,
					origin("ironlb-adv-all+rr-only", 1),
					origin("ironlb-adv-all+rr-only+summary", 2),
					origin("ironlb-adv-summary", 3),
					{Name: "ironlb-out-rr", Entries: []RouteMapEntry{rr1, rr2, summary, deny}},
					{Name: "ironlb-out-tor", Entries: []RouteMapEntry{tor1, tor2, summary, deny}},
					{Name: "ironlb-out-tor6", Entries: []RouteMapEntry{tor1, tor2, summary, deny}},
				}
			}(),
		},
		{
			name:  "graceful shutdown",
			model: func(t testing.TB, m *config.Model) { m.BGPAdvertisements[0].LocalPref = 300 },
			nodes: func(ns []state.Node) { ns[0].Excluded = true },
			opts:  BuildOptions{Phase: PhaseGracefulShutdown},
			want: []RouteMap{
				in,
				origin("ironlb-adv-adv", 1),
				{Name: "ironlb-out-rr", Entries: []RouteMapEntry{
					{Action: "permit", Seq: 1, MatchTag: 1, SetLocalPref: true, LocalPref: 0, Communities: []string{"graceful-shutdown"}},
					deny,
				}},
				{Name: "ironlb-out-tor", Entries: []RouteMapEntry{{Action: "permit", Seq: 1, MatchTag: 1, Communities: []string{"graceful-shutdown"}}, deny}},
				{Name: "ironlb-out-tor6", Entries: []RouteMapEntry{{Action: "permit", Seq: 1, MatchTag: 1, Communities: []string{"graceful-shutdown"}}, deny}},
			},
		},
		{
			name:  "withdrawn",
			model: twoAdvs,
			opts:  BuildOptions{Phase: PhaseWithdrawn},
			want: []RouteMap{
				in,
				{Name: "ironlb-out-rr", Entries: []RouteMapEntry{deny}},
				{Name: "ironlb-out-tor", Entries: []RouteMapEntry{deny}},
				{Name: "ironlb-out-tor6", Entries: []RouteMapEntry{deny}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := baseModel(t)
			if tc.model != nil {
				tc.model(t, m)
			}
			c := cluster(m)
			if tc.nodes != nil {
				tc.nodes(c.Nodes)
			}
			cfg, err := Build(c, node1, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, cfg.RouteMaps, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("route-maps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLongClassNamesAreHashed(t *testing.T) {
	m := baseModel(t)
	long := func(c byte) string {
		b := make([]byte, 100)
		for i := range b {
			b[i] = c
		}
		return string(b)
	}
	m.BGPAdvertisements = []config.BGPAdvertisement{mkAdv(long('a'), []string{"pool-a"}), mkAdv(long('b'), []string{"pool-a"})}
	cfg, err := Build(cluster(m), node1, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.RouteMaps[1].Name
	if len(got) != len("ironlb-advh-")+16 || got[:len("ironlb-advh-")] != "ironlb-advh-" {
		t.Errorf("origin route-map of a long class is %q, want ironlb-advh- and 16 hex digits", got)
	}
}

func TestBFDProfilesLeaveDefaultsOut(t *testing.T) {
	m := &config.Model{Peers: []config.Peer{
		mkPeer("a", "192.0.2.1", 64512, 64513, func(p *config.Peer) {
			p.BFDProfile = &config.BFDProfile{Name: "defaults", ReceiveInterval: 300, TransmitInterval: 300, DetectMultiplier: 3, EchoInterval: 50, MinimumTTL: 254}
		}),
		mkPeer("b", "192.0.2.2", 64512, 64513, func(p *config.Peer) {
			p.BFDProfile = &config.BFDProfile{Name: "custom", ReceiveInterval: 10, TransmitInterval: 20, DetectMultiplier: 2, EchoInterval: 30, MinimumTTL: 1, EchoMode: true, PassiveMode: true}
		}),
		mkPeer("c", "192.0.2.3", 64512, 64513, func(p *config.Peer) {
			p.BFDProfile = &config.BFDProfile{Name: "defaults", ReceiveInterval: 300, TransmitInterval: 300, DetectMultiplier: 3, EchoInterval: 50, MinimumTTL: 254}
		}),
	}}
	cfg, err := Build(cluster(m), node1, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []BFDProfile{
		{Name: "custom", ReceiveInterval: 10, TransmitInterval: 20, DetectMultiplier: 2, EchoInterval: 30, MinimumTTL: 1, EchoMode: true, PassiveMode: true},
		{Name: "defaults"},
	}
	if diff := cmp.Diff(want, cfg.BFDProfiles); diff != "" {
		t.Errorf("BFD profiles (-want +got):\n%s", diff)
	}
}

// TestBuildIgnoresInputOrder shuffles every list of the model and the
// Services and expects the same frr.conf.
func TestBuildIgnoresInputOrder(t *testing.T) {
	r := newTestRenderer(t)
	render := func(m *config.Model, svcs []state.Service) string {
		cfg, err := Build(cluster(m, svcs...), node1, BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := r.Render(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	model := func() *config.Model {
		m := baseModel(t)
		m.BGPAdvertisements = append(m.BGPAdvertisements,
			mkAdv("b-summary", []string{"pool-a"}, func(a *config.BGPAdvertisement) { a.AggregationLength = 24 }),
			mkAdv("a-tor", []string{"pool-b"}, func(a *config.BGPAdvertisement) { a.Peers = []string{"tor"} }))
		return m
	}
	svcs := []state.Service{
		mkSvc("a/one", "pool-a", "198.51.100.1", "2001:db8:100::1"),
		mkSvc("a/two", "pool-b", "203.0.113.2"),
		mkSvc("b/three", "pool-a", "198.51.100.3"),
	}
	want := render(model(), svcs)
	for i := range 3 {
		m := model()
		rotate(m.Pools, i)
		rotate(m.Peers, i)
		rotate(m.BGPAdvertisements, i)
		s := append([]state.Service(nil), svcs...)
		rotate(s, i+1)
		if got := render(m, s); got != want {
			t.Errorf("rotation %d changes the output:\n%s", i, lineDiffText(splitLines(want), splitLines(got)))
		}
	}
}

// rotate moves the first n%len elements of s to its end.
func rotate[T any](s []T, n int) {
	if len(s) == 0 {
		return
	}
	n %= len(s)
	tmp := append(append([]T(nil), s[n:]...), s[:n]...)
	copy(s, tmp)
}

// TestNeighborSessionDecisions covers the per-neighbor lines decided in
// Go: local-as, and disable-connected-check where MetalLB writes it (a
// single-hop eBGP session to an IPv6 address).
func TestNeighborSessionDecisions(t *testing.T) {
	tests := []struct {
		name string
		peer config.Peer
		want Neighbor
	}{
		{
			name: "IPv4 eBGP",
			peer: mkPeer("p", "192.0.2.1", 64512, 64513),
			want: Neighbor{Peer: "p", Address: "192.0.2.1", RemoteAS: "64513"},
		},
		{
			name: "IPv6 eBGP",
			peer: mkPeer("p", "2001:db8::1", 64512, 64513),
			want: Neighbor{Peer: "p", Address: "2001:db8::1", RemoteAS: "64513", DisableConnectedCheck: true},
		},
		{
			name: "IPv6 dynamic external",
			peer: mkPeer("p", "2001:db8::1", 64512, 0, func(p *config.Peer) { p.DynamicASN = "external" }),
			want: Neighbor{Peer: "p", Address: "2001:db8::1", RemoteAS: "external", DisableConnectedCheck: true},
		},
		{
			name: "IPv6 iBGP",
			peer: mkPeer("p", "2001:db8::1", 64512, 64512),
			want: Neighbor{Peer: "p", Address: "2001:db8::1", RemoteAS: "64512"},
		},
		{
			name: "IPv6 dynamic internal",
			peer: mkPeer("p", "2001:db8::1", 64512, 0, func(p *config.Peer) { p.DynamicASN = "internal" }),
			want: Neighbor{Peer: "p", Address: "2001:db8::1", RemoteAS: "internal"},
		},
		{
			name: "IPv6 eBGP multihop",
			peer: mkPeer("p", "2001:db8::1", 64512, 64513, func(p *config.Peer) { p.EBGPMultiHop = true }),
			want: Neighbor{Peer: "p", Address: "2001:db8::1", RemoteAS: "64513", EBGPMultiHop: true},
		},
		{
			name: "local ASN",
			peer: mkPeer("p", "192.0.2.1", 64512, 64513, func(p *config.Peer) { p.LocalASN = 4200000000 }),
			want: Neighbor{Peer: "p", Address: "192.0.2.1", RemoteAS: "64513", LocalAS: 4200000000},
		},
		{
			name: "local ASN to the peer's own AS",
			peer: mkPeer("p", "2001:db8::1", 64512, 64513, func(p *config.Peer) { p.LocalASN = 64513 }),
			want: Neighbor{Peer: "p", Address: "2001:db8::1", RemoteAS: "64513", LocalAS: 64513, DisableConnectedCheck: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Build(cluster(&config.Model{Peers: []config.Peer{tc.peer}}), node1, BuildOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Routers) != 1 || len(cfg.Routers[0].Neighbors) != 1 {
				t.Fatalf("routers %+v, want one neighbor", cfg.Routers)
			}
			if diff := cmp.Diff(tc.want, cfg.Routers[0].Neighbors[0]); diff != "" {
				t.Errorf("neighbor (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBuildRejectsLocalASN: frr.conf cannot carry a local-as that FRR
// refuses, even from a model config.Build did not check.
func TestBuildRejectsLocalASN(t *testing.T) {
	for _, p := range []config.Peer{
		mkPeer("same", "192.0.2.1", 64512, 64513, func(p *config.Peer) { p.LocalASN = 64512 }),
		mkPeer("ibgp", "192.0.2.1", 64512, 64512, func(p *config.Peer) { p.LocalASN = 64600 }),
	} {
		_, err := Build(cluster(&config.Model{Peers: []config.Peer{p}}), node1, BuildOptions{})
		if err == nil || !strings.Contains(err.Error(), "spec.localASN") {
			t.Errorf("peer %s: error %v, want one naming spec.localASN", p.Name, err)
		}
	}
}
