package frr

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/state"
)

// networkLines returns the network statements of cfg as "vrf|family|prefix|route-map".
func networkLines(cfg *Config) []string {
	var out []string
	for _, r := range cfg.Routers {
		for _, af := range r.AddressFamilies {
			for _, n := range af.Networks {
				out = append(out, fmt.Sprintf("%s|%s|%s|%s", r.VRF, af.Name, n.Prefix, n.RouteMap))
			}
		}
	}
	return out
}

// baseModel has pool-a (IPv4 and IPv6), pool-b (IPv4) and pool-c (no
// advertisement); peers tor (eBGP IPv4), rr (iBGP IPv4) and tor6 (eBGP
// IPv6); and advertisement adv of pools a and b.
func baseModel(t testing.TB) *config.Model {
	return &config.Model{
		Pools: []config.Pool{
			mkPool(t, "pool-a", "198.51.100.0/24", "2001:db8:100::/64"),
			mkPool(t, "pool-b", "203.0.113.0/24"),
			mkPool(t, "pool-c", "192.0.2.128/25"),
		},
		Peers: []config.Peer{
			mkPeer("rr", "192.0.2.253", 64512, 64512),
			mkPeer("tor", "192.0.2.254", 64512, 64513),
			mkPeer("tor6", "2001:db8::fe", 64512, 64513),
		},
		BGPAdvertisements: []config.BGPAdvertisement{mkAdv("adv", []string{"pool-a", "pool-b"})},
	}
}

func TestBuildAnnounces(t *testing.T) {
	const adv = "ironlb-adv-adv"
	web := mkSvc("shop/web", "pool-a", "198.51.100.10", "2001:db8:100::10")
	db := mkSvc("data/db", "pool-b", "203.0.113.7")
	excluded := func(ns []state.Node) { ns[0].Excluded = true }
	tests := []struct {
		name          string
		model         func(*config.Model)
		nodes         func([]state.Node)
		svcs          []state.Service
		opts          BuildOptions
		wantNetworks  []string
		wantAnnounced []ServicePeers
	}{
		{
			name: "cluster policy, served elsewhere",
			svcs: []state.Service{web, db},
			wantNetworks: []string{
				"|ipv4 unicast|198.51.100.10/32|" + adv, "|ipv4 unicast|203.0.113.7/32|" + adv, "|ipv6 unicast|2001:db8:100::10/128|" + adv,
			},
			wantAnnounced: []ServicePeers{{"data/db", []string{"rr", "tor"}}, {"shop/web", []string{"rr", "tor", "tor6"}}},
		},
		{
			name: "cluster policy without endpoints",
			svcs: []state.Service{func() state.Service { s := db; s.ServingNodes = nil; return s }()},
		},
		{
			name:          "local policy, served here",
			svcs:          []state.Service{withLocal(db, node1)},
			wantNetworks:  []string{"|ipv4 unicast|203.0.113.7/32|" + adv},
			wantAnnounced: []ServicePeers{{"data/db", []string{"rr", "tor"}}},
		},
		{
			name: "local policy, served elsewhere",
			svcs: []state.Service{withLocal(db, node2, node3)},
		},
		{
			name:  "excluded node",
			nodes: excluded,
			svcs:  []state.Service{db},
		},
		{
			name:  "network unavailable",
			nodes: func(ns []state.Node) { ns[0].NetworkUnavailable = true },
			svcs:  []state.Service{db},
		},
		{
			name:          "excluded node in graceful shutdown",
			nodes:         excluded,
			svcs:          []state.Service{db},
			opts:          BuildOptions{Phase: PhaseGracefulShutdown},
			wantNetworks:  []string{"|ipv4 unicast|203.0.113.7/32|" + adv},
			wantAnnounced: []ServicePeers{{"data/db", []string{"rr", "tor"}}},
		},
		{
			name: "withdrawn",
			svcs: []state.Service{db},
			opts: BuildOptions{Phase: PhaseWithdrawn},
		},
		{
			name: "pool without advertisement, and unknown pool",
			svcs: []state.Service{mkSvc("a/c", "pool-c", "192.0.2.130"), mkSvc("a/x", "", "192.0.2.131"), mkSvc("a/y", "gone", "192.0.2.132")},
		},
		{
			name: "advertisement for other nodes",
			model: func(m *config.Model) {
				m.BGPAdvertisements[0].NodeSelectors = append(m.BGPAdvertisements[0].NodeSelectors, sel("zone", "b"))
			},
			svcs: []state.Service{db},
		},
		{
			name:          "peer for other nodes",
			model:         func(m *config.Model) { m.Peers[0].NodeSelectors = append(m.Peers[0].NodeSelectors, sel("zone", "b")) },
			svcs:          []state.Service{db},
			wantNetworks:  []string{"|ipv4 unicast|203.0.113.7/32|" + adv},
			wantAnnounced: []ServicePeers{{"data/db", []string{"tor"}}},
		},
		{
			name:          "advertisement limited to peers",
			model:         func(m *config.Model) { m.BGPAdvertisements[0].Peers = []string{"tor6", "elsewhere"} },
			svcs:          []state.Service{web, db},
			wantNetworks:  []string{"|ipv6 unicast|2001:db8:100::10/128|" + adv},
			wantAnnounced: []ServicePeers{{"shop/web", []string{"tor6"}}},
		},
		{
			name:  "dual-stack peer",
			model: func(m *config.Model) { m.Peers = m.Peers[:2]; m.Peers[1].DualStackAddressFamily = true },
			svcs:  []state.Service{web},
			wantNetworks: []string{
				"|ipv4 unicast|198.51.100.10/32|" + adv, "|ipv6 unicast|2001:db8:100::10/128|" + adv,
			},
			wantAnnounced: []ServicePeers{{"shop/web", []string{"rr", "tor"}}},
		},
		{
			name: "aggregation",
			model: func(m *config.Model) {
				m.BGPAdvertisements[0].AggregationLength, m.BGPAdvertisements[0].AggregationLengthV6 = 24, 48
			},
			svcs: []state.Service{web, mkSvc("shop/api", "pool-a", "198.51.100.200"), db},
			wantNetworks: []string{
				"|ipv4 unicast|198.51.100.0/24|" + adv, "|ipv4 unicast|203.0.113.0/24|" + adv, "|ipv6 unicast|2001:db8:100::/48|" + adv,
			},
			wantAnnounced: []ServicePeers{{"data/db", []string{"rr", "tor"}}, {"shop/api", []string{"rr", "tor"}}, {"shop/web", []string{"rr", "tor", "tor6"}}},
		},
		{
			name:          "IPv4-mapped address",
			svcs:          []state.Service{mkSvc("data/db", "pool-b", "::ffff:203.0.113.7")},
			wantNetworks:  []string{"|ipv4 unicast|203.0.113.7/32|" + adv},
			wantAnnounced: []ServicePeers{{"data/db", []string{"rr", "tor"}}},
		},
		{
			name: "serviceSelectors: only the selected Service gets the advertisement",
			model: func(m *config.Model) {
				m.BGPAdvertisements = append(m.BGPAdvertisements, mkAdv("web", []string{"pool-a", "pool-b"}, func(a *config.BGPAdvertisement) {
					a.ServiceSelectors, a.Peers = []labels.Selector{sel("tier", "web")}, []string{"tor"}
				}))
			},
			svcs: []state.Service{withLabels(web, "tier", "web"), mkSvc("shop/api", "pool-a", "198.51.100.11"), withLabels(db, "tier", "db")},
			wantNetworks: []string{
				"|ipv4 unicast|198.51.100.10/32|" + adv + "+web", "|ipv4 unicast|198.51.100.11/32|" + adv, "|ipv4 unicast|203.0.113.7/32|" + adv,
				"|ipv6 unicast|2001:db8:100::10/128|" + adv + "+web",
			},
			wantAnnounced: []ServicePeers{{"data/db", []string{"rr", "tor"}}, {"shop/api", []string{"rr", "tor"}}, {"shop/web", []string{"rr", "tor", "tor6"}}},
		},
		{
			name: "serviceSelectors only: a Service no advertisement selects is not announced",
			model: func(m *config.Model) {
				m.BGPAdvertisements[0].ServiceSelectors = []labels.Selector{sel("tier", "web"), sel("exposure", "public")}
			},
			svcs:          []state.Service{withLabels(web, "exposure", "public"), withLabels(db, "tier", "db")},
			wantNetworks:  []string{"|ipv4 unicast|198.51.100.10/32|" + adv, "|ipv6 unicast|2001:db8:100::10/128|" + adv},
			wantAnnounced: []ServicePeers{{"shop/web", []string{"rr", "tor", "tor6"}}},
		},
		{
			name: "serviceSelectors next to an aggregating advertisement: the aggregate stays, the address route is added",
			model: func(m *config.Model) {
				m.BGPAdvertisements[0].AggregationLength = 24
				m.BGPAdvertisements = append(m.BGPAdvertisements, mkAdv("web", []string{"pool-a"}, func(a *config.BGPAdvertisement) {
					a.ServiceSelectors = []labels.Selector{sel("tier", "web")}
				}))
			},
			svcs: []state.Service{withLabels(web, "tier", "web"), mkSvc("shop/api", "pool-a", "198.51.100.11")},
			wantNetworks: []string{
				"|ipv4 unicast|198.51.100.0/24|" + adv, "|ipv4 unicast|198.51.100.10/32|ironlb-adv-web",
				"|ipv6 unicast|2001:db8:100::10/128|" + adv + "+web",
			},
			wantAnnounced: []ServicePeers{{"shop/api", []string{"rr", "tor"}}, {"shop/web", []string{"rr", "tor", "tor6"}}},
		},
		{
			name: "two serviceSelectors select one Service",
			model: func(m *config.Model) {
				m.BGPAdvertisements = []config.BGPAdvertisement{
					mkAdv("pub", []string{"pool-a"}, func(a *config.BGPAdvertisement) {
						a.ServiceSelectors, a.Peers = []labels.Selector{sel("exposure", "public")}, []string{"tor"}
					}),
					mkAdv("web", []string{"pool-a"}, func(a *config.BGPAdvertisement) {
						a.ServiceSelectors, a.Peers = []labels.Selector{sel("tier", "web")}, []string{"rr"}
					}),
				}
			},
			svcs:          []state.Service{withLabels(withLabels(mkSvc("shop/web", "pool-a", "198.51.100.10"), "tier", "web"), "exposure", "public")},
			wantNetworks:  []string{"|ipv4 unicast|198.51.100.10/32|ironlb-adv-pub+web"},
			wantAnnounced: []ServicePeers{{"shop/web", []string{"rr", "tor"}}},
		},
		{
			name: "VRF",
			model: func(m *config.Model) {
				m.Peers = append(m.Peers, mkPeer("red", "192.0.2.1", 64600, 64601, func(p *config.Peer) { p.VRF = "red" }))
			},
			svcs:          []state.Service{db},
			wantNetworks:  []string{"|ipv4 unicast|203.0.113.7/32|" + adv, "red|ipv4 unicast|203.0.113.7/32|" + adv},
			wantAnnounced: []ServicePeers{{"data/db", []string{"red", "rr", "tor"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := baseModel(t)
			if tc.model != nil {
				tc.model(m)
			}
			c := cluster(m, tc.svcs...)
			if tc.nodes != nil {
				tc.nodes(c.Nodes)
			}
			cfg, err := Build(c, node1, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantNetworks, networkLines(cfg), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("network statements (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantAnnounced, cfg.Announced, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Announced (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	fe := func(kind, name, field string) config.FieldError {
		return config.FieldError{Kind: kind, Name: name, Field: field}
	}
	tests := []struct {
		name  string
		model func(*config.Model)
		node  string
		opts  BuildOptions
		// wantFields are the FieldErrors expected, without reasons.
		wantFields []config.FieldError
		// wantText is part of the message of a plain error.
		wantText string
	}{
		{name: "unknown node", node: "nowhere", wantText: `node "nowhere": no such node`},
		{name: "unknown phase", opts: BuildOptions{Phase: 7}, wantText: "unknown phase 7"},
		{name: "bad hostname", opts: BuildOptions{Hostname: "a b"}, wantText: `hostname "a b" contains whitespace`},
		{name: "IPv6 router ID", opts: BuildOptions{RouterID: addr("2001:db8::1")}, wantText: "is not an IPv4 address"},
		{name: "bad log level", opts: BuildOptions{LogLevel: "loud"}, wantText: `log level "loud"`},
		{
			name:       "two AS numbers in one VRF",
			model:      func(m *config.Model) { m.Peers[2].MyASN = 64999 },
			wantFields: []config.FieldError{fe("BGPPeer", "tor6", "spec.myASN")},
		},
		{
			name: "two router IDs in one VRF",
			model: func(m *config.Model) {
				m.Peers[0].RouterID, m.Peers[1].RouterID, m.Peers[2].RouterID = addr("192.0.2.1"), addr("192.0.2.1"), addr("192.0.2.2")
			},
			wantFields: []config.FieldError{fe("BGPPeer", "tor6", "spec.routerID")},
		},
		{
			name:       "same address twice in one VRF",
			model:      func(m *config.Model) { m.Peers[1].Address = m.Peers[0].Address },
			wantFields: []config.FieldError{fe("BGPPeer", "tor", "spec.peerAddress")},
		},
		{
			name: "same address in two VRFs is fine",
			model: func(m *config.Model) {
				m.Peers[1].Address, m.Peers[1].VRF, m.Peers[1].MyASN = m.Peers[0].Address, "red", 64600
			},
		},
		{
			name: "same interface twice in one VRF",
			model: func(m *config.Model) {
				m.Peers[0].Address, m.Peers[0].Interface = netip.Addr{}, "eth1"
				m.Peers[1].Address, m.Peers[1].Interface = netip.Addr{}, "eth1"
			},
			wantFields: []config.FieldError{fe("BGPPeer", "tor", "spec.interface")},
		},
		{
			name: "unnumbered and link-local on one interface are two neighbors",
			model: func(m *config.Model) {
				m.Peers[0].Address, m.Peers[0].Interface = netip.Addr{}, "eth1"
				m.Peers[1].Address, m.Peers[1].Interface = addr("fe80::2"), "eth1"
			},
		},
		{
			name: "interface peers that would break frr.conf",
			model: func(m *config.Model) {
				m.Peers[0].Address, m.Peers[0].Interface = netip.Addr{}, ""
				m.Peers[1].Address, m.Peers[1].Interface = addr("2001:db8::2"), "eth1"
				m.Peers[2].Address, m.Peers[2].Interface = netip.Addr{}, "eth 1"
			},
			wantFields: []config.FieldError{
				fe("BGPPeer", "rr", "spec.peerAddress"), fe("BGPPeer", "tor", "spec.peerAddress"), fe("BGPPeer", "tor6", "spec.interface"),
			},
		},
		{
			name:       "password with a newline",
			model:      func(m *config.Model) { m.Peers[0].Password = config.NewPassword("abc\nrouter bgp 1") },
			wantFields: []config.FieldError{fe("BGPPeer", "rr", "spec.password")},
		},
		{
			name: "names that would break frr.conf",
			model: func(m *config.Model) {
				m.Peers[0].Name, m.Peers[1].VRF = "R R", "a b"
				m.BGPAdvertisements[0].Name = "x+y"
			},
			wantFields: []config.FieldError{
				fe("BGPPeer", "R R", "metadata.name"), fe("BGPPeer", "tor", "spec.vrf"), fe("BGPAdvertisement", "x+y", "metadata.name"),
			},
		},
		{
			name: "BFD profile name too long for FRR",
			model: func(m *config.Model) {
				m.Peers[0].BFDProfile = &config.BFDProfile{Name: strings.Repeat("b", 65)}
			},
			wantFields: []config.FieldError{fe("BGPPeer", "rr", "spec.bfdProfile")},
		},
		{
			name: "two peers see different BFD profiles of one name",
			model: func(m *config.Model) {
				m.Peers[0].BFDProfile = &config.BFDProfile{Name: "p", DetectMultiplier: 3}
				m.Peers[1].BFDProfile = &config.BFDProfile{Name: "p", DetectMultiplier: 4}
			},
			wantFields: []config.FieldError{fe("BGPPeer", "tor", "spec.bfdProfile")},
		},
		{
			name: "invalid peer fields",
			model: func(m *config.Model) {
				m.Peers[0].MyASN, m.Peers[0].PeerASN = 0, 0
				m.Peers[1].SourceAddress, m.Peers[1].HoldTime = addr("2001:db8::1"), dur("90s")
				m.Peers[2].ConnectTime = dur("1.5s")
			},
			wantFields: []config.FieldError{
				fe("BGPPeer", "rr", "spec.myASN"), fe("BGPPeer", "rr", "spec.peerASN"),
				fe("BGPPeer", "tor", "spec.sourceAddress"), fe("BGPPeer", "tor", "spec.holdTime"),
				fe("BGPPeer", "tor6", "spec.connectTime"),
			},
		},
		{
			name: "aggregation length out of range",
			model: func(m *config.Model) {
				m.BGPAdvertisements[0].AggregationLength, m.BGPAdvertisements[0].AggregationLengthV6 = 33, -1
			},
			wantFields: []config.FieldError{
				fe("BGPAdvertisement", "adv", "spec.aggregationLength"), fe("BGPAdvertisement", "adv", "spec.aggregationLengthV6"),
			},
		},
		{
			name: "two local preferences for one iBGP peer",
			model: func(m *config.Model) {
				m.BGPAdvertisements[0].LocalPref = 100
				m.BGPAdvertisements = append(m.BGPAdvertisements, mkAdv("second", []string{"pool-b"}, func(a *config.BGPAdvertisement) { a.LocalPref = 200 }))
			},
			wantFields: []config.FieldError{fe("BGPAdvertisement", "second", "spec.localPref")},
		},
		{
			name: "two local preferences, but not to the same peer",
			model: func(m *config.Model) {
				m.BGPAdvertisements[0].LocalPref = 100
				m.BGPAdvertisements = append(m.BGPAdvertisements, mkAdv("second", []string{"pool-b"}, func(a *config.BGPAdvertisement) {
					a.LocalPref, a.Peers = 200, []string{"tor"}
				}))
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := baseModel(t)
			if tc.model != nil {
				tc.model(m)
			}
			node := tc.node
			if node == "" {
				node = node1
			}
			cfg, err := Build(cluster(m, mkSvc("data/db", "pool-b", "203.0.113.7")), node, tc.opts)
			if tc.wantText == "" && tc.wantFields == nil {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Build succeeded, want an error; config: %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("Build returned a config with its error")
			}
			if tc.wantText != "" && !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not contain %q", err, tc.wantText)
			}
			if tc.wantFields != nil {
				got := config.Errors(err)
				if diff := cmp.Diff(tc.wantFields, got, cmpopts.IgnoreFields(config.FieldError{}, "Reason")); diff != "" {
					t.Errorf("field errors (-want +got):\n%s\nerror: %v", diff, err)
				}
				if !strings.HasPrefix(err.Error(), `building frr.conf for node "node-1": `) {
					t.Errorf("error %q does not name the operation and node", err)
				}
			}
		})
	}
}

func TestBuildNilCluster(t *testing.T) {
	for _, c := range []*state.Cluster{nil, {}} {
		if _, err := Build(c, node1, BuildOptions{}); err == nil {
			t.Errorf("Build(%v) succeeded, want an error", c)
		}
	}
}

func TestPhaseString(t *testing.T) {
	got := []string{PhaseNormal.String(), PhaseGracefulShutdown.String(), PhaseWithdrawn.String(), Phase(9).String()}
	want := []string{"normal", "graceful-shutdown", "withdrawn", "Phase(9)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Phase.String (-want +got):\n%s", diff)
	}
}

// withLabels returns s with one more label.
func withLabels(s state.Service, key, value string) state.Service {
	l := labels.Set{key: value}
	for k, v := range s.Labels {
		l[k] = v
	}
	s.Labels = l
	return s
}
