package noderouter

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
)

// obj is one FRRConfiguration of a test: "namespace/name" and its spec.
type obj struct{ key, spec string }

func TestForNode(t *testing.T) {
	nodeLabels := map[string]string{"kubernetes.io/hostname": "node-1", "rack": "a"}
	tests := []struct {
		name    string
		own     *frr.Config
		objs    []obj
		opts    Options
		want    *Model
		wantErr []string // substrings of the error; nil = no error
	}{
		{
			name: "own announcements only",
			own:  ownConfig(),
			want: ownModel(t),
		},
		{
			name: "nothing at all",
			want: &Model{},
		},
		{
			name: "configuration for another node is left out",
			own:  ownConfig(),
			objs: []obj{{"ns/other", "nodeSelector: {matchLabels: {rack: b}}\nbgp:\n  routers:\n  - asn: 1"}},
			want: ownModel(t),
		},
		{
			name: "a new neighbor on ironlb's router, with its own prefix",
			own:  ownConfig(),
			objs: []obj{{"ns/collector", `
nodeSelector: {matchLabels: {rack: a}}
bgp:
  routers:
  - asn: 64512
    prefixes: [198.51.100.0/24]
    neighbors:
    - address: 192.0.2.7
      asn: 64512
      toAdvertise: {allowed: {mode: all}}
`}},
			want: func() *Model {
				m := ownModel(t)
				r := &m.Routers[0]
				r.Prefixes = []netip.Prefix{pfx("198.51.100.0/24"), pfx("203.0.113.1/32"), pfx("203.0.113.2/32")}
				r.Neighbors = append(r.Neighbors, Neighbor{
					Address: addr("192.0.2.7"), ASN: 64512,
					Outgoing: []OutPrefix{{Prefix: pfx("198.51.100.0/24")}},
					Origins:  []Origin{fc("ns/collector", "spec.bgp.routers[0].neighbors[0]")},
				})
				r.Origins = append(r.Origins, fc("ns/collector", "spec.bgp.routers[0]"))
				return m
			}(),
		},
		{
			name: "extra prefixes and attributes on ironlb's own session",
			own:  ownConfig(),
			objs: []obj{{"ns/extra", `
bgp:
  bfdProfiles: [{name: fast, receiveInterval: 50, transmitInterval: 50}]
  routers:
  - asn: 64512
    prefixes: [198.51.100.0/24, 203.0.113.1/32]
    neighbors:
    - address: 192.0.2.1
      asn: 64512
      bfdProfile: fast
      holdTime: 90s
      keepaliveTime: 30s
      toAdvertise:
        allowed: {prefixes: [198.51.100.0/24, 203.0.113.1/32]}
        withLocalPref: [{prefixes: [198.51.100.0/24, 203.0.113.1/32], localPref: 200}]
        withCommunity: [{prefixes: [203.0.113.1/32], community: no-export}, {prefixes: [203.0.113.1/32], community: "65000:1"}]
      toReceive:
        allowed: {prefixes: [{prefix: 0.0.0.0/0}]}
`}},
			want: func() *Model {
				m := ownModel(t)
				r := &m.Routers[0]
				r.Prefixes = []netip.Prefix{pfx("198.51.100.0/24"), pfx("203.0.113.1/32"), pfx("203.0.113.2/32")}
				n := &r.Neighbors[0]
				n.Outgoing = []OutPrefix{
					{Prefix: pfx("198.51.100.0/24"), SetLocalPref: true, LocalPref: 200},
					{Prefix: pfx("203.0.113.1/32"), SetLocalPref: true, LocalPref: 200, Communities: []config.Community{comm(t, "65000:1"), comm(t, "no-export")}},
					{Prefix: pfx("203.0.113.2/32"), SetLocalPref: true, LocalPref: 50},
				}
				n.Incoming = Incoming{Prefixes: []PrefixSelector{{Prefix: pfx("0.0.0.0/0")}}}
				n.Origins = append(n.Origins, fc("ns/extra", "spec.bgp.routers[0].neighbors[0]"))
				r.Origins = append(r.Origins, fc("ns/extra", "spec.bgp.routers[0]"))
				m.BFDProfiles[0].Origins = append(m.BFDProfiles[0].Origins, fc("ns/extra", "spec.bgp.bfdProfiles[0]"))
				return m
			}(),
		},
		{
			name: "receive filters: some and some unite",
			objs: []obj{
				{"ns/a", routerWith("toReceive: {allowed: {prefixes: [{prefix: 198.51.100.0/24, le: 32}, {prefix: 0.0.0.0/0}]}}")},
				{"ns/b", routerWith("toReceive: {allowed: {prefixes: [{prefix: 198.51.100.0/24, le: 32}, {prefix: 203.0.113.0/24, ge: 25}]}}")},
			},
			want: oneNeighbor(Incoming{Prefixes: []PrefixSelector{
				{Prefix: pfx("0.0.0.0/0")},
				{Prefix: pfx("198.51.100.0/24"), LE: 32},
				{Prefix: pfx("203.0.113.0/24"), GE: 25},
			}}, "ns/a", "ns/b"),
		},
		{
			name: "receive filters: all beats some",
			objs: []obj{
				{"ns/a", routerWith("toReceive: {allowed: {prefixes: [{prefix: 198.51.100.0/24}]}}")},
				{"ns/b", routerWith("toReceive: {allowed: {mode: all}}")},
			},
			want: oneNeighbor(Incoming{All: true}, "ns/a", "ns/b"),
		},
		{
			name: "receive filters: some beats none",
			objs: []obj{
				{"ns/a", routerWith("toReceive: {allowed: {prefixes: [{prefix: 198.51.100.0/24}]}}")},
				{"ns/b", routerWith("holdTime: 180s")},
			},
			want: oneNeighbor(Incoming{Prefixes: []PrefixSelector{{Prefix: pfx("198.51.100.0/24")}}}, "ns/a", "ns/b"),
		},
		{
			name: "raw configuration by priority, always-block sorted",
			objs: []obj{
				{"ns/late", "raw: {priority: 10, rawConfig: \"! late\"}"},
				{"ns/early", "raw: {priority: -1, rawConfig: \"! early\"}"},
				{"ns/middle", "raw: {rawConfig: \"! middle\"}"},
			},
			opts: Options{AlwaysBlock: []netip.Prefix{pfx("10.96.0.0/12"), pfx("10.0.0.0/8")}},
			want: &Model{
				Raw: []Raw{
					{Priority: -1, Config: "! early", Origin: fc("ns/early", "spec.raw")},
					{Priority: 0, Config: "! middle", Origin: fc("ns/middle", "spec.raw")},
					{Priority: 10, Config: "! late", Origin: fc("ns/late", "spec.raw")},
				},
				AlwaysBlock: []netip.Prefix{pfx("10.0.0.0/8"), pfx("10.96.0.0/12")},
			},
		},
		{
			name: "routers of several VRFs, default first; router ID from the one that sets it",
			objs: []obj{
				{"ns/a", "bgp:\n  routers:\n  - {asn: 64512, vrf: red}\n  - {asn: 64512, imports: [{vrf: red}]}"},
				{"ns/b", "bgp:\n  routers:\n  - {asn: 64512, id: 192.0.2.10}"},
			},
			want: &Model{Routers: []Router{
				{ASN: 64512, ID: "192.0.2.10", Imports: []string{"red"}, Origins: []Origin{fc("ns/a", "spec.bgp.routers[1]"), fc("ns/b", "spec.bgp.routers[0]")}},
				{ASN: 64512, VRF: "red", Origins: []Origin{fc("ns/a", "spec.bgp.routers[0]")}},
			}},
		},
		{
			name: "unset timers equal explicit defaults",
			objs: []obj{
				{"ns/a", routerWith("holdTime: 180s\nkeepaliveTime: 60s\nport: 179")},
				{"ns/b", routerWith("")},
			},
			want: oneNeighbor(Incoming{}, "ns/a", "ns/b"),
		},
		{
			name:    "neighbor ASN conflict between two objects",
			objs:    []obj{{"ns/a", routerWith("")}, {"ns/b", strings.Replace(routerWith(""), "asn: 64500", "asn: 64501", 1)}},
			wantErr: []string{`FRRConfiguration "ns/a" spec.bgp.routers[0].neighbors[0].asn and FRRConfiguration "ns/b" spec.bgp.routers[0].neighbors[0].asn conflict: neighbor 192.0.2.1 in VRF "": remote AS 64500 and 64501 differ`},
		},
		{
			name:    "neighbor ASN conflict with ironlb's BGPPeer",
			own:     ownConfig(),
			objs:    []obj{{"ns/a", "bgp:\n  routers:\n  - asn: 64512\n    neighbors:\n    - {address: 192.0.2.1, dynamicASN: external}"}},
			wantErr: []string{`BGPPeer "router" spec.peerASN and FRRConfiguration "ns/a" spec.bgp.routers[0].neighbors[0].asn conflict: neighbor 192.0.2.1 in VRF "": remote AS 64512 and external differ`},
		},
		{
			name:    "router ASN conflict with ironlb's BGPPeer",
			own:     ownConfig(),
			objs:    []obj{{"ns/a", "bgp:\n  routers:\n  - asn: 64999"}},
			wantErr: []string{`BGPPeer "router" spec.myASN and FRRConfiguration "ns/a" spec.bgp.routers[0].asn conflict: router of VRF "": AS 64512 and AS 64999 differ`},
		},
		{
			name:    "router ID conflict",
			objs:    []obj{{"ns/a", "bgp:\n  routers:\n  - {asn: 1, id: 192.0.2.1}"}, {"ns/b", "bgp:\n  routers:\n  - {asn: 1, id: 192.0.2.2}"}},
			wantErr: []string{`FRRConfiguration "ns/a" spec.bgp.routers[0].id and FRRConfiguration "ns/b" spec.bgp.routers[0].id conflict`},
		},
		{
			name:    "hold time conflict with ironlb's BGPPeer",
			own:     ownConfig(),
			objs:    []obj{{"ns/a", "bgp:\n  bfdProfiles: [{name: fast, receiveInterval: 50, transmitInterval: 50}]\n  routers:\n  - asn: 64512\n    neighbors:\n    - {address: 192.0.2.1, asn: 64512, bfdProfile: fast, holdTime: 30s}"}},
			wantErr: []string{`BGPPeer "router" spec.holdTime and FRRConfiguration "ns/a" spec.bgp.routers[0].neighbors[0].holdTime conflict: neighbor 192.0.2.1 in VRF "": hold times 90s and 30s differ`},
		},
		{
			name:    "password conflict, passwords not shown",
			objs:    []obj{{"ns/a", routerWith("password: secret-one")}, {"ns/b", routerWith("passwordSecret: {name: bgp}")}},
			wantErr: []string{`spec.bgp.routers[0].neighbors[0].password conflict: neighbor 192.0.2.1 in VRF "": the passwords differ`},
		},
		{
			name:    "a password and a Secret holding another one conflict",
			objs:    []obj{{"ns/a", routerWith("password: secret-one")}, {"ns/b", routerWith("passwordSecret: {name: bgp}")}},
			opts:    Options{Passwords: map[string]config.Password{"ns/bgp": config.NewPassword("secret-two")}},
			wantErr: []string{`FRRConfiguration "ns/a" spec.bgp.routers[0].neighbors[0].password and FRRConfiguration "ns/b" spec.bgp.routers[0].neighbors[0].password conflict: neighbor 192.0.2.1 in VRF "": the passwords differ`},
		},
		{
			name: "a password and a Secret holding the same one agree, as in frr-k8s",
			objs: []obj{{"ns/a", routerWith("password: secret-one")}, {"ns/b", routerWith("passwordSecret: {name: bgp}")}},
			opts: Options{Passwords: map[string]config.Password{"ns/bgp": config.NewPassword("secret-one")}},
			want: func() *Model {
				m := oneNeighbor(Incoming{}, "ns/a", "ns/b")
				m.Routers[0].Neighbors[0].Password = config.NewPassword("secret-one")
				return m
			}(),
		},
		{
			name: "two Secrets holding the same password agree; the merge has the password",
			objs: []obj{{"ns/a", routerWith("passwordSecret: {name: one}")}, {"ns/b", routerWith("passwordSecret: {name: two, namespace: other}")}},
			opts: Options{Passwords: map[string]config.Password{"ns/one": config.NewPassword("secret-one"), "other/two": config.NewPassword("secret-one")}},
			want: func() *Model {
				m := oneNeighbor(Incoming{}, "ns/a", "ns/b")
				m.Routers[0].Neighbors[0].Password = config.NewPassword("secret-one")
				return m
			}(),
		},
		{
			name: "a Secret not read keeps its name",
			objs: []obj{{"ns/a", routerWith("passwordSecret: {name: one}")}, {"ns/b", routerWith("passwordSecret: {name: one}")}},
			opts: Options{Passwords: map[string]config.Password{"ns/other": config.NewPassword("secret-one")}},
			want: func() *Model {
				m := oneNeighbor(Incoming{}, "ns/a", "ns/b")
				m.Routers[0].Neighbors[0].PasswordSecret = "ns/one"
				return m
			}(),
		},
		{
			name:    "draining: ironlb's LOCAL_PREF 0 conflicts without Options.Draining",
			own:     drainingConfig(),
			objs:    []obj{{"ns/a", drainObject}},
			wantErr: []string{`prefix 203.0.113.2/32 gets local preferences 0 and 50`},
		},
		{
			name: "draining: ironlb's LOCAL_PREF 0 stands, communities still unite",
			own:  drainingConfig(),
			objs: []obj{{"ns/a", drainObject}},
			opts: Options{Draining: true},
			want: func() *Model {
				m := ownModel(t)
				r := &m.Routers[0]
				n := &r.Neighbors[0]
				gs := comm(t, "65535:0")
				n.Outgoing = []OutPrefix{
					{Prefix: pfx("203.0.113.1/32"), SetLocalPref: true, Communities: []config.Community{comm(t, "65000:1"), gs}},
					{Prefix: pfx("203.0.113.2/32"), SetLocalPref: true, Communities: []config.Community{comm(t, "65000:2"), gs}},
				}
				n.Origins = append(n.Origins, fc("ns/a", "spec.bgp.routers[0].neighbors[0]"))
				r.Origins = append(r.Origins, fc("ns/a", "spec.bgp.routers[0]"))
				m.BFDProfiles[0].Origins = append(m.BFDProfiles[0].Origins, fc("ns/a", "spec.bgp.bfdProfiles[0]"))
				return m
			}(),
		},
		{
			name: "ironlb's BGPPeer password and a Secret with the same value agree",
			own: func() *frr.Config {
				c := ownConfig()
				c.Routers[0].Neighbors[0].Password = config.NewPassword("secret-one")
				return c
			}(),
			objs: []obj{{"ns/a", "bgp:\n  bfdProfiles: [{name: fast, receiveInterval: 50, transmitInterval: 50}]\n  routers:\n  - asn: 64512\n    neighbors:\n    - {address: 192.0.2.1, asn: 64512, bfdProfile: fast, holdTime: 90s, keepaliveTime: 30s, passwordSecret: {name: bgp}}"}},
			opts: Options{Passwords: map[string]config.Password{"ns/bgp": config.NewPassword("secret-one")}},
			want: func() *Model {
				m := ownModel(t)
				r := &m.Routers[0]
				r.Neighbors[0].Password = config.NewPassword("secret-one")
				r.Neighbors[0].Origins = append(r.Neighbors[0].Origins, fc("ns/a", "spec.bgp.routers[0].neighbors[0]"))
				r.Origins = append(r.Origins, fc("ns/a", "spec.bgp.routers[0]"))
				m.BFDProfiles[0].Origins = append(m.BFDProfiles[0].Origins, fc("ns/a", "spec.bgp.bfdProfiles[0]"))
				return m
			}(),
		},
		{
			name: "ironlb's BGPPeer password and a Secret with another value conflict",
			own: func() *frr.Config {
				c := ownConfig()
				c.Routers[0].Neighbors[0].Password = config.NewPassword("secret-one")
				return c
			}(),
			objs:    []obj{{"ns/a", "bgp:\n  bfdProfiles: [{name: fast, receiveInterval: 50, transmitInterval: 50}]\n  routers:\n  - asn: 64512\n    neighbors:\n    - {address: 192.0.2.1, asn: 64512, bfdProfile: fast, holdTime: 90s, keepaliveTime: 30s, passwordSecret: {name: bgp}}"}},
			opts:    Options{Passwords: map[string]config.Password{"ns/bgp": config.NewPassword("secret-two")}},
			wantErr: []string{`BGPPeer "router" spec.password and FRRConfiguration "ns/a" spec.bgp.routers[0].neighbors[0].password conflict: neighbor 192.0.2.1 in VRF "": the passwords differ`},
		},
		{
			name: "BFD profile conflict on a neighbor and in the profiles",
			objs: []obj{
				{"ns/a", "bgp:\n  bfdProfiles: [{name: fast, receiveInterval: 50}]\n" + strings.TrimPrefix(routerWith("bfdProfile: fast"), "bgp:\n")},
				{"ns/b", "bgp:\n  bfdProfiles: [{name: fast, receiveInterval: 60}, {name: slow}]\n" + strings.TrimPrefix(routerWith("bfdProfile: slow"), "bgp:\n")},
			},
			wantErr: []string{
				`FRRConfiguration "ns/a" spec.bgp.bfdProfiles[0].name and FRRConfiguration "ns/b" spec.bgp.bfdProfiles[0].name conflict: BFD profile "fast": defined twice with different settings`,
				`FRRConfiguration "ns/a" spec.bgp.routers[0].neighbors[0].bfdProfile and FRRConfiguration "ns/b" spec.bgp.routers[0].neighbors[0].bfdProfile conflict: neighbor 192.0.2.1 in VRF "": BFD profiles "fast" and "slow" differ`,
			},
		},
		{
			name: "a BFD profile that differs from a default still conflicts",
			objs: []obj{
				{"ns/a", "bgp:\n  bfdProfiles: [{name: lab}]\n" + strings.TrimPrefix(routerWith("bfdProfile: lab"), "bgp:\n")},
				{"ns/b", "bgp:\n  bfdProfiles: [{name: lab, detectMultiplier: 4}]\n" + strings.TrimPrefix(routerWith("bfdProfile: lab"), "bgp:\n")},
			},
			wantErr: []string{`FRRConfiguration "ns/a" spec.bgp.bfdProfiles[0].name and FRRConfiguration "ns/b" spec.bgp.bfdProfiles[0].name conflict: BFD profile "lab": defined twice with different settings`},
		},
		{
			name: "local preference conflict on one prefix",
			own:  ownConfig(),
			objs: []obj{{"ns/a", `
bgp:
  bfdProfiles: [{name: fast, receiveInterval: 50, transmitInterval: 50}]
  routers:
  - asn: 64512
    prefixes: [203.0.113.2/32]
    neighbors:
    - address: 192.0.2.1
      asn: 64512
      bfdProfile: fast
      holdTime: 90s
      keepaliveTime: 30s
      toAdvertise:
        allowed: {mode: all}
        withLocalPref: [{prefixes: [203.0.113.2/32], localPref: 300}]
`}},
			wantErr: []string{`BGPPeer "router" spec.localPref (of its BGPAdvertisement) and FRRConfiguration "ns/a" spec.bgp.routers[0].neighbors[0].localPref conflict: neighbor 192.0.2.1 in VRF "": prefix 203.0.113.2/32 gets local preferences 50 and 300`},
		},
		{
			name: "two objects on one prefix: communities unite, equal local preferences agree",
			objs: []obj{
				{"ns/a", advertising("community: \"65000:2\"", 100)},
				{"ns/b", advertising("community: large:1:2:3", 100)},
				{"ns/c", advertising("community: \"65000:1\"", 0)},
			},
			want: &Model{Routers: []Router{{
				ASN: 64512, Prefixes: []netip.Prefix{pfx("198.51.100.0/24")},
				Neighbors: []Neighbor{{Address: addr("192.0.2.1"), ASN: 64500,
					Outgoing: []OutPrefix{{Prefix: pfx("198.51.100.0/24"), SetLocalPref: true, LocalPref: 100,
						Communities: []config.Community{comm(t, "65000:1"), comm(t, "65000:2"), comm(t, "large:1:2:3")}}},
					Origins: []Origin{fc("ns/a", "spec.bgp.routers[0].neighbors[0]"), fc("ns/b", "spec.bgp.routers[0].neighbors[0]"), fc("ns/c", "spec.bgp.routers[0].neighbors[0]")}}},
				Origins: []Origin{fc("ns/a", "spec.bgp.routers[0]"), fc("ns/b", "spec.bgp.routers[0]"), fc("ns/c", "spec.bgp.routers[0]")},
			}}},
		},
		{
			name:    "two objects on one prefix: different local preferences conflict",
			objs:    []obj{{"ns/a", advertising("community: \"65000:2\"", 100)}, {"ns/b", advertising("community: \"65000:2\"", 0)}, {"ns/c", advertising("community: \"65000:2\"", 200)}},
			wantErr: []string{`FRRConfiguration "ns/a" spec.bgp.routers[0].neighbors[0].localPref and FRRConfiguration "ns/c" spec.bgp.routers[0].neighbors[0].localPref conflict: neighbor 192.0.2.1 in VRF "": prefix 198.51.100.0/24 gets local preferences 100 and 200`},
		},
		{
			name: "a configuration that is not self-contained is refused",
			objs: []obj{{"ns/a", `
bgp:
  routers:
  - asn: 1
    prefixes: [198.51.100.0/24]
    neighbors:
    - address: 192.0.2.1
      asn: 2
      bfdProfile: nope
      toAdvertise:
        allowed: {prefixes: [203.0.113.0/24]}
        withCommunity: [{prefixes: [198.51.100.0/24], community: "70000:1"}]
      toReceive: {allowed: {prefixes: [{prefix: 192.0.2.0/24, ge: 24}]}}
`}},
			wantErr: []string{
				`FRRConfiguration "ns/a": spec.bgp.routers[0].neighbors[0].bfdProfile: BFD profile "nope" is not in spec.bgp.bfdProfiles`,
				`FRRConfiguration "ns/a": spec.bgp.routers[0].neighbors[0].toAdvertise.allowed.prefixes[0]: 203.0.113.0/24 is not one of the router's prefixes`,
				`FRRConfiguration "ns/a": spec.bgp.routers[0].neighbors[0].toAdvertise.withCommunity[0].community: community "70000:1": first half`,
				`FRRConfiguration "ns/a": spec.bgp.routers[0].neighbors[0].toReceive.allowed.prefixes[0].ge: 24 must be greater than the prefix length 24`,
			},
		},
		{
			name:    "a line smuggled in through an interface name is refused",
			objs:    []obj{{"ns/a", "bgp:\n  routers:\n  - asn: 1\n    neighbors:\n    - {interface: \"eth0\\nrouter bgp 2\", asn: 1}"}},
			wantErr: []string{`FRRConfiguration "ns/a": spec.bgp.routers[0].neighbors[0].interface: "eth0\nrouter bgp 2" must not contain whitespace`},
		},
		{
			name:    "a password that cannot be one word is refused without showing it",
			objs:    []obj{{"ns/a", "bgp:\n  routers:\n  - asn: 1\n    neighbors:\n    - {address: 192.0.2.9, asn: 1, password: \"s3cret word\"}"}},
			wantErr: []string{`FRRConfiguration "ns/a": spec.bgp.routers[0].neighbors[0].password: the value must not contain whitespace, control characters, '!' or '#'`},
		},
		{
			name:    "two routers of one VRF in one object",
			objs:    []obj{{"ns/a", "bgp:\n  routers:\n  - asn: 1\n  - asn: 1"}},
			wantErr: []string{`FRRConfiguration "ns/a": spec.bgp.routers[1].vrf: VRF "" already has the router spec.bgp.routers[0]`},
		},
		{
			name:    "invalid node selector",
			objs:    []obj{{"ns/a", "nodeSelector: {matchExpressions: [{key: rack, operator: Almost}]}"}},
			wantErr: []string{`FRRConfiguration "ns/a": spec.nodeSelector: `},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cfgs []frrk8s.FRRConfiguration
			for _, o := range tc.objs {
				cfgs = append(cfgs, frrConfig(t, o.key, o.spec))
			}
			got, err := ForNode(tc.own, cfgs, nodeLabels, tc.opts)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("ForNode succeeded, want errors %q", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
					}
				}
				if strings.Contains(err.Error(), "secret-one") || strings.Contains(err.Error(), "secret-two") {
					t.Errorf("error %q reveals a password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ForNode: %v", err)
			}
			if diff := cmp.Diff(tc.want, got, cmpOpts); diff != "" {
				t.Errorf("model (-want +got):\n%s", diff)
			}
		})
	}
}

// drainingConfig is ownConfig as frr.Build renders it while the node
// drains (frr.PhaseGracefulShutdown): GRACEFUL_SHUTDOWN on every prefix
// and, toward the iBGP peer, LOCAL_PREF 0.
func drainingConfig() *frr.Config {
	c := ownConfig()
	for i := range c.RouteMaps {
		for j := range c.RouteMaps[i].Entries {
			if e := &c.RouteMaps[i].Entries[j]; e.MatchTag != 0 {
				e.Communities = append(e.Communities, "65535:0")
				e.SetLocalPref, e.LocalPref = true, 0
			}
		}
	}
	return c
}

// drainObject shares ironlb's session and sets, on ironlb's Service
// prefix 203.0.113.2/32, ironlb's own local preference 50 and a
// community.
const drainObject = `
bgp:
  bfdProfiles: [{name: fast, receiveInterval: 50, transmitInterval: 50}]
  routers:
  - asn: 64512
    prefixes: [203.0.113.2/32]
    neighbors:
    - address: 192.0.2.1
      asn: 64512
      bfdProfile: fast
      holdTime: 90s
      keepaliveTime: 30s
      toAdvertise:
        allowed: {prefixes: [203.0.113.2/32]}
        withLocalPref: [{prefixes: [203.0.113.2/32], localPref: 50}]
        withCommunity: [{prefixes: [203.0.113.2/32], community: "65000:2"}]
`

// routerWith is the spec of a router of AS 64512 with one neighbor,
// 192.0.2.1 of AS 64500, and the given neighbor fields.
func routerWith(fields string) string {
	s := "bgp:\n  routers:\n  - asn: 64512\n    neighbors:\n    - address: 192.0.2.1\n      asn: 64500"
	for _, l := range strings.Split(fields, "\n") {
		if l != "" {
			s += "\n      " + l
		}
	}
	return s
}

// oneNeighbor is the model of routerWith merged from the named objects,
// with the given incoming filter.
func oneNeighbor(in Incoming, names ...string) *Model {
	r := Router{ASN: 64512, Neighbors: []Neighbor{{Address: addr("192.0.2.1"), ASN: 64500, Incoming: in}}}
	for _, n := range names {
		r.Origins = append(r.Origins, fc(n, "spec.bgp.routers[0]"))
		r.Neighbors[0].Origins = append(r.Neighbors[0].Origins, fc(n, "spec.bgp.routers[0].neighbors[0]"))
	}
	return &Model{Routers: []Router{r}}
}

// advertising is the spec of a router advertising 198.51.100.0/24 to
// 192.0.2.1 with a community and, unless 0, a local preference.
func advertising(community string, localPref int) string {
	s := "bgp:\n  routers:\n  - asn: 64512\n    prefixes: [198.51.100.0/24]\n    neighbors:\n    - address: 192.0.2.1\n      asn: 64500\n" +
		"      toAdvertise:\n        allowed: {mode: all}\n        withCommunity: [{prefixes: [198.51.100.0/24], " + community + "}]\n"
	if localPref != 0 {
		s += fmt.Sprintf("        withLocalPref: [{prefixes: [198.51.100.0/24], localPref: %d}]\n", localPref)
	}
	return s
}

// TestBFDProfileDefaultsCompareEqual: a BFD profile written out with
// FRR's defaults (as a user restating ironlb's profile in an
// FRRConfiguration would) is the same profile as one that leaves them
// out, and is merged, not refused; the lab saw the conflict.
func TestBFDProfileDefaultsCompareEqual(t *testing.T) {
	cfgs := []frrk8s.FRRConfiguration{
		frrConfig(t, "ns/a", "bgp:\n  bfdProfiles: [{name: lab}]\n"+strings.TrimPrefix(routerWith("bfdProfile: lab"), "bgp:\n")),
		frrConfig(t, "ns/b", "bgp:\n  bfdProfiles: [{name: lab, receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3, echoInterval: 50, minimumTtl: 254}]\n"+strings.TrimPrefix(routerWith("bfdProfile: lab"), "bgp:\n")),
	}
	m, err := ForNode(nil, cfgs, map[string]string{"kubernetes.io/hostname": "node-1"}, Options{})
	if err != nil {
		t.Fatalf("ForNode: %v", err)
	}
	if len(m.BFDProfiles) != 1 || len(m.BFDProfiles[0].Origins) != 2 {
		t.Errorf("BFD profiles = %+v, want one, defined by both objects", m.BFDProfiles)
	}
}
