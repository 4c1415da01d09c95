package arp

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/packet"
	"go.uber.org/goleak"
)

var (
	ourMAC   = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	peerMAC  = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	zeroMAC  = net.HardwareAddr{0, 0, 0, 0, 0, 0}
	owned    = netip.MustParseAddr("192.0.2.100")
	notOwned = netip.MustParseAddr("192.0.2.101")
	peerIP   = netip.MustParseAddr("192.0.2.2")
)

// fakeConn is a Conn fed by tests.
type fakeConn struct {
	in      chan []byte
	sent    chan sentFrame
	closed  chan struct{}
	once    sync.Once
	readErr error
}

type sentFrame struct {
	frame ethernet.Frame
	pkt   arp.Packet
	to    net.HardwareAddr
}

func newFakeConn() *fakeConn {
	return &fakeConn{in: make(chan []byte), sent: make(chan sentFrame, 16), closed: make(chan struct{})}
}

func (c *fakeConn) ReadFrom(b []byte) (int, net.Addr, error) {
	if c.readErr != nil {
		return 0, nil, c.readErr
	}
	select {
	case f := <-c.in:
		return copy(b, f), &packet.Addr{}, nil
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

func (c *fakeConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	var s sentFrame
	if err := s.frame.UnmarshalBinary(b); err != nil {
		return 0, err
	}
	if err := s.pkt.UnmarshalBinary(s.frame.Payload); err != nil {
		return 0, err
	}
	s.to = addr.(*packet.Addr).HardwareAddr
	c.sent <- s
	return len(b), nil
}

func (c *fakeConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// frame builds an ARP frame from src.
func frame(t testing.TB, src net.HardwareAddr, op arp.Operation, sha net.HardwareAddr, spa netip.Addr, tha net.HardwareAddr, tpa netip.Addr) []byte {
	t.Helper()
	p, err := arp.NewPacket(op, sha, spa, tha, tpa)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	f := ethernet.Frame{Destination: ethernet.Broadcast, Source: src, EtherType: ethernet.EtherTypeARP, Payload: pb}
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
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

// reply is the interesting part of an answer.
type reply struct {
	Op       arp.Operation
	SHA, THA string
	SPA, TPA netip.Addr
	To       string
}

func TestAnswer(t *testing.T) {
	r := newResponder(t, newFakeConn(), Config{})
	request := func(sha net.HardwareAddr, spa, tpa netip.Addr) []byte {
		return frame(t, sha, arp.OperationRequest, sha, spa, ethernet.Broadcast, tpa)
	}
	withPayload := func(b []byte, f func(p []byte)) []byte { f(b[14:]); return b }
	zeroIP := netip.IPv4Unspecified()
	tests := []struct {
		name  string
		frame []byte
		want  *reply
	}{
		{
			name:  "request for an owned IP",
			frame: request(peerMAC, peerIP, owned),
			want:  &reply{Op: arp.OperationReply, SHA: ourMAC.String(), SPA: owned, THA: peerMAC.String(), TPA: peerIP, To: peerMAC.String()},
		},
		{
			name:  "probe for an owned IP is answered to defend it",
			frame: request(peerMAC, zeroIP, owned),
			want:  &reply{Op: arp.OperationReply, SHA: ourMAC.String(), SPA: owned, THA: peerMAC.String(), TPA: zeroIP, To: peerMAC.String()},
		},
		{name: "request for another IP", frame: request(peerMAC, peerIP, notOwned)},
		{name: "a reply", frame: frame(t, peerMAC, arp.OperationReply, peerMAC, peerIP, ourMAC, owned)},
		{name: "our own frame", frame: request(ourMAC, owned, owned)},
		{name: "someone's announcement", frame: request(peerMAC, owned, owned)},
		{name: "multicast sender", frame: request(net.HardwareAddr{0x03, 0, 0, 0, 0, 1}, peerIP, owned)},
		{name: "not ethernet hardware", frame: withPayload(request(peerMAC, peerIP, owned), func(p []byte) { p[1] = 6 })},
		{name: "not IPv4", frame: withPayload(request(peerMAC, peerIP, owned), func(p []byte) { p[2] = 0x86 })},
		{name: "truncated", frame: request(peerMAC, peerIP, owned)[:20]},
		{name: "not ARP", frame: func() []byte { b := request(peerMAC, peerIP, owned); b[12], b[13] = 0x08, 0x00; return b }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, to, ip, ok := r.answer(tt.frame)
			var got *reply
			if ok {
				got = &reply{Op: p.Operation, SHA: p.SenderHardwareAddr.String(), SPA: p.SenderIP, THA: p.TargetHardwareAddr.String(), TPA: p.TargetIP, To: to.String()}
				if ip != p.SenderIP {
					t.Errorf("answer says it answers for %s, the reply is from %s", ip, p.SenderIP)
				}
			}
			if diff := cmp.Diff(tt.want, got, addrEq); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
		})
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

	c.in <- frame(t, peerMAC, arp.OperationRequest, peerMAC, peerIP, zeroMAC, owned)
	got := <-c.sent
	if got.pkt.Operation != arp.OperationReply || got.pkt.SenderIP != owned || got.to.String() != peerMAC.String() {
		t.Errorf("reply = %+v to %s, want a reply from %s to %s", got.pkt, got.to, owned, peerMAC)
	}
	if ip := <-answered; ip != owned {
		t.Errorf("OnAnswer(%s), want %s", ip, owned)
	}
	if ip := <-requested; ip != owned {
		t.Errorf("OnRequest(%s), want %s", ip, owned)
	}

	// Once the IP is given up, a request for it gets no answer; the
	// reply to the request after it shows the first one was read.
	if err := r.SetOwned([]netip.Addr{notOwned}); err != nil {
		t.Fatal(err)
	}
	c.in <- frame(t, peerMAC, arp.OperationRequest, peerMAC, peerIP, zeroMAC, owned)
	c.in <- frame(t, peerMAC, arp.OperationRequest, peerMAC, peerIP, zeroMAC, notOwned)
	if got := <-c.sent; got.pkt.SenderIP != notOwned {
		t.Errorf("answered for %s, want only %s", got.pkt.SenderIP, notOwned)
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

func TestRunReadError(t *testing.T) {
	c := newFakeConn()
	c.readErr = errors.New("boom")
	r := newResponder(t, c, Config{})
	if err := r.Run(context.Background()); err == nil || !errors.Is(err, c.readErr) {
		t.Errorf("Run = %v, want it to wrap %v", err, c.readErr)
	}
	select {
	case <-c.closed:
	default:
		t.Error("Run did not close the connection")
	}
}

func TestAnnounce(t *testing.T) {
	c := newFakeConn()
	r := newResponder(t, c, Config{})
	if err := r.Announce(owned); err != nil {
		t.Fatal(err)
	}
	var got []reply
	for range 2 {
		s := <-c.sent
		if s.frame.Source.String() != ourMAC.String() {
			t.Errorf("frame source %s, want %s", s.frame.Source, ourMAC)
		}
		got = append(got, reply{Op: s.pkt.Operation, SHA: s.pkt.SenderHardwareAddr.String(), SPA: s.pkt.SenderIP, THA: s.pkt.TargetHardwareAddr.String(), TPA: s.pkt.TargetIP, To: s.to.String()})
	}
	bcast := ethernet.Broadcast.String()
	want := []reply{
		{Op: arp.OperationRequest, SHA: ourMAC.String(), SPA: owned, THA: zeroMAC.String(), TPA: owned, To: bcast},
		{Op: arp.OperationReply, SHA: ourMAC.String(), SPA: owned, THA: ourMAC.String(), TPA: owned, To: bcast},
	}
	if diff := cmp.Diff(want, got, addrEq); diff != "" {
		t.Errorf("gratuitous ARP (-want +got):\n%s", diff)
	}
	if err := r.Announce(netip.MustParseAddr("2001:db8::1")); err == nil {
		t.Error("Announce(IPv6) = nil, want an error")
	}
}

func TestNewAndSetOwnedErrors(t *testing.T) {
	if _, err := New(&net.Interface{Name: "ipip0"}, newFakeConn(), Config{}); err == nil {
		t.Error("New without an Ethernet address: no error")
	}
	r := newResponder(t, newFakeConn(), Config{})
	if err := r.SetOwned([]netip.Addr{netip.MustParseAddr("2001:db8::1")}); err == nil {
		t.Error("SetOwned(IPv6) = nil, want an error")
	}
}

// FuzzAnswer feeds arbitrary frames: answer must not panic, and must
// only ever answer for the owned IP, from our address.
func FuzzAnswer(f *testing.F) {
	f.Add(frame(f, peerMAC, arp.OperationRequest, peerMAC, peerIP, zeroMAC, owned))
	f.Add(frame(f, peerMAC, arp.OperationRequest, peerMAC, peerIP, zeroMAC, notOwned))
	f.Add(frame(f, peerMAC, arp.OperationReply, peerMAC, peerIP, ourMAC, owned))
	// A zero hardware address length parses; answer must refuse it.
	bad := frame(f, peerMAC, arp.OperationRequest, peerMAC, peerIP, zeroMAC, owned)
	bad[14+4] = 0
	f.Add(bad)
	r := newResponder(f, newFakeConn(), Config{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, _, ip, ok := r.answer(b)
		if !ok {
			return
		}
		if ip != owned || p.SenderIP != owned || p.SenderHardwareAddr.String() != ourMAC.String() {
			t.Errorf("answered %+v for %s", p, ip)
		}
	})
}

var addrEq = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })
