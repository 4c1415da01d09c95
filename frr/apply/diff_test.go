package apply

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/NAME.golden, or rewrites the file
// with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// base is a config shaped like the ones the speaker renders.
const base = `frr version 8.4.4
frr defaults traditional
hostname node1
log file /etc/frr/frr.log informational
ip nht resolve-via-default
ipv6 nht resolve-via-default
!
ip prefix-list 192.0.2.2-pl-ipv4 seq 1 permit 198.51.100.10/32
ipv6 prefix-list 192.0.2.2-pl-ipv6 seq 1 permit 2001:db8::10/128
bgp community-list standard cl seq 5 permit 64512:100
!
route-map 192.0.2.2-in deny 20
exit
!
route-map 192.0.2.2-out permit 1
 match ip address prefix-list 192.0.2.2-pl-ipv4
 set local-preference 100
 on-match next
exit
!
route-map 192.0.2.2-out permit 2
 match ipv6 address prefix-list 192.0.2.2-pl-ipv6
exit
!
router bgp 64512
  no bgp ebgp-requires-policy
  no bgp network import-check
  no bgp default ipv4-unicast
  bgp router-id 192.0.2.1
  neighbor 192.0.2.2 remote-as 64513
  neighbor 192.0.2.2 timers 30 90
  neighbor 192.0.2.2 bfd
  neighbor 192.0.2.2 bfd profile prof1
  !
  address-family ipv4 unicast
    neighbor 192.0.2.2 activate
    neighbor 192.0.2.2 route-map 192.0.2.2-in in
    neighbor 192.0.2.2 route-map 192.0.2.2-out out
    network 198.51.100.10/32
  exit-address-family
  !
  address-family ipv6 unicast
    neighbor 192.0.2.2 activate
    neighbor 192.0.2.2 route-map 192.0.2.2-in in
    neighbor 192.0.2.2 route-map 192.0.2.2-out out
    network 2001:db8::10/128
  exit-address-family
exit
!
bfd
  profile prof1
    receive-interval 300
    transmit-interval 300
  exit
exit
!
`

// edit returns base with each pair of (old, new) substrings replaced.
func edit(t *testing.T, pairs ...string) string {
	t.Helper()
	s := base
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("base lacks %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// interfaceNeighbors are an unnumbered neighbor (eth1) and a link-local
// one scoped to eth2, as frr.Build writes them, with both families.
const interfaceNeighbors = `  neighbor eth1 interface remote-as external
  neighbor eth1 description tor-if
  neighbor fe80::2 remote-as 64514
  neighbor fe80::2 interface eth2
  neighbor fe80::2 description tor-ll
`

// withInterfaceNeighbors adds interfaceNeighbors to conf (base or
// realBase), activated in both address families.
func withInterfaceNeighbors(t *testing.T, conf string) string {
	t.Helper()
	for _, p := range [][2]string{
		{"  neighbor 192.0.2.2 timers 30 90\n", "  neighbor 192.0.2.2 timers 30 90\n" + interfaceNeighbors},
		{"    network 198.51.100.10/32\n", "    network 198.51.100.10/32\n" + afInterfaceNeighbors},
		{"    network 2001:db8::10/128\n", "    network 2001:db8::10/128\n" + afInterfaceNeighbors},
	} {
		if !strings.Contains(conf, p[0]) {
			t.Fatalf("config lacks %q", p[0])
		}
		conf = strings.Replace(conf, p[0], p[1], 1)
	}
	return conf
}

const afInterfaceNeighbors = `    neighbor eth1 activate
    neighbor eth1 route-map 192.0.2.2-out out
    neighbor fe80::2 activate
    neighbor fe80::2 route-map 192.0.2.2-out out
`

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name    string
		old     string // "-" for no old config
		desired string
	}{
		{name: "from_nothing", old: "-", desired: base},
		{name: "unchanged", old: base, desired: base},
		{name: "whitespace_only", old: base, desired: strings.ReplaceAll(base, "  ", "\t")},
		{name: "add_ipv4_network", old: base, desired: edit(t,
			"    network 198.51.100.10/32\n", "    network 198.51.100.10/32\n    network 198.51.100.11/32\n",
			"seq 1 permit 198.51.100.10/32\n", "seq 1 permit 198.51.100.10/32\nip prefix-list 192.0.2.2-pl-ipv4 seq 2 permit 198.51.100.11/32\n")},
		{name: "remove_ipv6_network", old: base, desired: edit(t,
			"    network 2001:db8::10/128\n", "",
			"ipv6 prefix-list 192.0.2.2-pl-ipv6 seq 1 permit 2001:db8::10/128\n", "")},
		{name: "add_neighbor", old: base, desired: edit(t,
			"  neighbor 192.0.2.2 timers 30 90\n", "  neighbor 192.0.2.2 timers 30 90\n  neighbor 192.0.2.3 remote-as 64514\n",
			"    neighbor 192.0.2.2 route-map 192.0.2.2-out out\n    network 198.51.100.10/32\n",
			"    neighbor 192.0.2.2 route-map 192.0.2.2-out out\n    neighbor 192.0.2.3 activate\n    neighbor 192.0.2.3 route-map 192.0.2.3-out out\n    network 198.51.100.10/32\n",
			"route-map 192.0.2.2-in deny 20\n", "route-map 192.0.2.3-out permit 1\n set community 64512:7\nexit\n!\nroute-map 192.0.2.2-in deny 20\n")},
		{name: "remove_neighbor", old: edit(t,
			"  neighbor 192.0.2.2 timers 30 90\n", "  neighbor 192.0.2.2 timers 30 90\n  neighbor 192.0.2.3 remote-as 64514\n  neighbor 192.0.2.3 bfd\n",
			"    neighbor 192.0.2.2 route-map 192.0.2.2-out out\n    network 198.51.100.10/32\n",
			"    neighbor 192.0.2.2 route-map 192.0.2.2-out out\n    neighbor 192.0.2.3 activate\n    neighbor 192.0.2.3 route-map 192.0.2.3-out out\n    network 198.51.100.10/32\n",
			"route-map 192.0.2.2-in deny 20\n", "route-map 192.0.2.3-out permit 1\n set community 64512:7\nexit\n!\nroute-map 192.0.2.2-in deny 20\n"),
			desired: base},
		{name: "change_values_in_place", old: base, desired: edit(t,
			"neighbor 192.0.2.2 remote-as 64513", "neighbor 192.0.2.2 remote-as 64599",
			"neighbor 192.0.2.2 timers 30 90", "neighbor 192.0.2.2 timers 3 9",
			"set local-preference 100", "set local-preference 200",
			"bgp router-id 192.0.2.1", "bgp router-id 192.0.2.9",
			"    receive-interval 300", "    receive-interval 100",
			"prefix-list 192.0.2.2-pl-ipv4 seq 1 permit 198.51.100.10/32", "prefix-list 192.0.2.2-pl-ipv4 seq 1 permit 198.51.100.0/24 le 32")},
		{name: "route_map_entry_added_and_removed", old: base, desired: edit(t,
			"route-map 192.0.2.2-out permit 2\n match ipv6 address prefix-list 192.0.2.2-pl-ipv6\nexit\n",
			"route-map 192.0.2.2-out permit 3\n match community cl\n set large-community 64512:1:1\nexit\n",
			"    network 198.51.100.10/32\n", "    network 198.51.100.10/32 route-map 192.0.2.2-out\n")},
		{name: "community_list_and_bfd", old: base, desired: edit(t,
			"bgp community-list standard cl seq 5 permit 64512:100\n", "bgp community-list standard cl2 seq 5 permit 64512:200\n",
			"  profile prof1\n", "  peer 192.0.2.2\n    profile prof1\n  exit\n  profile prof1\n    detect-multiplier 5\n")},
		{name: "bfd_profile_removed", old: base, desired: edit(t,
			"  neighbor 192.0.2.2 bfd profile prof1\n", "",
			"bfd\n  profile prof1\n    receive-interval 300\n    transmit-interval 300\n  exit\nexit\n", "")},
		{name: "flags_back_to_default", old: base, desired: edit(t,
			"  no bgp ebgp-requires-policy\n", "",
			"  no bgp default ipv4-unicast\n", "")},
		// The import goes before the router of the VRF it imports: FRR
		// keeps an imported VRF's instance.
		{name: "import_removed_with_its_vrf_router", old: edit(t,
			"    network 198.51.100.10/32\n  exit-address-family\n", "    network 198.51.100.10/32\n    import vrf blue\n  exit-address-family\n") +
			"router bgp 64512 vrf blue\n no bgp default ipv4-unicast\nexit\n",
			desired: base},
		{name: "router_replaced", old: base + "router bgp 64512 vrf red\n bgp router-id 192.0.2.1\nexit\n",
			desired: strings.ReplaceAll(base, "router bgp 64512\n", "router bgp 64600\n")},
		{name: "local_as_added", old: base, desired: edit(t,
			"  neighbor 192.0.2.2 remote-as 64513\n", "  neighbor 192.0.2.2 remote-as 64513\n  neighbor 192.0.2.2 local-as 64600 no-prepend replace-as\n  neighbor 192.0.2.2 disable-connected-check\n")},
		{name: "local_as_changed", old: edit(t,
			"  neighbor 192.0.2.2 remote-as 64513\n", "  neighbor 192.0.2.2 remote-as 64513\n  neighbor 192.0.2.2 local-as 64600 no-prepend replace-as\n"),
			desired: edit(t,
				"  neighbor 192.0.2.2 remote-as 64513\n", "  neighbor 192.0.2.2 remote-as 64513\n  neighbor 192.0.2.2 local-as 64601 no-prepend replace-as\n")},
		{name: "local_as_removed", old: edit(t,
			"  neighbor 192.0.2.2 remote-as 64513\n", "  neighbor 192.0.2.2 remote-as 64513\n  neighbor 192.0.2.2 local-as 64600 no-prepend replace-as\n  neighbor 192.0.2.2 disable-connected-check\n"),
			desired: base},
		{name: "add_interface_neighbors", old: base, desired: withInterfaceNeighbors(t, base)},
		{name: "remove_interface_neighbors", old: withInterfaceNeighbors(t, base), desired: base},
		{name: "change_interface_neighbors", old: withInterfaceNeighbors(t, base), desired: strings.NewReplacer(
			"neighbor eth1 interface remote-as external", "neighbor eth1 interface remote-as 64515",
			"neighbor fe80::2 interface eth2", "neighbor fe80::2 interface eth3").Replace(withInterfaceNeighbors(t, base))},
		{name: "ipv6_neighbor_uncanonical", old: base, desired: edit(t,
			"  neighbor 192.0.2.2 timers 30 90\n", "  neighbor 192.0.2.2 timers 30 90\n  neighbor 2001:DB8:0::2 remote-as 64513\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var old *Config
			if tc.old != "-" {
				old = Parse([]byte(tc.old))
			}
			want := Parse([]byte(tc.desired))
			d := Diff(old, want)
			golden(t, "TestDiff/"+tc.name, d.Script)

			// Running the script on old must give desired.
			start := old
			if start == nil {
				start = Parse(nil)
			}
			got, err := simulate(start, d.Script)
			if err != nil {
				t.Fatalf("simulating the script: %v", err)
			}
			if diff := cmp.Diff(flatten(want), flatten(got)); diff != "" {
				t.Errorf("old + script != desired (-want +got):\n%s", diff)
			}
			// And the checks hold on the result.
			if failed := Verify(got, d.Checks); len(failed) > 0 {
				t.Errorf("checks fail on the simulated result: %s", describeChecks(failed))
			}
		})
	}
}
