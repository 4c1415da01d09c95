package e2e

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// arpPacket is one ARP packet a namespace's interface saw.
type arpPacket struct {
	at time.Time
	// op is 1 for a request, 2 for a reply.
	op                 uint16
	senderMAC          string
	senderIP, targetIP netip.Addr
}

// gratuitous reports an announcement: a request or a reply whose sender
// and target IPs are the same.
func (p arpPacket) gratuitous() bool { return p.senderIP == p.targetIP }

func (p arpPacket) String() string {
	op := "request"
	if p.op == 2 {
		op = "reply"
	}
	return fmt.Sprintf("%s %s %s is-at %s (target %s)", p.at.UTC().Format("15:04:05.000000"), op, p.senderIP, p.senderMAC, p.targetIP)
}

// arpWatch records the ARP packets an interface of a namespace sees.
type arpWatch struct {
	start time.Time
	done  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	seen  []arpPacket
}

// watchARP starts recording the ARP packets dev of the namespace ns
// sees, until tb ends.
func watchARP(tb testing.TB, ns, dev string) *arpWatch {
	tb.Helper()
	w := &arpWatch{start: time.Now(), done: make(chan struct{})}
	ready := make(chan error, 1)
	w.wg.Go(func() {
		runtime.LockOSThread() // the thread ends with the goroutine: it stays in ns
		h, err := netns.GetFromName(ns)
		if err != nil {
			ready <- err
			return
		}
		defer h.Close()
		if err := netns.Set(h); err != nil {
			ready <- err
			return
		}
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			ready <- err
			return
		}
		proto := int(htons(unix.ETH_P_ARP))
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM, proto)
		if err != nil {
			ready <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ARP), Ifindex: ifi.Index}); err != nil {
			ready <- err
			return
		}
		// Wakes up the reader now and then to see whether to stop.
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100000}); err != nil {
			ready <- err
			return
		}
		ready <- nil
		w.read(fd)
	})
	if err := <-ready; err != nil {
		w.wg.Wait()
		tb.Fatalf("watching ARP on %s %s: %v", ns, dev, err)
	}
	tb.Cleanup(w.stop)
	return w
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (w *arpWatch) read(fd int) {
	buf := make([]byte, 1500)
	for {
		select {
		case <-w.done:
			return
		default:
		}
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			continue // the timeout, mostly
		}
		// Ethernet/IPv4 ARP: htype, ptype, hlen 6, plen 4, op, sha, spa, tha, tpa.
		b := buf[:n]
		if n < 28 || b[4] != 6 || b[5] != 4 {
			continue
		}
		p := arpPacket{at: time.Now(), op: binary.BigEndian.Uint16(b[6:8]), senderMAC: net.HardwareAddr(b[8:14]).String()}
		p.senderIP, _ = netip.AddrFromSlice(b[14:18])
		p.targetIP, _ = netip.AddrFromSlice(b[24:28])
		w.mu.Lock()
		w.seen = append(w.seen, p)
		w.mu.Unlock()
	}
}

func (w *arpWatch) stop() {
	select {
	case <-w.done:
	default:
		close(w.done)
	}
	w.wg.Wait()
}

// packets returns the packets seen so far, in order, that pass keep.
func (w *arpWatch) packets(keep func(arpPacket) bool) []arpPacket {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(w.seen), func(p arpPacket) bool { return !keep(p) })
}

// waitAnnounced waits until the watch saw a gratuitous ARP for ip from
// mac after since.
func (w *arpWatch) waitAnnounced(tb testing.TB, ip netip.Addr, mac string, since time.Time) arpPacket {
	tb.Helper()
	var found arpPacket
	l2Wait(tb, fmt.Sprintf("a gratuitous ARP for %s from %s", ip, mac), func(context.Context) (bool, string) {
		got := w.packets(func(p arpPacket) bool { return p.senderIP == ip && !p.at.Before(since) })
		for _, p := range got {
			if p.gratuitous() && p.senderMAC == mac {
				found = p
				return true, ""
			}
		}
		return false, fmt.Sprint(got)
	})
	return found
}

// waitQuiet waits until nobody announced ip for quiet: a burst of
// announcements, as after a gain, is over.
func (w *arpWatch) waitQuiet(tb testing.TB, ip netip.Addr, quiet time.Duration) {
	tb.Helper()
	l2Wait(tb, fmt.Sprintf("no gratuitous ARP for %s for %v", ip, quiet), func(context.Context) (bool, string) {
		last := w.start
		for _, p := range w.packets(func(p arpPacket) bool { return p.senderIP == ip && p.gratuitous() }) {
			last = p.at
		}
		return time.Since(last) >= quiet, "last at " + last.UTC().Format("15:04:05.000")
	})
}
