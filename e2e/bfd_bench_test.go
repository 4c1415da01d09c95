package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/ironlb/ironlb/e2e/lab"
)

// hopLoss records when the router's kernel route to one IP last changed
// and whether it then lacked a next hop.
type hopLoss struct {
	ip, gw netip.Addr

	mu   sync.Mutex
	lost chan struct{} // closed at the first update without gw
	at   time.Time
}

// watchHopLoss follows the router's kernel route to ip through netlink;
// arm starts a new watch for the loss of gw.
func watchHopLoss(b *testing.B, ip, gw netip.Addr) *hopLoss {
	b.Helper()
	h, err := netns.GetFromName(lab.RouterNetns)
	if err != nil {
		b.Fatalf("opening %s: %v", lab.RouterNetns, err)
	}
	b.Cleanup(func() { h.Close() })
	w := &hopLoss{ip: ip, gw: gw}
	ch := make(chan netlink.RouteUpdate, 1024)
	done := make(chan struct{})
	b.Cleanup(func() { close(done) })
	if err := netlink.RouteSubscribeWithOptions(ch, done, netlink.RouteSubscribeOptions{Namespace: &h}); err != nil {
		b.Fatalf("subscribing to the router's routes: %v", err)
	}
	go func() {
		for u := range ch {
			if u.Dst == nil {
				continue
			}
			dst, ok := netip.AddrFromSlice(u.Dst.IP)
			if !ok || dst.Unmap() != ip {
				continue
			}
			has := false
			if g, ok := netip.AddrFromSlice(u.Gw); ok && g.Unmap() == gw {
				has = true
			}
			for _, nh := range u.MultiPath {
				if g, ok := netip.AddrFromSlice(nh.Gw); ok && g.Unmap() == gw {
					has = true
				}
			}
			if u.Type == 25 /* RTM_DELROUTE */ {
				has = false
			}
			now := time.Now()
			w.mu.Lock()
			if !has && w.lost != nil && w.at.IsZero() {
				w.at = now
				close(w.lost)
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// arm starts watching for the next loss and returns its channel.
func (w *hopLoss) arm() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lost, w.at = make(chan struct{}), time.Time{}
	return w.lost
}

func (w *hopLoss) when() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.at
}

// BenchmarkBFDLinkCut measures, in the lab, the time from cutting
// ilb-n1's port on the LAN switch to the router's kernel route to a
// Service losing ilb-n1's next hop. The lab's BFD profile sends every
// 300 ms with multiplier 3: a detect time of 900 ms. Run it with:
//
//	go test ./e2e/ -run '^$' -bench BFDLinkCut -benchtime 20x -timeout 30m
func BenchmarkBFDLinkCut(b *testing.B) {
	l := startSpeakerLab(b)
	ip, all := serviceOnAllNodes(b, l, "bfd-bench")
	n1, _ := lab.NodeByName("ilb-n1")
	w := watchHopLoss(b, ip, n1.IPv4)
	link := func(state string) {
		if out, err := lab.Exec(context.Background(), lab.SwitchNetns, "ip", "link", "set", "n1", state); err != nil {
			b.Fatalf("setting n1's switch port %s: %v %s", state, err, out)
		}
	}
	b.Cleanup(func() { link("up") })
	var lat []time.Duration
	for range b.N {
		waitCond(b, "three next hops and BFD up to ilb-n1", func(ctx context.Context) (bool, string) {
			gws, err := nextHops(ctx, ip)
			if err != nil || !slices.Equal(gws, all) {
				return false, fmt.Sprint(gws, err)
			}
			st, err := routerBFD(ctx, l, n1.IPv4.String())
			return err == nil && st == "up", fmt.Sprint(st, err)
		})
		lost := w.arm()
		start := time.Now()
		link("down")
		select {
		case <-lost:
		case <-time.After(time.Minute):
			b.Fatal("the router kept ilb-n1's next hop for a minute after the cut")
		}
		lat = append(lat, w.when().Sub(start))
		link("up")
	}
	reportPercentiles(b, "detect", lat)
	b.ReportMetric(0, "ns/op")
}
