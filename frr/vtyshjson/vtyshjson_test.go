package vtyshjson

import (
	"encoding/json"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// golden compares v, as indented JSON, with testdata/NAME.golden.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name+".golden")
	if *update {
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

func TestParseFixtures(t *testing.T) {
	for _, tc := range []struct {
		file  string
		parse func([]byte) (any, error)
	}{
		{"bgp_neighbors_speaker.json", func(b []byte) (any, error) { return ParseBGPNeighbors(b) }},
		{"bgp_neighbors_peer.json", func(b []byte) (any, error) { return ParseBGPNeighbors(b) }},
		{"bfd_peers_speaker.json", func(b []byte) (any, error) { return ParseBFDPeers(b) }},
		{"bfd_peers_peer.json", func(b []byte) (any, error) { return ParseBFDPeers(b) }},
		{"bgp_ipv4_unicast_speaker.json", func(b []byte) (any, error) { return ParseBGPIPv4Unicast(b) }},
		{"bgp_ipv4_unicast_peer.json", func(b []byte) (any, error) { return ParseBGPIPv4Unicast(b) }},
		{"bgp_ipv6_unicast_speaker.json", func(b []byte) (any, error) { return ParseBGPIPv6Unicast(b) }},
		{"bgp_ipv6_unicast_peer.json", func(b []byte) (any, error) { return ParseBGPIPv6Unicast(b) }},
		{"bgp_ipv4_prefix_peer.json", func(b []byte) (any, error) { return ParseBGPPrefix(b) }},
		{"bgp_ipv6_prefix_peer.json", func(b []byte) (any, error) { return ParseBGPPrefix(b) }},
		{"bgp_vrf_all_neighbors_speaker.json", func(b []byte) (any, error) { return ParseBGPNeighborsAllVRFs(b) }},
		{"bfd_counters_speaker.json", func(b []byte) (any, error) { return ParseBFDCounters(b) }},
		{"bfd_peers_vrf_speaker.json", func(b []byte) (any, error) { return ParseBFDPeers(b) }},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := tc.parse(fixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, strings.TrimSuffix(tc.file, ".json"), got)
		})
	}
}

// TestFixtureMeaning checks what the fixtures were captured to show, so
// a recapture that lost it fails.
func TestFixtureMeaning(t *testing.T) {
	ns, err := ParseBGPNeighbors(fixture(t, "bgp_neighbors_speaker.json"))
	if err != nil {
		t.Fatal(err)
	}
	byAddr := map[string]BGPNeighbor{}
	for _, n := range ns {
		byAddr[n.Address] = n
	}
	up := byAddr["192.0.2.2"]
	if !up.Established() || up.Uptime <= 0 || up.ConnectionsEstablished < 1 || up.RemoteAS != 64513 {
		t.Errorf("192.0.2.2 = %+v, want an established session from AS 64513 with an uptime", up)
	}
	if up.LastNotification != "Cease/Administrative Shutdown" || up.LastShutdownDescription != "maintenance" || up.LastNotificationCode != "0602" {
		t.Errorf("192.0.2.2 last notification = %q %q %q, want the peer's shutdown", up.LastNotification, up.LastNotificationCode, up.LastShutdownDescription)
	}
	if up.BFD == nil || up.BFD.Status != "Up" {
		t.Errorf("192.0.2.2 BFD = %+v, want Up", up.BFD)
	}
	if up.AddressFamilies["ipv4Unicast"].Sent != 2 {
		t.Errorf("192.0.2.2 ipv4 sent = %+v, want 2 prefixes", up.AddressFamilies)
	}
	down := byAddr["192.0.2.9"]
	if down.Established() || down.Uptime != 0 || down.Description != "never-up" || down.ConnectionsEstablished != 0 {
		t.Errorf("192.0.2.9 = %+v, want a never established neighbor", down)
	}

	peers, err := ParseBFDPeers(fixture(t, "bfd_peers_speaker.json"))
	if err != nil {
		t.Fatal(err)
	}
	var upCount, downCount int
	for _, p := range peers {
		switch {
		case p.Up() && p.Uptime > 0:
			upCount++
		case !p.Up() && p.Peer == "192.0.2.9" && p.Downtime > 0:
			downCount++
		}
	}
	if upCount != 2 || downCount != 1 {
		t.Errorf("bfd peers = %+v, want 2 up and 192.0.2.9 down", peers)
	}

	table, err := ParseBGPIPv4Unicast(fixture(t, "bgp_ipv4_unicast_peer.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got []netip.Prefix
	for _, r := range table.Routes {
		best, ok := r.Best()
		if !ok || !best.HasLocalPref || best.LocalPref != 200 || best.PeerID != "192.0.2.1" || best.NextHops[0].IP != "192.0.2.1" {
			t.Errorf("route %s best = %+v, want local pref 200 via 192.0.2.1", r.Prefix, best)
		}
		got = append(got, r.Prefix)
	}
	want := []netip.Prefix{netip.MustParsePrefix("198.51.100.10/32"), netip.MustParsePrefix("198.51.100.11/32")}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("peer's routes (-want +got):\n%s", diff)
	}

	route, err := ParseBGPPrefix(fixture(t, "bgp_ipv4_prefix_peer.json"))
	if err != nil {
		t.Fatal(err)
	}
	best, _ := route.Best()
	if diff := cmp.Diff([]string{"64512:100", "64512:200"}, best.Communities); diff != "" {
		t.Errorf("communities (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"64512:1:1"}, best.LargeCommunities); diff != "" {
		t.Errorf("large communities (-want +got):\n%s", diff)
	}
	if best.ASPath != "64512" || best.From != "external" {
		t.Errorf("best = %+v, want AS path 64512 from an external peer", best)
	}
}

func TestParseTolerance(t *testing.T) {
	t.Run("neighbors: missing fields and non-neighbor keys", func(t *testing.T) {
		got, err := ParseBGPNeighbors([]byte(`{"vrfId":0,"vrfName":"default","192.0.2.5":{"bgpState":"Idle"},"192.0.2.4":{}}`))
		if err != nil {
			t.Fatal(err)
		}
		want := []BGPNeighbor{{Address: "192.0.2.4"}, {Address: "192.0.2.5", State: "Idle"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("neighbors: uptime only when established", func(t *testing.T) {
		got, err := ParseBGPNeighbors([]byte(`{"192.0.2.5":{"bgpState":"Established","bgpTimerUpMsec":1500},"192.0.2.6":{"bgpState":"Active","bgpTimerUpMsec":1500}}`))
		if err != nil {
			t.Fatal(err)
		}
		if got[0].Uptime != 1500*time.Millisecond || got[1].Uptime != 0 {
			t.Errorf("uptimes = %v, %v; want 1.5s and 0", got[0].Uptime, got[1].Uptime)
		}
	})
	t.Run("bfd: non-objects skipped", func(t *testing.T) {
		got, err := ParseBFDPeers([]byte(`[1, {"peer":"192.0.2.2","status":"up","uptime":3}, null]`))
		if err != nil {
			t.Fatal(err)
		}
		want := []BFDPeer{{Peer: "192.0.2.2", Status: "up", Uptime: 3 * time.Second}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("table: empty", func(t *testing.T) {
		got, err := ParseBGPIPv6Unicast([]byte(`{}`))
		if err != nil || len(got.Routes) != 0 {
			t.Errorf("= %+v, %v; want an empty table", got, err)
		}
	})
}

func TestParseErrorsNameTheCommand(t *testing.T) {
	for _, tc := range []struct {
		name    string
		parse   func([]byte) error
		input   string
		command string
		text    string
	}{
		{"neighbors not json", func(b []byte) error { _, err := ParseBGPNeighbors(b); return err },
			"% BGP instance not found\n", CmdBGPNeighbors, "BGP instance not found"},
		{"neighbors wrong type", func(b []byte) error { _, err := ParseBGPNeighbors(b); return err },
			`{"192.0.2.2":{"bgpState":5}}`, CmdBGPNeighbors, "neighbor 192.0.2.2"},
		{"bfd empty", func(b []byte) error { _, err := ParseBFDPeers(b); return err },
			"  \n", CmdBFDPeers, "empty output"},
		{"bfd object instead of array", func(b []byte) error { _, err := ParseBFDPeers(b); return err },
			`{"peer":"192.0.2.2"}`, CmdBFDPeers, "cannot unmarshal"},
		{"ipv4 bad prefix", func(b []byte) error { _, err := ParseBGPIPv4Unicast(b); return err },
			`{"routes":{"bogus":[{}]}}`, CmdBGPIPv4, `route "bogus"`},
		{"ipv6 truncated", func(b []byte) error { _, err := ParseBGPIPv6Unicast(b); return err },
			`{"routes":{"2001:db8::/64":[{"valid":tr`, CmdBGPIPv6, "true"},
		{"prefix bad community", func(b []byte) error { _, err := ParseBGPPrefix(b); return err },
			`{"prefix":"198.51.100.1/32","paths":[{"community":7}]}`, CmdBGPPrefix, "path 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.parse([]byte(tc.input))
			var pe *Error
			if !errors.As(err, &pe) || pe.Command != tc.command || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("err = %v, want an *Error for %q containing %q", err, tc.command, tc.text)
			}
		})
	}
}

func seeds(f *testing.F, files ...string) {
	for _, name := range files {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`% Unknown command`))
}

func FuzzParseBGPNeighbors(f *testing.F) {
	seeds(f, "bgp_neighbors_speaker.json", "bgp_neighbors_peer.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		ns, err := ParseBGPNeighbors(data)
		if err != nil {
			return
		}
		if !slices.IsSortedFunc(ns, func(a, b BGPNeighbor) int { return strings.Compare(a.Address, b.Address) }) {
			t.Errorf("neighbors not sorted: %v", ns)
		}
		for _, n := range ns {
			if !n.Established() && n.Uptime != 0 {
				t.Errorf("neighbor %s not established has uptime %v", n.Address, n.Uptime)
			}
		}
	})
}

func FuzzParseBGPNeighborsAllVRFs(f *testing.F) {
	seeds(f, "bgp_vrf_all_neighbors_speaker.json", "bgp_neighbors_speaker.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		ns, err := ParseBGPNeighborsAllVRFs(data)
		if err != nil {
			return
		}
		if !slices.IsSortedFunc(ns, func(a, b BGPNeighbor) int {
			if c := strings.Compare(a.VRF, b.VRF); c != 0 {
				return c
			}
			return strings.Compare(a.Address, b.Address)
		}) {
			t.Errorf("neighbors not sorted by VRF and address: %v", ns)
		}
	})
}

func FuzzParseBFDCounters(f *testing.F) {
	seeds(f, "bfd_counters_speaker.json", "bfd_peers_speaker.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseBFDCounters(data)
	})
}

func FuzzParseBFDPeers(f *testing.F) {
	seeds(f, "bfd_peers_speaker.json", "bfd_peers_peer.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseBFDPeers(data)
	})
}

func FuzzParseBGPUnicast(f *testing.F) {
	seeds(f, "bgp_ipv4_unicast_speaker.json", "bgp_ipv4_unicast_peer.json", "bgp_ipv6_unicast_speaker.json", "bgp_ipv6_unicast_peer.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		table, err := ParseBGPIPv4Unicast(data)
		if err != nil {
			return
		}
		for _, r := range table.Routes {
			if !r.Prefix.IsValid() {
				t.Errorf("invalid prefix in %+v", r)
			}
		}
	})
}

func FuzzParseBGPPrefix(f *testing.F) {
	seeds(f, "bgp_ipv4_prefix_peer.json", "bgp_ipv6_prefix_peer.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ParseBGPPrefix(data)
	})
}
