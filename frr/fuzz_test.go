package frr

import (
	"bytes"
	"strings"
	"testing"
	"unicode"

	"github.com/ironlb/ironlb/config"
)

// FuzzNoLineInjection feeds arbitrary names, passwords and hostnames to
// Build. Whatever it accepts must render to as many lines as the same
// configuration with plain placeholder values, without control
// characters: no value can start a line of its own in frr.conf.
func FuzzNoLineInjection(f *testing.F) {
	f.Add("tor", "s3cret", "red", "fast", "node-1")
	f.Add("a\nb", "p w", "r\x00d", "x\ry", "h!")
	f.Add("peer", "pw\nrouter bgp 1", "vrf\n!", "bfd\texit", "host\nline vty")
	f.Add("!x", "#y", "", "", "")
	f.Add("ok", "\u2028", "\u0085", "b", "\u00a0")
	r := newTestRenderer(f)
	pool := mkPool(f, "pool", "198.51.100.0/24")
	render := func(peer, password, vrf, bfd, hostname string) ([]byte, error) {
		m := &config.Model{
			Pools: []config.Pool{pool},
			Peers: []config.Peer{mkPeer(peer, "192.0.2.1", 64512, 64513, func(p *config.Peer) {
				p.VRF = vrf
				if password != "" {
					p.Password = config.NewPassword(password)
				}
				if bfd != "" {
					p.BFDProfile = &config.BFDProfile{Name: bfd, DetectMultiplier: 5}
				}
			})},
			BGPAdvertisements: []config.BGPAdvertisement{mkAdv("adv", []string{"pool"})},
		}
		cfg, err := Build(cluster(m, mkSvc("a/b", "pool", "198.51.100.1")), node1, BuildOptions{Hostname: hostname})
		if err != nil {
			return nil, err
		}
		return r.Render(cfg)
	}
	placeholder := func(s, p string) string {
		if s == "" {
			return ""
		}
		return p
	}
	f.Fuzz(func(t *testing.T, peer, password, vrf, bfd, hostname string) {
		got, err := render(peer, password, vrf, bfd, hostname)
		if err != nil {
			return
		}
		want, err := render("peer", placeholder(password, "pw"), placeholder(vrf, "vrf"), placeholder(bfd, "bfd"), placeholder(hostname, "host"))
		if err != nil {
			t.Fatalf("placeholders rejected: %v", err)
		}
		if g, w := bytes.Count(got, []byte("\n")), bytes.Count(want, []byte("\n")); g != w {
			t.Errorf("%d lines, want %d:\n%s", g, w, got)
		}
		if i := strings.IndexFunc(string(got), func(r rune) bool { return r != '\n' && (unicode.IsControl(r) || unicode.IsSpace(r) && r != ' ') }); i >= 0 {
			t.Errorf("control or odd space character at byte %d:\n%q", i, got)
		}
	})
}
