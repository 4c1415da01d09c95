package vtyshjson

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ironlb/ironlb/internal/frrproc"
)

// vrfSpeakerConfig has one session in the default VRF and one in VRF
// red, both with BFD. The test machines' kernels may lack VRF devices,
// so red has none: its session stays down, which is what the fixture
// needs to show (a second VRF, a session that is not up).
const vrfSpeakerConfig = `frr defaults traditional
router bgp 64512
 bgp router-id 192.0.2.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 no bgp default ipv4-unicast
 neighbor 192.0.2.2 remote-as 64513
 neighbor 192.0.2.2 description router-default
 neighbor 192.0.2.2 timers 1 3
 neighbor 192.0.2.2 bfd
 address-family ipv4 unicast
  network 198.51.100.10/32
  neighbor 192.0.2.2 activate
 exit-address-family
exit
router bgp 64512 vrf red
 bgp router-id 203.0.113.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 no bgp default ipv4-unicast
 neighbor 203.0.113.2 remote-as 64513
 neighbor 203.0.113.2 description router-red
 neighbor 203.0.113.2 timers 1 3
 neighbor 203.0.113.2 bfd
 address-family ipv4 unicast
  network 198.51.100.20/32
  network 198.51.100.21/32
  neighbor 203.0.113.2 activate
 exit-address-family
exit
`

// vrfPeerConfig peers with the speaker's default VRF and sends it one
// route.
const vrfPeerConfig = `frr defaults traditional
router bgp 64513
 bgp router-id 192.0.2.2
 no bgp ebgp-requires-policy
 no bgp network import-check
 no bgp default ipv4-unicast
 neighbor 192.0.2.1 remote-as 64512
 neighbor 192.0.2.1 timers 1 3
 neighbor 192.0.2.1 bfd
 address-family ipv4 unicast
  network 198.51.100.99/32
  neighbor 192.0.2.1 activate
 exit-address-family
exit
`

// TestCaptureVRFFixtures rewrites the fixtures of the commands that
// cover every VRF (`show bgp vrf all neighbors json`, `show bfd peers
// counters json`) from a live pair of FRRs when run with -capture (as
// root):
//
//	go test ./frr/vtyshjson/ -run TestCaptureVRFFixtures -capture
//
// The speaker has a session in its default VRF and one in VRF red; the
// peer shuts the default one down and opens it again, so the BFD
// counters show a down event and a second up event.
func TestCaptureVRFFixtures(t *testing.T) {
	if !*capture {
		t.Skip("run with -capture to rewrite the fixtures")
	}
	frrproc.SkipUnlessRoot(t)
	ctx := t.Context()
	nsA, nsB := frrproc.NewTestNetns(t), frrproc.NewTestNetns(t)
	if err := frrproc.Veth(ctx, nsA, "eth-b", "192.0.2.1/24", nsB, "eth-a", "192.0.2.2/24"); err != nil {
		t.Fatal(err)
	}
	peer := frrproc.StartTest(t, frrproc.Config{Netns: nsB, InitialConfig: []byte(vrfPeerConfig)})
	speaker := frrproc.StartTest(t, frrproc.Config{Netns: nsA, InitialConfig: []byte(vrfSpeakerConfig)})

	waitUp := func() {
		t.Helper()
		deadline, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		for {
			bfd, _ := speaker.Vtysh(ctx, "show bfd peers brief")
			sum, _ := speaker.Vtysh(ctx, "show bgp vrf all summary")
			if strings.Count(string(bfd), " up ") >= 1 && countUp(string(sum)) >= 1 {
				return
			}
			select {
			case <-deadline.Done():
				t.Fatalf("peering did not come up:\n%s\n%s", sum, bfd)
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
	waitUp()
	// The peer shuts the session down and opens it again: BFD goes down
	// and up once more.
	if _, err := peer.Vtysh(ctx, "configure terminal", "router bgp 64513", "neighbor 192.0.2.1 shutdown"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	if _, err := peer.Vtysh(ctx, "configure terminal", "router bgp 64513", "no neighbor 192.0.2.1 shutdown"); err != nil {
		t.Fatal(err)
	}
	waitUp()
	time.Sleep(2 * time.Second)

	for _, fx := range []struct {
		cmd, file string
	}{
		{CmdBGPNeighborsAllVRFs, "bgp_vrf_all_neighbors_speaker.json"},
		{CmdBFDCounters, "bfd_counters_speaker.json"},
		{CmdBFDPeers, "bfd_peers_vrf_speaker.json"},
	} {
		out, err := speaker.Vtysh(ctx, fx.cmd)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", fx.file), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// countUp counts the summary lines whose State/PfxRcd column is a
// number: sessions that are up.
func countUp(summary string) int {
	n := 0
	for _, line := range strings.Split(summary, "\n") {
		f := strings.Fields(line)
		if len(f) < 10 || !strings.Contains(f[0], ".") {
			continue
		}
		if st := f[9]; st != "" && st[0] >= '0' && st[0] <= '9' {
			n++
		}
	}
	return n
}
