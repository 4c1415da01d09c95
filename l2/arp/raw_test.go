package arp

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/arp"

	"github.com/ironlb/ironlb/l2/internal/netnstest"
)

const (
	macA = "02:00:00:00:0a:01"
	macB = "02:00:00:00:0b:01"
	// staleMAC is what the peer believes before the announcement.
	staleMAC = "02:00:00:00:00:99"
)

// TestRawSocket runs a Responder on a real raw socket in one network
// namespace and checks from a peer namespace, over a veth pair, that the
// IP resolves to the responder's MAC (with an ARP client and with the
// peer's kernel) and that a gratuitous announcement moves an existing
// neighbor entry of the peer to it.
func TestRawSocket(t *testing.T) {
	a := netnstest.New(t, "ilbt-l2-arp-a")
	b := netnstest.New(t, "ilbt-l2-arp-b")
	// The responder's side has no IPv4 address: announcing needs none.
	netnstest.Veth(t, a, "va", macA, nil, b, "vb", macB, []string{"192.0.2.2/24"})
	if got := strings.TrimSpace(b.Exec(t, "sysctl", "-n", "net.ipv4.conf.vb.arp_accept")); got != "0" {
		t.Fatalf("peer arp_accept = %s, the test wants the default 0", got)
	}

	vip, moved := netip.MustParseAddr("192.0.2.100"), netip.MustParseAddr("192.0.2.150")
	var r *Responder
	if err := a.Do(func() error {
		ifi, err := net.InterfaceByName("va")
		if err != nil {
			return err
		}
		r, err = Dial(ifi, Config{})
		return err
	}); err != nil {
		t.Fatalf("Dial in %s: %v", a.Name, err)
	}
	if err := r.SetOwned([]netip.Addr{vip}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	t.Run("ARP client resolves the IP", func(t *testing.T) {
		var got net.HardwareAddr
		err := b.Do(func() error {
			ifi, err := net.InterfaceByName("vb")
			if err != nil {
				return err
			}
			c, err := arp.Dial(ifi)
			if err != nil {
				return err
			}
			defer c.Close()
			// A bound on a hang, not a timing check.
			if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
				return err
			}
			got, err = c.Resolve(vip)
			return err
		})
		if err != nil {
			t.Fatalf("resolving %s from %s: %v", vip, b.Name, err)
		}
		if got.String() != macA {
			t.Errorf("%s resolved to %s, want %s", vip, got, macA)
		}
	})

	t.Run("peer kernel resolves the IP", func(t *testing.T) {
		b.SendUDP(t, vip)
		netnstest.Eventually(t, "the peer's neighbor entry for "+vip.String(), func() bool {
			n, ok := b.Neighbor(t, "vb", vip.String())
			return ok && n.LLAddr == macA
		})
	})

	t.Run("gratuitous ARP moves an existing entry", func(t *testing.T) {
		b.Exec(t, "ip", "neigh", "replace", moved.String(), "lladdr", staleMAC, "dev", "vb", "nud", "stale")
		if n, _ := b.Neighbor(t, "vb", moved.String()); n.LLAddr != staleMAC {
			t.Fatalf("peer entry before = %+v, want lladdr %s", n, staleMAC)
		}
		if err := r.SetOwned([]netip.Addr{vip, moved}); err != nil {
			t.Fatal(err)
		}
		if err := r.Announce(moved); err != nil {
			t.Fatal(err)
		}
		netnstest.Eventually(t, "the peer's entry for "+moved.String()+" to move to "+macA, func() bool {
			n, ok := b.Neighbor(t, "vb", moved.String())
			return ok && n.LLAddr == macA
		})
	})
}
