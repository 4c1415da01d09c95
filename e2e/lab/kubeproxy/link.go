package kubeproxy

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Link is a dummy (or ifb) interface whose host addresses (/32 and /128) are the
// Service IPs.
type Link struct {
	h    *netlink.Handle
	link netlink.Link
}

// OpenLink returns the dummy interface name reached through h (nil: the
// current network namespace), creating it and setting it up as needed.
func OpenLink(h *netlink.Handle, name string) (*Link, error) {
	if h == nil {
		var err error
		if h, err = netlink.NewHandle(); err != nil {
			return nil, fmt.Errorf("opening netlink: %w", err)
		}
	}
	l, err := h.LinkByName(name)
	var notFound netlink.LinkNotFoundError
	switch {
	case errors.As(err, &notFound):
		if l, err = addLink(h, name); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("finding link %s: %w", name, err)
	case l.Type() != "dummy" && l.Type() != "ifb":
		return nil, fmt.Errorf("link %s is a %s, not a dummy", name, l.Type())
	}
	// Up, unlike kube-proxy's, so that IPv6 addresses are usable at once.
	if err := h.LinkSetUp(l); err != nil {
		return nil, fmt.Errorf("setting link %s up: %w", name, err)
	}
	return &Link{h: h, link: l}, nil
}

// addLink adds a dummy link, or an ifb one where the kernel has no dummy
// driver: either holds addresses the same way.
func addLink(h *netlink.Handle, name string) (netlink.Link, error) {
	attrs := netlink.LinkAttrs{Name: name}
	err := h.LinkAdd(&netlink.Dummy{LinkAttrs: attrs})
	if errors.Is(err, unix.EOPNOTSUPP) {
		err = h.LinkAdd(&netlink.Ifb{LinkAttrs: attrs})
	}
	if err != nil {
		return nil, fmt.Errorf("adding link %s: %w", name, err)
	}
	l, err := h.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("finding link %s: %w", name, err)
	}
	return l, nil
}

// Addrs returns the link's global host addresses.
func (l *Link) Addrs() ([]netip.Addr, error) {
	list, err := l.h.AddrList(l.link, netlink.FAMILY_ALL)
	if err != nil {
		return nil, fmt.Errorf("listing addresses of %s: %w", l.link.Attrs().Name, err)
	}
	var out []netip.Addr
	for _, a := range list {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok || ip.IsLinkLocalUnicast() {
			continue
		}
		out = append(out, ip.Unmap())
	}
	return out, nil
}

// Add puts a host address on the link, without duplicate address
// detection.
func (l *Link) Add(ip netip.Addr) error {
	if err := l.h.AddrAdd(l.link, hostAddr(ip)); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("adding %s to %s: %w", ip, l.link.Attrs().Name, err)
	}
	return nil
}

// Del removes a host address from the link.
func (l *Link) Del(ip netip.Addr) error {
	if err := l.h.AddrDel(l.link, hostAddr(ip)); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("removing %s from %s: %w", ip, l.link.Attrs().Name, err)
	}
	return nil
}

func hostAddr(ip netip.Addr) *netlink.Addr {
	return &netlink.Addr{
		IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(ip.BitLen(), ip.BitLen())},
		Flags: unix.IFA_F_NODAD,
	}
}
