package frr

import (
	"context"
	"testing"
	"time"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/internal/frrproc"
)

// TestLocalASNFRR peers a speaker FRR in AS 64512, whose BGPPeer sets
// localASN 64600, with a receiving FRR that expects AS 64600: the session
// comes up only if the speaker presents 64600, and with no-prepend
// replace-as the route arrives with 64600 alone in its AS path. It runs
// as root only.
func TestLocalASNFRR(t *testing.T) {
	frrproc.SkipUnlessRoot(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	nsS, nsTor := testNetns(t, ctx, "ilbt-las-s-"), testNetns(t, ctx, "ilbt-las-tor-")
	if err := frrproc.Veth(ctx, nsS, "to-tor", "192.0.2.9/30", nsTor, "to-speaker", "192.0.2.10/30"); err != nil {
		t.Fatal(err)
	}
	m := &config.Model{
		Pools: []config.Pool{mkPool(t, "pool-a", "198.51.100.0/24")},
		Peers: []config.Peer{mkPeer("tor", "192.0.2.10", 64512, 64513, func(p *config.Peer) {
			p.HoldTime, p.KeepaliveTime, p.ConnectTime = dur("9s"), dur("3s"), dur("1s")
			p.LocalASN = 64600
		})},
		BGPAdvertisements: []config.BGPAdvertisement{mkAdv("all", []string{"pool-a"})},
	}
	cfg, err := Build(cluster(m, mkSvc("shop/web", "pool-a", "198.51.100.10")), node1, BuildOptions{RouterID: addr("192.0.2.9")})
	if err != nil {
		t.Fatal(err)
	}
	conf, err := newTestRenderer(t).Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	frrproc.StartTest(t, frrproc.Config{Netns: nsS, InitialConfig: conf})
	tor := frrproc.StartTest(t, frrproc.Config{Netns: nsTor, InitialConfig: []byte(`frr defaults traditional
router bgp 64513
 bgp router-id 192.0.2.10
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor 192.0.2.9 remote-as 64600
 neighbor 192.0.2.9 timers 3 9
 neighbor 192.0.2.9 timers connect 1
 address-family ipv4 unicast
  neighbor 192.0.2.9 activate
 exit-address-family
exit
`)})

	waitRoutes(t, ctx, tor, "local-as", map[string]route{"198.51.100.10/32": {}})
	var detail struct {
		Paths []struct {
			ASPath struct {
				String string `json:"string"`
			} `json:"aspath"`
		} `json:"paths"`
	}
	if err := tor.VtyshJSON(ctx, "show bgp ipv4 unicast 198.51.100.10/32 json", &detail); err != nil {
		t.Fatal(err)
	}
	if len(detail.Paths) != 1 || detail.Paths[0].ASPath.String != "64600" {
		t.Errorf("paths %+v, want one with AS path \"64600\" (replace-as hides 64512)", detail.Paths)
	}
}
