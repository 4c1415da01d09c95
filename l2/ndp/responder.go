package ndp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"

	"github.com/mdlayher/ndp"
	"golang.org/x/net/ipv6"
)

// MessageConn reads and writes NDP messages.
type MessageConn interface {
	ReadFrom() (ndp.Message, *ipv6.ControlMessage, netip.Addr, error)
	WriteTo(m ndp.Message, cm *ipv6.ControlMessage, dst netip.Addr) error
	Close() error
}

// GroupConn joins and leaves multicast groups on the interface.
type GroupConn interface {
	JoinGroup(group netip.Addr) error
	LeaveGroup(group netip.Addr) error
}

// Conn is the connection a Responder uses; *ndp.Conn satisfies it.
type Conn interface {
	MessageConn
	GroupConn
}

// Listen opens an NDP connection on the interface's link-local address
// that receives only Neighbor Solicitations, with their hop limit. It
// needs CAP_NET_RAW.
func Listen(ifi *net.Interface) (Conn, error) {
	c, _, err := ndp.Listen(ifi, ndp.LinkLocal)
	if err != nil {
		return nil, fmt.Errorf("opening NDP socket on %s: %w", ifi.Name, err)
	}
	var f ipv6.ICMPFilter
	f.SetAll(true)
	f.Accept(ipv6.ICMPTypeNeighborSolicitation)
	if err := c.SetICMPFilter(&f); err != nil {
		c.Close()
		return nil, fmt.Errorf("filtering NDP socket on %s: %w", ifi.Name, err)
	}
	if err := c.SetControlMessage(ipv6.FlagHopLimit, true); err != nil {
		c.Close()
		return nil, fmt.Errorf("setting NDP socket options on %s: %w", ifi.Name, err)
	}
	return c, nil
}

// Config holds what a Responder reports to.
type Config struct {
	// Logger gets debug logs with the keys iface and ip; nil discards
	// them.
	Logger *slog.Logger
	// OnRequest, when set, is called for each solicitation received for
	// an owned IP, before the advertisement is sent. It must not block.
	OnRequest func(ip netip.Addr)
	// OnAnswer, when set, is called after each advertisement sent in
	// answer to a solicitation, with the IP answered for. It must not
	// block.
	OnAnswer func(ip netip.Addr)
}

// Responder answers Neighbor Solicitations on one interface for the IPs
// it owns. Its methods may be called concurrently.
type Responder struct {
	name      string
	mac       net.HardwareAddr
	conn      Conn
	log       *slog.Logger
	onRequest func(netip.Addr)
	onAnswer  func(netip.Addr)

	setMu sync.Mutex // serializes SetOwned
	// groups are the solicited-node groups joined; guarded by setMu.
	groups map[netip.Addr]bool

	mu    sync.RWMutex
	owned map[netip.Addr]bool
}

// New returns a Responder for the interface (its Name and Ethernet
// HardwareAddr) that uses conn. The Responder owns conn: Run closes it.
func New(ifi *net.Interface, conn Conn, cfg Config) (*Responder, error) {
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("NDP responder on %s: %q is not an Ethernet address", ifi.Name, ifi.HardwareAddr)
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
		groups:    map[netip.Addr]bool{},
		owned:     map[netip.Addr]bool{},
	}, nil
}

// Dial opens an NDP connection on the interface (see Listen) and returns
// a Responder that uses it.
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

// SetOwned replaces the IPs the Responder answers for, joining the
// solicited-node multicast groups of new IPs and leaving those no IP
// needs any more. The IPs must be IPv6 unicast addresses. An IP whose
// group cannot be joined is not owned, and the error says so.
func (r *Responder) SetOwned(ips []netip.Addr) error {
	r.setMu.Lock()
	defer r.setMu.Unlock()

	var errs []error
	want := map[netip.Addr][]netip.Addr{} // group -> IPs
	for _, ip := range ips {
		ip = ip.WithZone("")
		if !ip.Is6() || ip.Is4In6() || ip.IsMulticast() {
			errs = append(errs, fmt.Errorf("NDP responder on %s: %s is not an IPv6 unicast address", r.name, ip))
			continue
		}
		g, err := ndp.SolicitedNodeMulticast(ip)
		if err != nil {
			errs = append(errs, fmt.Errorf("NDP responder on %s: %w", r.name, err))
			continue
		}
		want[g] = append(want[g], ip)
	}

	owned := map[netip.Addr]bool{}
	joined := map[netip.Addr]bool{}
	for g, gips := range want {
		if !r.groups[g] {
			if err := r.conn.JoinGroup(g); err != nil {
				errs = append(errs, fmt.Errorf("joining %s on %s for %v: %w", g, r.name, gips, err))
				continue
			}
		}
		joined[g] = true
		for _, ip := range gips {
			owned[ip] = true
		}
	}
	// Take the IPs that are gone out of service before leaving groups.
	r.mu.Lock()
	r.owned = owned
	r.mu.Unlock()
	for g := range r.groups {
		if joined[g] {
			continue
		}
		if err := r.conn.LeaveGroup(g); err != nil {
			r.log.Debug("leaving solicited-node group failed", "group", g, "error", err)
		}
	}
	r.groups = joined
	return errors.Join(errs...)
}

func (r *Responder) owns(ip netip.Addr) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.owned[ip]
}

// Announce sends an unsolicited Neighbor Advertisement for ip with the
// Override flag to all nodes, so that neighbors that have an entry for
// ip update it to this interface's address (Linux creates no new
// entries from it by default).
func (r *Responder) Announce(ip netip.Addr) error {
	if !ip.Is6() || ip.Is4In6() {
		return fmt.Errorf("announcing %s on %s: not an IPv6 address", ip, r.name)
	}
	na := r.advertisement(ip.WithZone(""), false)
	if err := r.conn.WriteTo(na, nil, netip.IPv6LinkLocalAllNodes()); err != nil {
		return fmt.Errorf("announcing %s on %s: %w", ip, r.name, err)
	}
	return nil
}

func (r *Responder) advertisement(ip netip.Addr, solicited bool) *ndp.NeighborAdvertisement {
	return &ndp.NeighborAdvertisement{
		Solicited:     solicited,
		Override:      true,
		TargetAddress: ip,
		Options:       []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: r.mac}},
	}
}

// Run answers solicitations until ctx ends or reading fails; it closes
// the connection, and so leaves every group, when it returns. It returns
// nil when ctx ended.
func (r *Responder) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { r.conn.Close() })
	defer func() {
		if stop() {
			r.conn.Close()
		}
	}()
	for {
		m, cm, src, err := r.conn.ReadFrom()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("reading NDP on %s: %w", r.name, err)
		}
		na, dst, ok := r.answer(m, cm, src)
		if !ok {
			continue
		}
		if r.onRequest != nil {
			r.onRequest(na.TargetAddress)
		}
		if err := r.conn.WriteTo(na, nil, dst); err != nil {
			if dst.IsMulticast() {
				r.log.Debug("sending neighbor advertisement failed", "ip", na.TargetAddress, "error", err)
				continue
			}
			// The kernel routes a unicast answer, and this node may
			// have no route to the solicitor on this interface (no
			// address in its subnet here). The all-nodes group needs
			// none; an unsolicited advertisement with Override still
			// completes the solicitor's entry.
			r.log.Debug("unicast neighbor advertisement failed, multicasting it", "ip", na.TargetAddress, "to", dst, "error", err)
			na, dst = r.advertisement(na.TargetAddress, false), netip.IPv6LinkLocalAllNodes()
			if err := r.conn.WriteTo(na, nil, dst); err != nil {
				r.log.Debug("sending neighbor advertisement failed", "ip", na.TargetAddress, "error", err)
				continue
			}
		}
		r.log.Debug("answered neighbor solicitation", "ip", na.TargetAddress, "to", dst)
		if r.onAnswer != nil {
			r.onAnswer(na.TargetAddress)
		}
	}
}

// answer returns the advertisement that answers a message and where to
// send it, or false when the message needs no answer.
func (r *Responder) answer(m ndp.Message, cm *ipv6.ControlMessage, src netip.Addr) (*ndp.NeighborAdvertisement, netip.Addr, bool) {
	ns, ok := m.(*ndp.NeighborSolicitation)
	if !ok {
		return nil, netip.Addr{}, false
	}
	// RFC 4861 7.1.1: a solicitation must have come with hop limit 255
	// (a zero means the connection does not report it).
	if cm != nil && cm.HopLimit != 0 && cm.HopLimit != ndp.HopLimit {
		return nil, netip.Addr{}, false
	}
	target := ns.TargetAddress.WithZone("")
	if !r.owns(target) {
		return nil, netip.Addr{}, false
	}
	// RFC 4861 7.2.4: duplicate address detection (unspecified source)
	// gets an unsolicited answer to all nodes.
	if src.WithZone("").IsUnspecified() {
		return r.advertisement(target, false), netip.IPv6LinkLocalAllNodes(), true
	}
	return r.advertisement(target, true), src, true
}
