package frr

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/state"
)

// goldenCase is one rendered frr.conf: the objects go through
// config.Build, so defaults and community aliases are resolved as in the
// speaker.
type goldenCase struct {
	name string
	objs config.Objects
	svcs []state.Service
	// node is the node rendered; "" means node-1.
	node string
	// nodes changes the test nodes, as for an excluded node.
	nodes func([]state.Node)
	opts  BuildOptions
}

func apiPool(name string, addrs ...string) v1beta1.IPAddressPool {
	return v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1beta1.IPAddressPoolSpec{Addresses: addrs}}
}

func apiPeer(name, address string, myASN, peerASN uint32, mods ...func(*v1beta2.BGPPeerSpec)) v1beta2.BGPPeer {
	p := v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1beta2.BGPPeerSpec{MyASN: myASN, ASN: peerASN, Address: address}}
	for _, m := range mods {
		m(&p.Spec)
	}
	return p
}

func apiAdv(name string, pools []string, mods ...func(*v1beta1.BGPAdvertisementSpec)) v1beta1.BGPAdvertisement {
	a := v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: pools}}
	for _, m := range mods {
		m(&a.Spec)
	}
	return a
}

func apiDur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

// The pools most cases use.
func stdPools() []v1beta1.IPAddressPool {
	return []v1beta1.IPAddressPool{
		apiPool("pool-a", "198.51.100.0/24", "2001:db8:100::/64"),
		apiPool("pool-b", "203.0.113.0/24"),
	}
}

// withLocal makes a Service use externalTrafficPolicy Local, served on
// the given nodes.
func withLocal(s state.Service, nodes ...string) state.Service {
	s.ETPLocal, s.ServingNodes = true, nodes
	return s
}

// withLabel returns s labelled key=value.
func withLabel(s state.Service, key, value string) state.Service {
	s.Labels = map[string]string{key: value}
	return s
}

func goldenCases(t testing.TB) []goldenCase {
	all := []string{"pool-a", "pool-b"}
	web := mkSvc("shop/web", "pool-a", "198.51.100.10", "2001:db8:100::10")
	api := mkSvc("shop/api", "pool-a", "198.51.100.11")
	db := mkSvc("data/db", "pool-b", "203.0.113.7")
	v6 := mkSvc("shop/v6", "pool-a", "2001:db8:100::6")
	ebgp := apiPeer("tor", "192.0.2.254", 64512, 64513)
	ibgp := apiPeer("rr", "192.0.2.253", 64512, 64512)
	exclude := func(ns []state.Node) { ns[0].Excluded, ns[0].Unschedulable = true, true }
	return []goldenCase{
		{
			name: "ipv4-peer",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{ebgp}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all)}},
			svcs: []state.Service{db, api, web, v6},
		},
		{
			name: "ipv6-peer",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{apiPeer("tor6", "2001:db8::fe", 64512, 64513)}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all)}},
			svcs: []state.Service{db, web, v6},
		},
		{
			name: "dual-stack",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{
				apiPeer("tor", "192.0.2.254", 64512, 64513, func(s *v1beta2.BGPPeerSpec) { s.DualStackAddressFamily = true }),
				apiPeer("tor6", "2001:db8::fe", 64512, 64513),
			}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all)}},
			svcs: []state.Service{web, v6, db},
		},
		{
			name: "vrf",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{
				ebgp,
				apiPeer("tor-red", "192.0.2.254", 64520, 64521, func(s *v1beta2.BGPPeerSpec) { s.VRFName = "red"; s.RouterID = "192.0.2.20" }),
				apiPeer("tor-blue", "192.0.2.1", 64530, 64531, func(s *v1beta2.BGPPeerSpec) { s.VRFName = "blue" }),
			}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all)}},
			svcs: []state.Service{web, db},
			opts: BuildOptions{RouterID: addr("192.0.2.10")},
		},
		{
			name: "dynamic-asn",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{
				apiPeer("inside", "192.0.2.1", 64512, 0, func(s *v1beta2.BGPPeerSpec) { s.DynamicASN = v1beta2.InternalASNMode }),
				apiPeer("outside", "192.0.2.2", 64512, 0, func(s *v1beta2.BGPPeerSpec) { s.DynamicASN = v1beta2.ExternalASNMode }),
			}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all, func(s *v1beta1.BGPAdvertisementSpec) { s.LocalPref = 150 })}},
			svcs: []state.Service{web},
		},
		{
			// The peers see AS 4200000000 and 64600 instead of 64512; the
			// IPv6 eBGP session is single-hop, so it gets
			// disable-connected-check, as in MetalLB.
			name: "local-asn",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{
				apiPeer("tor", "192.0.2.254", 64512, 64513, func(s *v1beta2.BGPPeerSpec) { s.LocalASN = 4200000000 }),
				apiPeer("tor6", "2001:db8::fe", 64512, 64513, func(s *v1beta2.BGPPeerSpec) { s.LocalASN = 64600 }),
			}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all)}},
			svcs: []state.Service{web},
		},
		{
			// An unnumbered session on eth1 and a link-local address on
			// eth2 carry both families over the one session; the address
			// peer keeps its single family.
			name: "unnumbered",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{
				ebgp,
				apiPeer("tor-if", "", 64512, 0, func(s *v1beta2.BGPPeerSpec) {
					s.Interface, s.DynamicASN, s.Password = "eth1", v1beta2.ExternalASNMode, "s3cret"
				}),
				apiPeer("tor-ll", "fe80::2", 64512, 64514, func(s *v1beta2.BGPPeerSpec) {
					s.Interface, s.HoldTime = "eth2", apiDur(30*time.Second)
				}),
			}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all)}},
			svcs: []state.Service{web, db},
		},
		{
			name: "session-options",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{
				apiPeer("far", "203.0.113.254", 64512, 64600, func(s *v1beta2.BGPPeerSpec) {
					s.Port, s.EBGPMultiHop, s.SrcAddress, s.RouterID = 1179, true, "192.0.2.10", "192.0.2.10"
					s.HoldTime, s.KeepaliveTime, s.ConnectTime = apiDur(90*time.Second), apiDur(30*time.Second), apiDur(5*time.Second)
				}),
				apiPeer("near", "192.0.2.254", 64512, 64513, func(s *v1beta2.BGPPeerSpec) { s.HoldTime = apiDur(30 * time.Second) }),
			}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all)}},
			svcs: []state.Service{web},
		},
		{
			name: "password",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{
				apiPeer("tor", "192.0.2.254", 64512, 64513, func(s *v1beta2.BGPPeerSpec) { s.Password = `s3cr3t!#"'\x` }),
			}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all)}},
			svcs: []state.Service{web},
		},
		{
			name: "graceful-restart",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{
				apiPeer("tor-a", "192.0.2.1", 64512, 64513, func(s *v1beta2.BGPPeerSpec) { s.EnableGracefulRestart = true }),
				apiPeer("tor-b", "192.0.2.2", 64512, 64513, func(s *v1beta2.BGPPeerSpec) { s.EnableGracefulRestart = true }),
			}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all)}},
			svcs: []state.Service{web},
		},
		{
			name: "graceful-restart-mixed",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{
				apiPeer("tor-a", "192.0.2.1", 64512, 64513, func(s *v1beta2.BGPPeerSpec) { s.EnableGracefulRestart = true }),
				apiPeer("tor-b", "192.0.2.2", 64512, 64513),
			}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all)}},
			svcs: []state.Service{web},
		},
		{
			name: "bfd-profiles",
			objs: config.Objects{Pools: stdPools(),
				BFDProfiles: []v1beta1.BFDProfile{
					{ObjectMeta: metav1.ObjectMeta{Name: "fast"}, Spec: v1beta1.BFDProfileSpec{
						ReceiveInterval: ptr[uint32](100), TransmitInterval: ptr[uint32](150), DetectMultiplier: ptr[uint32](5),
						EchoInterval: ptr[uint32](30), EchoMode: ptr(true), PassiveMode: ptr(true), MinimumTTL: ptr[uint32](250),
					}},
					{ObjectMeta: metav1.ObjectMeta{Name: "plain"}},
					{ObjectMeta: metav1.ObjectMeta{Name: "unused"}, Spec: v1beta1.BFDProfileSpec{DetectMultiplier: ptr[uint32](9)}},
				},
				BGPPeers: []v1beta2.BGPPeer{
					apiPeer("tor-a", "192.0.2.1", 64512, 64513, func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "fast" }),
					apiPeer("tor-b", "192.0.2.2", 64512, 64513, func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "plain" }),
					apiPeer("tor-c", "192.0.2.3", 64512, 64513),
				},
				// Echo mode is for IPv4 pools only (config rejects it towards
				// IPv6 routes, as MetalLB does).
				BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", []string{"pool-b"})}},
			svcs: []state.Service{db},
		},
		{
			name: "communities",
			objs: config.Objects{Pools: stdPools(),
				Communities: []v1beta1.Community{{ObjectMeta: metav1.ObjectMeta{Name: "aliases"}, Spec: v1beta1.CommunitySpec{Communities: []v1beta1.CommunityAlias{
					{Name: "site-local", Value: "65000:100"}, {Name: "keep-inside", Value: "65535:65281"}, {Name: "big", Value: "large:64512:1:2"},
				}}}},
				BGPPeers: []v1beta2.BGPPeer{ibgp, ebgp},
				BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all, func(s *v1beta1.BGPAdvertisementSpec) {
					s.LocalPref = 200
					s.Communities = []string{"site-local", "65000:200", "keep-inside", "large:1:2:3", "big", "65000:100"}
				})},
			},
			svcs: []state.Service{web, db},
		},
		{
			name: "aggregation",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{ebgp, apiPeer("tor6", "2001:db8::fe", 64512, 64513)},
				BGPAdvertisements: []v1beta1.BGPAdvertisement{
					apiAdv("summary", []string{"pool-a"}, func(s *v1beta1.BGPAdvertisementSpec) {
						s.AggregationLength, s.AggregationLengthV6 = ptr[int32](24), ptr[int32](64)
						s.Communities = []string{"65000:24"}
					}),
					apiAdv("hosts", []string{"pool-a"}, func(s *v1beta1.BGPAdvertisementSpec) { s.Peers = []string{"tor"} }),
				}},
			svcs: []state.Service{web, api, v6},
		},
		{
			name: "peers-limited",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{
				apiPeer("tor-a", "192.0.2.1", 64512, 64513), apiPeer("tor-b", "192.0.2.2", 64512, 64513),
			}, BGPAdvertisements: []v1beta1.BGPAdvertisement{
				apiAdv("only-a", []string{"pool-a"}, func(s *v1beta1.BGPAdvertisementSpec) { s.Peers = []string{"tor-a"} }),
			}},
			svcs: []state.Service{web, db},
		},
		{
			name: "etp-local-on-node",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{ebgp}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all)}},
			svcs: []state.Service{withLocal(web, node1, node3), withLocal(db, node1)},
		},
		{
			name: "etp-local-off-node",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{ebgp}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all)}},
			svcs: []state.Service{withLocal(web, node2, node3), db},
		},
		{
			name:  "excluded-node",
			objs:  config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{ebgp, ibgp}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all)}},
			svcs:  []state.Service{web, db},
			nodes: exclude,
		},
		{
			name: "graceful-shutdown",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{ebgp, ibgp}, BGPAdvertisements: []v1beta1.BGPAdvertisement{
				apiAdv("adv", all, func(s *v1beta1.BGPAdvertisementSpec) { s.LocalPref = 300; s.Communities = []string{"65000:1"} }),
			}},
			svcs:  []state.Service{web, db},
			nodes: exclude,
			opts:  BuildOptions{Phase: PhaseGracefulShutdown},
		},
		{
			name:  "withdrawn",
			objs:  config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{ebgp, ibgp}, BGPAdvertisements: []v1beta1.BGPAdvertisement{apiAdv("adv", all)}},
			svcs:  []state.Service{web, db},
			nodes: exclude,
			opts:  BuildOptions{Phase: PhaseWithdrawn},
		},
		{
			name: "two-advertisements",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{
				apiPeer("tor-a", "192.0.2.1", 64512, 64512), apiPeer("tor-b", "192.0.2.2", 64512, 64513),
			}, BGPAdvertisements: []v1beta1.BGPAdvertisement{
				apiAdv("to-a", []string{"pool-a"}, func(s *v1beta1.BGPAdvertisementSpec) {
					s.Peers, s.Communities, s.LocalPref = []string{"tor-a"}, []string{"65000:1"}, 120
				}),
				apiAdv("to-b", []string{"pool-a"}, func(s *v1beta1.BGPAdvertisementSpec) {
					s.Peers, s.Communities = []string{"tor-b"}, []string{"65000:2", "large:64513:2:0"}
				}),
			}},
			svcs: []state.Service{web, api},
		},
		{
			name: "node-selectors",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{
				apiPeer("zone-a", "192.0.2.1", 64512, 64513, func(s *v1beta2.BGPPeerSpec) {
					s.NodeSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"zone": "a"}}}
				}),
				apiPeer("zone-b", "192.0.2.2", 64512, 64513, func(s *v1beta2.BGPPeerSpec) {
					s.NodeSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"zone": "b"}}}
				}),
			}, BGPAdvertisements: []v1beta1.BGPAdvertisement{
				apiAdv("everywhere", []string{"pool-a"}),
				apiAdv("zone-b-only", []string{"pool-b"}, func(s *v1beta1.BGPAdvertisementSpec) {
					s.NodeSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"zone": "b"}}}
				}),
			}},
			svcs: []state.Service{web, db},
		},
		{
			// "public" applies only to the Services labelled
			// exposure=public: web and db get its class (both
			// advertisements), api only that of "all".
			name: "service-selectors",
			objs: config.Objects{Pools: stdPools(), BGPPeers: []v1beta2.BGPPeer{ebgp, ibgp}, BGPAdvertisements: []v1beta1.BGPAdvertisement{
				apiAdv("all", all, func(s *v1beta1.BGPAdvertisementSpec) { s.Peers = []string{"rr"} }),
				apiAdv("public", all, func(s *v1beta1.BGPAdvertisementSpec) {
					s.Peers, s.Communities = []string{"tor"}, []string{"65000:100"}
					s.ServiceSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"exposure": "public"}}}
				}),
			}},
			svcs: []state.Service{
				withLabel(web, "exposure", "public"), withLabel(api, "exposure", "internal"), withLabel(db, "exposure", "public"),
			},
		},
		{
			// Two pools whose /30 aggregates meet in 198.51.100.8/30: the
			// prefix belongs to both advertisements, an extra class.
			name: "coinciding-aggregates",
			objs: config.Objects{Pools: []v1beta1.IPAddressPool{
				apiPool("low", "198.51.100.4-198.51.100.9"), apiPool("high", "198.51.100.10-198.51.100.20"),
			}, BGPPeers: []v1beta2.BGPPeer{ebgp}, BGPAdvertisements: []v1beta1.BGPAdvertisement{
				apiAdv("low-30", []string{"low"}, func(s *v1beta1.BGPAdvertisementSpec) {
					s.AggregationLength, s.Communities = ptr[int32](30), []string{"65000:1"}
				}),
				apiAdv("high-30", []string{"high"}, func(s *v1beta1.BGPAdvertisementSpec) {
					s.AggregationLength, s.Communities = ptr[int32](30), []string{"65000:2"}
				}),
			}},
			svcs: []state.Service{mkSvc("a/low", "low", "198.51.100.9"), mkSvc("a/low2", "low", "198.51.100.5"), mkSvc("a/high", "high", "198.51.100.10")},
		},
	}
}

// build runs config.Build and Build for the case.
func (tc goldenCase) build(t testing.TB) *Config {
	t.Helper()
	m, err := config.Build(tc.objs)
	if err != nil {
		t.Fatalf("config.Build: %v", err)
	}
	c := cluster(m, tc.svcs...)
	if tc.nodes != nil {
		tc.nodes(c.Nodes)
	}
	node := tc.node
	if node == "" {
		node = node1
	}
	cfg, err := Build(c, node, tc.opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return cfg
}
