package noderouter

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"sigs.k8s.io/yaml"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
)

// cmpOpts compare models: addresses and passwords by value, empty slices
// as nil.
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	cmp.Comparer(func(a, b config.Password) bool { return a.Reveal() == b.Reveal() }),
	cmpopts.EquateEmpty(),
}

// frrConfig decodes "namespace/name" and the YAML of a spec into an
// FRRConfiguration.
func frrConfig(t testing.TB, key, spec string) frrk8s.FRRConfiguration {
	t.Helper()
	var c frrk8s.FRRConfiguration
	if err := yaml.UnmarshalStrict([]byte(spec), &c.Spec); err != nil {
		t.Fatalf("decoding spec of %s: %v", key, err)
	}
	c.Namespace, c.Name, _ = strings.Cut(key, "/")
	return c
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func comm(t testing.TB, s string) config.Community {
	t.Helper()
	c, err := parseCommunity(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fc is the origin of an element of an FRRConfiguration.
func fc(name, path string) Origin { return Origin{Kind: KindFRRConfiguration, Name: name, Path: path} }

// peer is the origin of one of ironlb's neighbors.
func peer(name string) Origin { return Origin{Kind: "BGPPeer", Name: name} }

// ownConfig is ironlb's model of a node with one iBGP peer "router"
// (192.0.2.1, AS 64512) announced two Service prefixes: 203.0.113.1/32
// with community 65000:1, and 203.0.113.2/32 with local preference 50.
func ownConfig() *frr.Config {
	return &frr.Config{
		Routers: []frr.Router{{
			ASN:       64512,
			RouterID:  "192.0.2.10",
			Neighbors: []frr.Neighbor{{Peer: "router", Address: "192.0.2.1", RemoteAS: "64512", BFD: true, BFDProfile: "fast", Timers: &frr.Timers{Keepalive: 30, Hold: 90}}},
			AddressFamilies: []frr.AddressFamily{{
				Name: "ipv4 unicast",
				Networks: []frr.Network{
					{Prefix: pfx("203.0.113.1/32"), RouteMap: "class-1"},
					{Prefix: pfx("203.0.113.2/32"), RouteMap: "class-2"},
				},
				Neighbors: []frr.AFNeighbor{{Address: "192.0.2.1", RouteMapIn: "deny-in", RouteMapOut: "router-out"}},
			}},
		}},
		RouteMaps: []frr.RouteMap{
			{Name: "deny-in", Entries: []frr.RouteMapEntry{{Action: "deny", Seq: 1}}},
			{Name: "class-1", Entries: []frr.RouteMapEntry{{Action: "permit", Seq: 1, SetTag: 1}}},
			{Name: "class-2", Entries: []frr.RouteMapEntry{{Action: "permit", Seq: 1, SetTag: 2}}},
			{Name: "router-out", Entries: []frr.RouteMapEntry{
				{Action: "permit", Seq: 1, MatchTag: 1, Communities: []string{"65000:1"}},
				{Action: "permit", Seq: 2, MatchTag: 2, SetLocalPref: true, LocalPref: 50},
				{Action: "deny", Seq: 65535},
			}},
		},
		BFDProfiles: []frr.BFDProfile{{Name: "fast", ReceiveInterval: 50, TransmitInterval: 50}},
	}
}

// ownModel is FromFRR(ownConfig()).
func ownModel(t testing.TB) *Model {
	return &Model{
		Routers: []Router{{
			ASN: 64512, ID: "192.0.2.10",
			Prefixes: []netip.Prefix{pfx("203.0.113.1/32"), pfx("203.0.113.2/32")},
			Neighbors: []Neighbor{{
				Address: addr("192.0.2.1"), ASN: 64512, BFD: true, BFDProfile: "fast", Timers: &frr.Timers{Keepalive: 30, Hold: 90},
				Outgoing: []OutPrefix{
					{Prefix: pfx("203.0.113.1/32"), Communities: []config.Community{comm(t, "65000:1")}},
					{Prefix: pfx("203.0.113.2/32"), SetLocalPref: true, LocalPref: 50},
				},
				Origins: []Origin{peer("router")},
			}},
			Origins: []Origin{{Kind: "BGPPeer", Name: "router", Path: "router"}},
		}},
		BFDProfiles: []BFDProfile{{BFDProfile: frr.BFDProfile{Name: "fast", ReceiveInterval: 50, TransmitInterval: 50}, Origins: []Origin{{Kind: "BFDProfile", Name: "fast"}}}},
	}
}
