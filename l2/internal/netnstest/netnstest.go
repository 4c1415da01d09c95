package netnstest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// RequireRoot skips the test unless it runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for network namespaces and raw sockets")
	}
}

// NS is a network namespace made for a test.
type NS struct {
	Name   string
	handle netns.NsHandle
}

// New creates the namespace (removing a leftover of that name first)
// with its loopback up and IPv6 duplicate address detection off, and
// deletes it when the test ends. Names must be unique across the tests
// that may run at the same time, such as "ilbt-l2-arp-a".
func New(t testing.TB, name string) *NS {
	t.Helper()
	RequireRoot(t)
	_ = exec.Command("ip", "netns", "del", name).Run()
	Run(t, "ip", "netns", "add", name)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("deleting netns %s: %v: %s", name, err, out)
		}
	})
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatalf("opening netns %s: %v", name, err)
	}
	t.Cleanup(func() { h.Close() })
	n := &NS{Name: name, handle: h}
	n.Exec(t, "ip", "link", "set", "lo", "up")
	n.Exec(t, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0")
	return n
}

// Handle returns the namespace handle; it is closed when the test ends.
func (n *NS) Handle() netns.NsHandle { return n.handle }

// Exec runs a command inside the namespace and returns its output; it
// fails the test when the command fails.
func (n *NS) Exec(t testing.TB, args ...string) string {
	t.Helper()
	return Run(t, append([]string{"ip", "netns", "exec", n.Name}, args...)...)
}

// Run runs a command and returns its output; it fails the test when the
// command fails.
func Run(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Do runs fn on an OS thread that is inside the namespace: sockets and
// netlink handles fn opens belong to it. The thread is dropped when it
// cannot be returned to the original namespace.
func (n *NS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("getting the current netns: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(n.handle); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("entering netns %s: %w", n.Name, err)
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			// Leave the thread locked: it ends with this goroutine.
			errc <- fmt.Errorf("leaving netns %s: %w", n.Name, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Interface looks an interface up inside the namespace.
func (n *NS) Interface(t testing.TB, name string) *net.Interface {
	t.Helper()
	var ifi *net.Interface
	err := n.Do(func() error {
		var err error
		ifi, err = net.InterfaceByName(name)
		return err
	})
	if err != nil {
		t.Fatalf("looking up %s in %s: %v", name, n.Name, err)
	}
	return ifi
}

// SendUDP sends one datagram to the discard port of ip from inside the
// namespace, which makes its kernel resolve ip.
func (n *NS) SendUDP(t testing.TB, ip netip.Addr) {
	t.Helper()
	err := n.Do(func() error {
		c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 9)))
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte("ironlb"))
		return err
	})
	if err != nil {
		t.Fatalf("sending to %s from %s: %v", ip, n.Name, err)
	}
}

// Neighbor is an entry of the neighbor table.
type Neighbor struct {
	Dst    string   `json:"dst"`
	Dev    string   `json:"dev"`
	LLAddr string   `json:"lladdr"`
	State  []string `json:"state"`
}

// Neighbor returns the neighbor entry of ip on dev, if there is one.
func (n *NS) Neighbor(t testing.TB, dev, ip string) (Neighbor, bool) {
	t.Helper()
	out := n.Exec(t, "ip", "-j", "neigh", "show", "dev", dev, "to", ip)
	var entries []Neighbor
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("parsing ip -j neigh: %v: %s", err, out)
	}
	for _, e := range entries {
		if e.Dst == ip {
			return e, true
		}
	}
	return Neighbor{}, false
}

// Veth links two namespaces with a veth pair, sets the MAC addresses,
// adds the addresses (CIDR notation) and brings both ends up.
func Veth(t testing.TB, a *NS, aName, aMAC string, aAddrs []string, b *NS, bName, bMAC string, bAddrs []string) {
	t.Helper()
	a.Exec(t, "ip", "link", "add", aName, "address", aMAC, "type", "veth", "peer", "name", bName, "address", bMAC, "netns", b.Name)
	for _, ad := range aAddrs {
		a.Exec(t, "ip", "addr", "add", ad, "dev", aName, "nodad")
	}
	for _, ad := range bAddrs {
		b.Exec(t, "ip", "addr", "add", ad, "dev", bName, "nodad")
	}
	a.Exec(t, "ip", "link", "set", aName, "up")
	b.Exec(t, "ip", "link", "set", bName, "up")
	a.WaitUp(t, aName)
	b.WaitUp(t, bName)
}

// WaitUp waits until a link is operationally up: the kernel drops what
// is sent on a link before that.
func (n *NS) WaitUp(t testing.TB, dev string) {
	t.Helper()
	Eventually(t, dev+" in "+n.Name+" operationally up", func() bool {
		return strings.Contains(n.Exec(t, "ip", "link", "show", "dev", dev), "state UP")
	})
}

// Eventually calls cond until it returns true, failing the test with msg
// after a generous bound. It is a wait for a hang, not a timing check.
func Eventually(t testing.TB, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
