package ndp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/ndp"
	"go.uber.org/goleak"
	"golang.org/x/net/ipv6"
)

var (
	ourMAC   = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	peerMAC  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	owned    = netip.MustParseAddr("2001:db8:0:1::100")
	notOwned = netip.MustParseAddr("2001:db8:0:1::101")
	peerLL   = netip.MustParseAddr("fe80::2").WithZone("eth0")
	addrEq   = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
)

type inMsg struct {
	m   ndp.Message
	cm  *ipv6.ControlMessage
	src netip.Addr
}

// sent is the interesting part of an advertisement sent.
type sent struct {
	Target                      netip.Addr
	Solicited, Override, Router bool
	LLA                         string
	To                          netip.Addr
}

// fakeConn is a Conn fed by tests.
type fakeConn struct {
	in      chan inMsg
	sent    chan sent
	closed  chan struct{}
	once    sync.Once
	readErr error
	// failUnicast makes writes to unicast addresses fail, as for a
	// solicitor the kernel has no route to.
	failUnicast bool

	mu       sync.Mutex
	events   []string // "join g", "leave g"
	failJoin map[netip.Addr]bool
}

func newFakeConn() *fakeConn {
	return &fakeConn{in: make(chan inMsg), sent: make(chan sent, 16), closed: make(chan struct{}), failJoin: map[netip.Addr]bool{}}
}

func (c *fakeConn) ReadFrom() (ndp.Message, *ipv6.ControlMessage, netip.Addr, error) {
	if c.readErr != nil {
		return nil, nil, netip.Addr{}, c.readErr
	}
	select {
	case m := <-c.in:
		return m.m, m.cm, m.src, nil
	case <-c.closed:
		return nil, nil, netip.Addr{}, net.ErrClosed
	}
}

func (c *fakeConn) WriteTo(m ndp.Message, _ *ipv6.ControlMessage, dst netip.Addr) error {
	if c.failUnicast && !dst.IsMulticast() {
		return errors.New("network is unreachable")
	}
	// Round-trip through the wire format, as a real socket would.
	b, err := ndp.MarshalMessage(m)
	if err != nil {
		return err
	}
	back, err := ndp.ParseMessage(b)
	if err != nil {
		return err
	}
	c.sent <- describe(back.(*ndp.NeighborAdvertisement), dst)
	return nil
}

func describe(na *ndp.NeighborAdvertisement, to netip.Addr) sent {
	s := sent{Target: na.TargetAddress, Solicited: na.Solicited, Override: na.Override, Router: na.Router, To: to}
	for _, o := range na.Options {
		if l, ok := o.(*ndp.LinkLayerAddress); ok && l.Direction == ndp.Target {
			s.LLA = l.Addr.String()
		}
	}
	return s
}

func (c *fakeConn) JoinGroup(g netip.Addr) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failJoin[g] {
		return errors.New("no buffer space")
	}
	c.events = append(c.events, "join "+g.String())
	return nil
}

func (c *fakeConn) LeaveGroup(g netip.Addr) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, "leave "+g.String())
	return nil
}

func (c *fakeConn) takeEvents() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.events
	c.events = nil
	return e
}

func (c *fakeConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func newResponder(t testing.TB, c Conn, cfg Config) *Responder {
	t.Helper()
	r, err := New(&net.Interface{Name: "eth0", HardwareAddr: ourMAC}, c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetOwned([]netip.Addr{owned}); err != nil {
		t.Fatal(err)
	}
	return r
}

func solicit(target netip.Addr) *ndp.NeighborSolicitation {
	return &ndp.NeighborSolicitation{TargetAddress: target, Options: []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Source, Addr: peerMAC}}}
}

func TestAnswer(t *testing.T) {
	r := newResponder(t, newFakeConn(), Config{})
	allNodes := netip.IPv6LinkLocalAllNodes()
	tests := []struct {
		name string
		in   inMsg
		want *sent
	}{
		{
			name: "solicitation for an owned IP",
			in:   inMsg{m: solicit(owned), cm: &ipv6.ControlMessage{HopLimit: 255}, src: peerLL},
			want: &sent{Target: owned, Solicited: true, Override: true, LLA: ourMAC.String(), To: peerLL},
		},
		{
			name: "hop limit not reported",
			in:   inMsg{m: solicit(owned), src: peerLL},
			want: &sent{Target: owned, Solicited: true, Override: true, LLA: ourMAC.String(), To: peerLL},
		},
		{
			name: "duplicate address detection is answered to all nodes",
			in:   inMsg{m: &ndp.NeighborSolicitation{TargetAddress: owned}, cm: &ipv6.ControlMessage{HopLimit: 255}, src: netip.IPv6Unspecified()},
			want: &sent{Target: owned, Override: true, LLA: ourMAC.String(), To: allNodes},
		},
		{name: "another IP", in: inMsg{m: solicit(notOwned), src: peerLL}},
		{name: "routed solicitation", in: inMsg{m: solicit(owned), cm: &ipv6.ControlMessage{HopLimit: 64}, src: peerLL}},
		{name: "an advertisement", in: inMsg{m: &ndp.NeighborAdvertisement{TargetAddress: owned}, src: peerLL}},
		{name: "a router solicitation", in: inMsg{m: &ndp.RouterSolicitation{}, src: peerLL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			na, dst, ok := r.answer(tt.in.m, tt.in.cm, tt.in.src)
			var got *sent
			if ok {
				s := describe(na, dst)
				got = &s
			}
			if diff := cmp.Diff(tt.want, got, addrEq); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetOwnedGroups(t *testing.T) {
	c := newFakeConn()
	r := newResponder(t, c, Config{})
	// Same low 24 bits as owned: the same solicited-node group.
	twin := netip.MustParseAddr("2001:db8:0:2::100")
	other := netip.MustParseAddr("2001:db8:0:1::2:1")
	steps := []struct {
		name string
		ips  []netip.Addr
		want []string
	}{
		{name: "twin shares the group", ips: []netip.Addr{owned, twin}},
		{name: "another group", ips: []netip.Addr{twin, other}, want: []string{"join ff02::1:ff02:1"}},
		{name: "drop the twin's group", ips: []netip.Addr{other}, want: []string{"leave ff02::1:ff00:100"}},
		{name: "nothing", want: []string{"leave ff02::1:ff02:1"}},
	}
	if diff := cmp.Diff([]string{"join ff02::1:ff00:100"}, c.takeEvents()); diff != "" {
		t.Errorf("first SetOwned (-want +got):\n%s", diff)
	}
	for _, s := range steps {
		if err := r.SetOwned(s.ips); err != nil {
			t.Fatalf("%s: SetOwned: %v", s.name, err)
		}
		if diff := cmp.Diff(s.want, c.takeEvents()); diff != "" {
			t.Errorf("%s: group changes (-want +got):\n%s", s.name, diff)
		}
	}
}

func TestSetOwnedErrors(t *testing.T) {
	c := newFakeConn()
	r := newResponder(t, c, Config{})
	c.failJoin[netip.MustParseAddr("ff02::1:ff00:101")] = true
	err := r.SetOwned([]netip.Addr{owned, notOwned, netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("ff02::1")})
	if err == nil {
		t.Fatal("SetOwned: no error")
	}
	t.Logf("SetOwned: %v", err)
	if !r.owns(owned) || r.owns(notOwned) {
		t.Errorf("owns(%s), owns(%s) = %v, %v; want true, false", owned, notOwned, r.owns(owned), r.owns(notOwned))
	}
	if _, err := New(&net.Interface{Name: "ipip0"}, c, Config{}); err == nil {
		t.Error("New without an Ethernet address: no error")
	}
}

func TestRun(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	c := newFakeConn()
	answered, requested := make(chan netip.Addr, 4), make(chan netip.Addr, 4)
	r := newResponder(t, c, Config{
		OnRequest: func(ip netip.Addr) { requested <- ip },
		OnAnswer:  func(ip netip.Addr) { answered <- ip },
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	c.in <- inMsg{m: solicit(owned), src: peerLL}
	want := sent{Target: owned, Solicited: true, Override: true, LLA: ourMAC.String(), To: peerLL}
	if diff := cmp.Diff(want, <-c.sent, addrEq); diff != "" {
		t.Errorf("advertisement (-want +got):\n%s", diff)
	}
	if ip := <-answered; ip != owned {
		t.Errorf("OnAnswer(%s), want %s", ip, owned)
	}
	if ip := <-requested; ip != owned {
		t.Errorf("OnRequest(%s), want %s", ip, owned)
	}

	// A solicitation for an IP given up gets no answer; the answer to
	// the one after it shows the first was read.
	if err := r.SetOwned([]netip.Addr{notOwned}); err != nil {
		t.Fatal(err)
	}
	c.in <- inMsg{m: solicit(owned), src: peerLL}
	c.in <- inMsg{m: solicit(notOwned), src: peerLL}
	if got := <-c.sent; got.Target != notOwned {
		t.Errorf("answered for %s, want only %s", got.Target, notOwned)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
	select {
	case <-c.closed:
	default:
		t.Error("Run did not close the connection")
	}
}

func TestRunMulticastFallback(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	c := newFakeConn()
	c.failUnicast = true
	r := newResponder(t, c, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	c.in <- inMsg{m: solicit(owned), src: netip.MustParseAddr("2001:db8:0:1::2")}
	want := sent{Target: owned, Override: true, LLA: ourMAC.String(), To: netip.IPv6LinkLocalAllNodes()}
	if diff := cmp.Diff(want, <-c.sent, addrEq); diff != "" {
		t.Errorf("advertisement (-want +got):\n%s", diff)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}
}

func TestRunReadError(t *testing.T) {
	c := newFakeConn()
	c.readErr = errors.New("boom")
	r := newResponder(t, c, Config{})
	if err := r.Run(context.Background()); !errors.Is(err, c.readErr) {
		t.Errorf("Run = %v, want it to wrap %v", err, c.readErr)
	}
}

func TestAnnounce(t *testing.T) {
	c := newFakeConn()
	r := newResponder(t, c, Config{})
	if err := r.Announce(owned); err != nil {
		t.Fatal(err)
	}
	want := sent{Target: owned, Override: true, LLA: ourMAC.String(), To: netip.IPv6LinkLocalAllNodes()}
	if diff := cmp.Diff(want, <-c.sent, addrEq); diff != "" {
		t.Errorf("unsolicited advertisement (-want +got):\n%s", diff)
	}
	if err := r.Announce(netip.MustParseAddr("192.0.2.1")); err == nil {
		t.Error("Announce(IPv4) = nil, want an error")
	}
}

// FuzzAnswer parses arbitrary ICMPv6 bytes as ndp does and feeds what
// parses: answer must not panic and must only answer for the owned IP.
func FuzzAnswer(f *testing.F) {
	for _, m := range []ndp.Message{solicit(owned), solicit(notOwned), &ndp.NeighborSolicitation{TargetAddress: owned}, &ndp.NeighborAdvertisement{TargetAddress: owned}} {
		b, err := ndp.MarshalMessage(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	r := newResponder(f, newFakeConn(), Config{})
	f.Fuzz(func(t *testing.T, b []byte, dad bool) {
		m, err := ndp.ParseMessage(b)
		if err != nil {
			return
		}
		src := peerLL
		if dad {
			src = netip.IPv6Unspecified()
		}
		na, _, ok := r.answer(m, nil, src)
		if ok && (na.TargetAddress != owned || !na.Override) {
			t.Errorf("answered %+v", na)
		}
	})
}
