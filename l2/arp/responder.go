package arp

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// Conn is the packet connection a Responder reads Ethernet frames from
// and writes them to. *packet.Conn of github.com/mdlayher/packet
// satisfies it; WriteTo gets a *packet.Addr.
type Conn interface {
	ReadFrom(b []byte) (int, net.Addr, error)
	WriteTo(b []byte, addr net.Addr) (int, error)
	Close() error
}

// Listen opens a raw packet socket for ARP frames on an interface. It
// needs CAP_NET_RAW.
func Listen(ifi *net.Interface) (Conn, error) {
	c, err := packet.Listen(ifi, packet.Raw, unix.ETH_P_ARP, nil)
	if err != nil {
		return nil, fmt.Errorf("opening ARP socket on %s: %w", ifi.Name, err)
	}
	return c, nil
}

// Config holds what a Responder reports to.
type Config struct {
	// Logger gets debug logs with the keys iface and ip; nil discards
	// them.
	Logger *slog.Logger
	// OnRequest, when set, is called for each request received for an
	// owned IP, before the reply is sent. It must not block.
	OnRequest func(ip netip.Addr)
	// OnAnswer, when set, is called after each reply sent, with the IP
	// answered for. It must not block.
	OnAnswer func(ip netip.Addr)
}

// Responder answers ARP requests on one interface for the IPs it owns.
// Its methods may be called concurrently.
type Responder struct {
	name      string
	mac       net.HardwareAddr
	conn      Conn
	log       *slog.Logger
	onRequest func(netip.Addr)
	onAnswer  func(netip.Addr)

	mu    sync.RWMutex
	owned map[netip.Addr]bool
}

// New returns a Responder for the interface (its Name and Ethernet
// HardwareAddr) that uses conn. The Responder owns conn: Run closes it.
func New(ifi *net.Interface, conn Conn, cfg Config) (*Responder, error) {
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("ARP responder on %s: %q is not an Ethernet address", ifi.Name, ifi.HardwareAddr)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Responder{
		name:      ifi.Name,
		mac:       slices.Clone(ifi.HardwareAddr),
		conn:      conn,
		log:       log.With("iface", ifi.Name),
		onRequest: cfg.OnRequest,
		onAnswer:  cfg.OnAnswer,
		owned:     map[netip.Addr]bool{},
	}, nil
}

// Dial opens a raw socket on the interface (see Listen) and returns a
// Responder that uses it.
func Dial(ifi *net.Interface, cfg Config) (*Responder, error) {
	c, err := Listen(ifi)
	if err != nil {
		return nil, err
	}
	r, err := New(ifi, c, cfg)
	if err != nil {
		c.Close()
		return nil, err
	}
	return r, nil
}

// SetOwned replaces the IPs the Responder answers for. They must be
// IPv4 addresses.
func (r *Responder) SetOwned(ips []netip.Addr) error {
	owned := make(map[netip.Addr]bool, len(ips))
	for _, ip := range ips {
		if !ip.Is4() {
			return fmt.Errorf("ARP responder on %s: %s is not an IPv4 address", r.name, ip)
		}
		owned[ip] = true
	}
	r.mu.Lock()
	r.owned = owned
	r.mu.Unlock()
	return nil
}

func (r *Responder) owns(ip netip.Addr) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.owned[ip]
}

// Announce sends a gratuitous ARP request and a gratuitous ARP reply
// for ip, both broadcast, so that neighbors that have an entry for ip
// update it to this interface's address (Linux does that with its
// default arp_accept=0; it creates no new entries).
func (r *Responder) Announce(ip netip.Addr) error {
	if !ip.Is4() {
		return fmt.Errorf("announcing %s on %s: not an IPv4 address", ip, r.name)
	}
	zero := make(net.HardwareAddr, 6)
	// The request names no target hardware address (RFC 5227); the
	// reply names the sender's, as Linux requires of a gratuitous reply.
	for _, p := range []struct {
		op  arp.Operation
		tha net.HardwareAddr
	}{{arp.OperationRequest, zero}, {arp.OperationReply, r.mac}} {
		pkt, err := arp.NewPacket(p.op, r.mac, ip, p.tha, ip)
		if err != nil {
			return fmt.Errorf("announcing %s on %s: %w", ip, r.name, err)
		}
		if err := r.write(pkt, ethernet.Broadcast); err != nil {
			return fmt.Errorf("announcing %s on %s: %w", ip, r.name, err)
		}
	}
	return nil
}

// Run answers requests until ctx ends or reading fails; it closes the
// connection when it returns. It returns nil when ctx ended.
func (r *Responder) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { r.conn.Close() })
	defer func() {
		if stop() {
			r.conn.Close()
		}
	}()
	buf := make([]byte, 1600)
	for {
		n, _, err := r.conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading ARP on %s: %w", r.name, err)
		}
		reply, dst, ip, ok := r.answer(buf[:n])
		if !ok {
			continue
		}
		if r.onRequest != nil {
			r.onRequest(ip)
		}
		if err := r.write(reply, dst); err != nil {
			r.log.Debug("sending ARP reply failed", "ip", ip, "error", err)
			continue
		}
		r.log.Debug("answered ARP request", "ip", ip, "to", reply.TargetIP)
		if r.onAnswer != nil {
			r.onAnswer(ip)
		}
	}
}

// answer returns the reply to a frame, the Ethernet address to send it
// to and the owned IP it answers for, or false when the frame needs no
// answer.
func (r *Responder) answer(frame []byte) (*arp.Packet, net.HardwareAddr, netip.Addr, bool) {
	var f ethernet.Frame
	if err := f.UnmarshalBinary(frame); err != nil || f.EtherType != ethernet.EtherTypeARP {
		return nil, nil, netip.Addr{}, false
	}
	var req arp.Packet
	if err := req.UnmarshalBinary(f.Payload); err != nil {
		return nil, nil, netip.Addr{}, false
	}
	switch {
	case req.Operation != arp.OperationRequest,
		req.HardwareType != 1 || req.HardwareAddrLength != 6,
		req.ProtocolType != uint16(ethernet.EtherTypeIPv4) || req.IPLength != 4,
		len(f.Source) != 6 || f.Source[0]&1 != 0, // no multicast senders
		bytes.Equal(f.Source, r.mac), bytes.Equal(req.SenderHardwareAddr, r.mac),
		req.SenderIP == req.TargetIP, // someone's announcement
		!r.owns(req.TargetIP):
		return nil, nil, netip.Addr{}, false
	}
	reply, err := arp.NewPacket(arp.OperationReply, r.mac, req.TargetIP, req.SenderHardwareAddr, req.SenderIP)
	if err != nil {
		return nil, nil, netip.Addr{}, false
	}
	return reply, f.Source, req.TargetIP, true
}

func (r *Responder) write(p *arp.Packet, dst net.HardwareAddr) error {
	payload, err := p.MarshalBinary()
	if err != nil {
		return err
	}
	f := ethernet.Frame{Destination: dst, Source: r.mac, EtherType: ethernet.EtherTypeARP, Payload: payload}
	b, err := f.MarshalBinary()
	if err != nil {
		return err
	}
	if _, err := r.conn.WriteTo(b, &packet.Addr{HardwareAddr: dst}); err != nil {
		return fmt.Errorf("writing ARP frame: %w", err)
	}
	return nil
}
