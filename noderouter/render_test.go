package noderouter

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/state"
)

var update = flag.Bool("update", false, "rewrite the golden files of the tests run")

// goldenDir holds TestRenderGolden's files; TestRenderGoldenFRR loads
// them into a real FRR.
const goldenDir = "testdata/TestRenderGolden"

// labModel is the config.Model of labOwn: the two pools, the peers
// "router" and "upstream" and one BGPAdvertisement.
func labModel(t testing.TB) *config.Model {
	t.Helper()
	ns := "metallb-system"
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	model, err := config.Build(config.Objects{
		Namespace: ns,
		Pools: []v1beta1.IPAddressPool{
			{ObjectMeta: meta("v4"), Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.0/28"}}},
			{ObjectMeta: meta("v6"), Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"2001:db8:5::/120"}}},
		},
		BGPPeers: []v1beta2.BGPPeer{
			{ObjectMeta: meta("router"), Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64512, Address: "192.0.2.1", HoldTime: &metav1.Duration{Duration: 90e9}, KeepaliveTime: &metav1.Duration{Duration: 30e9}}},
			{ObjectMeta: meta("upstream"), Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "2001:db8::1"}},
		},
		BGPAdvertisements: []v1beta1.BGPAdvertisement{
			{ObjectMeta: meta("all"), Spec: v1beta1.BGPAdvertisementSpec{Communities: []string{"65000:1"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return model
}

// labOwn is ironlb's frr.Config of node-1 as frr.Build computes it: an
// iBGP peer "router" (192.0.2.1) and an eBGP peer "upstream"
// (2001:db8::1), each announced one Service.
func labOwn(t testing.TB) *frr.Config {
	t.Helper()
	model := labModel(t)
	c := &state.Cluster{
		Model: model,
		Nodes: []state.Node{{Name: "node-1", Labels: labels.Set{"kubernetes.io/hostname": "node-1"}, Ready: true}},
		Services: []state.Service{
			{Namespace: "a", Name: "web", Pool: "v4", IPs: []netip.Addr{addr("203.0.113.5")}, ServingNodes: []string{"node-1"}},
			{Namespace: "a", Name: "web6", Pool: "v6", IPs: []netip.Addr{addr("2001:db8:5::5")}, ServingNodes: []string{"node-1"}},
		},
	}
	cfg, err := frr.Build(c, "node-1", frr.BuildOptions{RouterID: addr("192.0.2.10")})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// renderCases are the node router's golden cases: ironlb's own config
// of labOwn plus FRRConfigurations.
func renderCases() []struct {
	name string
	objs []obj
	opts Options
} {
	return []struct {
		name string
		objs []obj
		opts Options
	}{
		{name: "own-only"},
		{
			name: "receive-filtered",
			objs: []obj{{"metallb-system/receive", `
bgp:
  routers:
  - asn: 64512
    neighbors:
    - address: 192.0.2.1
      asn: 64512
      holdTime: 90s
      keepaliveTime: 30s
      toReceive:
        allowed:
          prefixes:
          - prefix: 0.0.0.0/0
          - prefix: 198.51.100.0/24
            le: 28
          - prefix: 198.51.100.128/25
            le: 25
          - prefix: 2001:db8:1::/48
            ge: 56
            le: 64
`}},
			opts: Options{AlwaysBlock: []netip.Prefix{pfx("10.96.0.0/12"), pfx("fd00::/8")}},
		},
		{
			name: "receive-all",
			objs: []obj{{"metallb-system/receive", "bgp:\n  routers:\n  - asn: 64512\n    neighbors:\n    - {address: \"2001:db8::1\", asn: 64500, toReceive: {allowed: {mode: all}}}"}},
		},
		{
			name: "shared-session-and-collector",
			objs: []obj{
				{"metallb-system/node-prefixes", `
bgp:
  routers:
  - asn: 64512
    prefixes: [198.51.100.0/24, 198.51.101.0/24, "2001:db8:7::/64"]
    neighbors:
    - address: 192.0.2.1
      asn: 64512
      holdTime: 90s
      keepaliveTime: 30s
      toAdvertise:
        allowed: {mode: all}
        withLocalPref: [{prefixes: [198.51.100.0/24], localPref: 200}]
        withCommunity:
        - {prefixes: [198.51.100.0/24, "2001:db8:7::/64"], community: no-export}
        - {prefixes: [198.51.100.0/24], community: "large:64512:1:2"}
`},
				{"metallb-system/collector", `
bgp:
  bfdProfiles: [{name: slow, receiveInterval: 1000, transmitInterval: 1000}]
  routers:
  - asn: 64512
    prefixes: [198.51.101.0/24]
    neighbors:
    - address: 192.0.2.7
      asn: 64512
      bfdProfile: slow
      enableGracefulRestart: true
      toAdvertise: {allowed: {mode: all}}
raw:
  priority: 10
  rawConfig: |
    ip prefix-list raw-late seq 5 permit 192.0.2.0/24
`},
				{"metallb-system/raw-early", "raw:\n  priority: -5\n  rawConfig: \"ip prefix-list raw-early seq 5 permit 198.51.100.0/24\""},
			},
		},
		{
			name: "vrf-router",
			objs: []obj{{"metallb-system/red", `
bgp:
  routers:
  - asn: 64600
    vrf: red
    id: 192.0.2.20
    prefixes: [203.0.113.128/25]
    neighbors:
    - address: 198.51.100.1
      asn: 65001
      port: 1179
      ebgpMultiHop: true
      dualStackAddressFamily: true
      toAdvertise: {allowed: {prefixes: [203.0.113.128/25]}}
      toReceive: {allowed: {mode: all}}
    - interface: eth9
      dynamicASN: external
      toReceive: {allowed: {prefixes: [{prefix: 0.0.0.0/0}, {prefix: "::/0"}]}}
`}},
		},
		{
			name: "attributes-on-own-prefixes",
			objs: []obj{
				{"metallb-system/tag-services", `
bgp:
  routers:
  - asn: 64512
    prefixes: [203.0.113.5/32, 198.51.100.0/24, "2001:db8:5::5/128"]
    neighbors:
    - address: 192.0.2.1
      asn: 64512
      holdTime: 90s
      keepaliveTime: 30s
      toAdvertise:
        allowed: {prefixes: [203.0.113.5/32, 198.51.100.0/24]}
        withLocalPref: [{prefixes: [203.0.113.5/32, 198.51.100.0/24], localPref: 150}]
        withCommunity:
        - {prefixes: [203.0.113.5/32, 198.51.100.0/24], community: "65000:9"}
        - {prefixes: [203.0.113.5/32], community: "65000:1"}
    - address: "2001:db8::1"
      asn: 64500
      toAdvertise:
        allowed: {prefixes: ["2001:db8:5::5/128"]}
        withCommunity: [{prefixes: ["2001:db8:5::5/128"], community: "large:64512:7:7"}]
`},
			},
		},
		{
			name: "vrf-imports",
			objs: []obj{
				{"metallb-system/leak", `
bgp:
  routers:
  - asn: 64512
    imports: [{vrf: red}]
  - asn: 64512
    vrf: red
    imports: [{vrf: default}, {vrf: blue}]
  - asn: 64600
    vrf: green
    imports: [{vrf: default}, {vrf: blue}]
`},
				{"metallb-system/leak-blue", "bgp:\n  routers:\n  - {asn: 64512, imports: [{vrf: blue}, {vrf: red}]}"},
			},
		},
	}
}

// renderCase merges and renders one case.
func renderCase(t *testing.T, objs []obj, opts Options) []byte {
	t.Helper()
	own := labOwn(t)
	var cfgs []frrk8s.FRRConfiguration
	for _, o := range objs {
		cfgs = append(cfgs, frrConfig(t, o.key, o.spec))
	}
	m, err := ForNode(own, cfgs, map[string]string{"kubernetes.io/hostname": "node-1"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ToFRR(own, m)
	if err != nil {
		t.Fatal(err)
	}
	r, err := frr.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRenderGolden renders each case and compares it with
// testdata/TestRenderGolden/<case>.golden (-update rewrites them; a
// mismatch leaves <case>.got). The own-only case must equal what ironlb
// renders without FRRConfigurations.
func TestRenderGolden(t *testing.T) {
	for _, tc := range renderCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := renderCase(t, tc.objs, tc.opts)
			path := filepath.Join(goldenDir, tc.name+".golden")
			gotPath := strings.TrimSuffix(path, ".golden") + ".got"
			if *update {
				if err := os.MkdirAll(goldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(want, got) {
				_ = os.WriteFile(gotPath, got, 0o644)
				t.Errorf("%s differs from the golden file; output in %s", path, gotPath)
			}
		})
	}
}

// TestRenderOwnOnlyUnchanged checks that merging no FRRConfiguration
// renders exactly ironlb's own frr.conf.
func TestRenderOwnOnlyUnchanged(t *testing.T) {
	r, err := frr.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	want, err := r.Render(labOwn(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := renderCase(t, nil, Options{}); !bytes.Equal(want, got) {
		t.Errorf("own-only render differs from frr.Render of ironlb's config:\n--- want\n%s\n--- got\n%s", want, got)
	}
}
