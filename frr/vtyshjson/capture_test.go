package vtyshjson

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ironlb/ironlb/internal/frrproc"
)

var capture = flag.Bool("capture", false, "start two peered FRRs and rewrite the fixtures in testdata from their output")

// speakerConfig announces service IPs with communities and a local
// preference to its peer over IPv4 and IPv6, with BFD, and has one
// neighbor that never comes up.
const speakerConfig = `frr defaults traditional
ip prefix-list svc4 seq 5 permit 198.51.100.0/24 le 32
ipv6 prefix-list svc6 seq 5 permit 2001:db8:100::/48 le 128
route-map out permit 10
 match ip address prefix-list svc4
 set community 64512:100 64512:200
 set large-community 64512:1:1
 set local-preference 150
exit
route-map out permit 20
 match ipv6 address prefix-list svc6
 set community 64512:600
exit
route-map in permit 10
exit
route-map origin permit 10
 set community 64512:300
 set large-community 64512:2:2
 set local-preference 120
exit
bfd
 profile fast
  receive-interval 100
  transmit-interval 100
  detect-multiplier 4
 exit
exit
router bgp 64512
 bgp router-id 192.0.2.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 no bgp default ipv4-unicast
 neighbor 192.0.2.2 remote-as 64513
 neighbor 192.0.2.2 timers 1 3
 neighbor 192.0.2.2 bfd
 neighbor 192.0.2.2 bfd profile fast
 neighbor 192.0.2.9 remote-as 64514
 neighbor 192.0.2.9 description never-up
 neighbor 192.0.2.9 bfd
 neighbor 2001:db8::2 remote-as 64513
 neighbor 2001:db8::2 timers 1 3
 neighbor 2001:db8::2 bfd
 address-family ipv4 unicast
  network 198.51.100.10/32
  network 198.51.100.11/32 route-map origin
  network 203.0.113.0/24
  neighbor 192.0.2.2 activate
  neighbor 192.0.2.2 route-map in in
  neighbor 192.0.2.2 route-map out out
  neighbor 192.0.2.9 activate
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:100::10/128
  network 2001:db8:100::11/128
  neighbor 2001:db8::2 activate
  neighbor 2001:db8::2 route-map in in
  neighbor 2001:db8::2 route-map out out
 exit-address-family
exit
`

const peerConfig = `frr defaults traditional
route-map lp permit 10
 set local-preference 200
exit
router bgp 64513
 bgp router-id 192.0.2.2
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor 192.0.2.1 remote-as 64512
 neighbor 192.0.2.1 timers 1 3
 neighbor 192.0.2.1 bfd
 neighbor 2001:db8::1 remote-as 64512
 neighbor 2001:db8::1 timers 1 3
 neighbor 2001:db8::1 bfd
 address-family ipv4 unicast
  neighbor 192.0.2.1 activate
  neighbor 192.0.2.1 route-map lp in
 exit-address-family
 address-family ipv6 unicast
  neighbor 2001:db8::1 activate
 exit-address-family
exit
`

// TestCaptureFixtures rewrites testdata/*.json from a live pair of FRRs
// when run with -capture (as root):
//
//	go test ./frr/vtyshjson/ -run TestCaptureFixtures -capture
func TestCaptureFixtures(t *testing.T) {
	if !*capture {
		t.Skip("run with -capture to rewrite the fixtures")
	}
	frrproc.SkipUnlessRoot(t)
	ctx := t.Context()
	nsA, nsB := frrproc.NewTestNetns(t), frrproc.NewTestNetns(t)
	if err := frrproc.Veth(ctx, nsA, "eth-b", "192.0.2.1/24", nsB, "eth-a", "192.0.2.2/24"); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct{ ns, ifc, addr string }{{nsA, "eth-b", "2001:db8::1/64"}, {nsB, "eth-a", "2001:db8::2/64"}} {
		if err := frrproc.IP(ctx, "-n", a.ns, "addr", "add", a.addr, "dev", a.ifc, "nodad"); err != nil {
			t.Fatal(err)
		}
	}
	peer := frrproc.StartTest(t, frrproc.Config{Netns: nsB, InitialConfig: []byte(peerConfig)})
	speaker := frrproc.StartTest(t, frrproc.Config{Netns: nsA, InitialConfig: []byte(speakerConfig)})

	// Wait until both sessions and both BFD sessions are up and the peer
	// has the routes; then reset the IPv4 session once, so the outputs
	// carry a last notification, and wait again.
	waitUp := func() {
		t.Helper()
		deadline, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		for {
			bfd, _ := speaker.Vtysh(ctx, "show bfd peers brief")
			sum, _ := speaker.Vtysh(ctx, "show bgp summary")
			rib, _ := peer.Vtysh(ctx, "show bgp ipv4 unicast", "show bgp ipv6 unicast")
			if strings.Count(string(bfd), " up ") >= 2 && strings.Count(string(rib), "*>") >= 4 {
				return
			}
			select {
			case <-deadline.Done():
				t.Fatalf("peering did not come up:\n%s\n%s\n%s", sum, bfd, rib)
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	waitUp()
	// The peer shuts the IPv4 session with a message and opens it again:
	// the speaker receives a Cease notification.
	if _, err := peer.Vtysh(ctx, "configure terminal", "router bgp 64513", "neighbor 192.0.2.1 shutdown message maintenance"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if _, err := peer.Vtysh(ctx, "configure terminal", "router bgp 64513", "no neighbor 192.0.2.1 shutdown"); err != nil {
		t.Fatal(err)
	}
	waitUp()
	time.Sleep(2 * time.Second) // let uptimes tick and counters settle

	for _, fx := range []struct {
		frr  *frrproc.FRR
		cmd  string
		file string
	}{
		{speaker, "show bgp neighbors json", "bgp_neighbors_speaker.json"},
		{peer, "show bgp neighbors json", "bgp_neighbors_peer.json"},
		{speaker, "show bfd peers json", "bfd_peers_speaker.json"},
		{peer, "show bfd peers json", "bfd_peers_peer.json"},
		{speaker, "show bgp ipv4 unicast json", "bgp_ipv4_unicast_speaker.json"},
		{peer, "show bgp ipv4 unicast json", "bgp_ipv4_unicast_peer.json"},
		{speaker, "show bgp ipv6 unicast json", "bgp_ipv6_unicast_speaker.json"},
		{peer, "show bgp ipv6 unicast json", "bgp_ipv6_unicast_peer.json"},
		{peer, "show bgp ipv4 unicast 198.51.100.11/32 json", "bgp_ipv4_prefix_peer.json"},
		{peer, "show bgp ipv6 unicast 2001:db8:100::10/128 json", "bgp_ipv6_prefix_peer.json"},
	} {
		out, err := fx.frr.Vtysh(ctx, fx.cmd)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", fx.file), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
