package ndp

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/ndp"
	"golang.org/x/net/ipv6"

	"github.com/ironlb/ironlb/l2/internal/netnstest"
)

const (
	macA     = "02:00:00:00:0a:02"
	macB     = "02:00:00:00:0b:02"
	staleMAC = "02:00:00:00:00:98"
)

// TestRawSocket runs a Responder on a real NDP socket in one network
// namespace and checks from a peer namespace, over a veth pair, that the
// IP resolves to the responder's MAC (with an NDP client and with the
// peer's kernel) and that an unsolicited advertisement moves an
// existing neighbor entry of the peer to it.
func TestRawSocket(t *testing.T) {
	a := netnstest.New(t, "ilbt-l2-ndp-a")
	b := netnstest.New(t, "ilbt-l2-ndp-b")
	// The responder's side has only its link-local address.
	netnstest.Veth(t, a, "va", macA, nil, b, "vb", macB, []string{"2001:db8:0:1::2/64"})
	for _, end := range []struct {
		ns  *netnstest.NS
		dev string
	}{{a, "va"}, {b, "vb"}} {
		netnstest.Eventually(t, "a link-local address on "+end.dev, func() bool {
			return strings.Contains(end.ns.Exec(t, "ip", "-6", "addr", "show", "dev", end.dev, "scope", "link"), "fe80::")
		})
	}

	vip, moved := netip.MustParseAddr("2001:db8:0:1::100"), netip.MustParseAddr("2001:db8:0:1::150")
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

	t.Run("NDP client resolves the IP", func(t *testing.T) {
		got, err := solicitFrom(b, "vb", vip)
		if err != nil {
			t.Fatalf("soliciting %s from %s: %v", vip, b.Name, err)
		}
		want := sent{Target: vip, Solicited: true, Override: true, LLA: macA}
		if got.Target != want.Target || got.Solicited != want.Solicited || got.Override != want.Override || got.LLA != want.LLA {
			t.Errorf("advertisement = %+v, want %+v", got, want)
		}
	})

	t.Run("peer kernel resolves the IP, answered by multicast", func(t *testing.T) {
		// Namespace a has no route to the peer's 2001:db8:0:1::2.
		b.SendUDP(t, vip)
		netnstest.Eventually(t, "the peer's neighbor entry for "+vip.String(), func() bool {
			n, ok := b.Neighbor(t, "vb", vip.String())
			return ok && n.LLAddr == macA
		})
	})

	t.Run("peer kernel resolves the IP, answered by unicast", func(t *testing.T) {
		a.Exec(t, "ip", "addr", "add", "2001:db8:0:1::1/64", "dev", "va", "nodad")
		vip2 := netip.MustParseAddr("2001:db8:0:1::200")
		if err := r.SetOwned([]netip.Addr{vip, vip2}); err != nil {
			t.Fatal(err)
		}
		b.SendUDP(t, vip2)
		// A solicited advertisement makes the entry REACHABLE, an
		// unsolicited one STALE.
		netnstest.Eventually(t, "a REACHABLE peer entry for "+vip2.String(), func() bool {
			n, ok := b.Neighbor(t, "vb", vip2.String())
			return ok && n.LLAddr == macA && slices.Contains(n.State, "REACHABLE")
		})
	})

	t.Run("unsolicited advertisement moves an existing entry", func(t *testing.T) {
		b.Exec(t, "ip", "-6", "neigh", "replace", moved.String(), "lladdr", staleMAC, "dev", "vb", "nud", "stale")
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

// solicitFrom sends a multicast Neighbor Solicitation for target from
// inside ns and returns the advertisement that answers it.
func solicitFrom(ns *netnstest.NS, dev string, target netip.Addr) (sent, error) {
	var got sent
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		c, _, err := ndp.Listen(ifi, ndp.LinkLocal)
		if err != nil {
			return err
		}
		defer c.Close()
		var f ipv6.ICMPFilter
		f.SetAll(true)
		f.Accept(ipv6.ICMPTypeNeighborAdvertisement)
		if err := c.SetICMPFilter(&f); err != nil {
			return err
		}
		// A bound on a hang, not a timing check.
		if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			return err
		}
		group, err := ndp.SolicitedNodeMulticast(target)
		if err != nil {
			return err
		}
		ns := &ndp.NeighborSolicitation{TargetAddress: target, Options: []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Source, Addr: ifi.HardwareAddr}}}
		if err := c.WriteTo(ns, nil, group); err != nil {
			return err
		}
		for {
			m, _, _, err := c.ReadFrom()
			if err != nil {
				return err
			}
			if na, ok := m.(*ndp.NeighborAdvertisement); ok && na.TargetAddress == target {
				got = describe(na, netip.Addr{})
				return nil
			}
		}
	})
	return got, err
}
