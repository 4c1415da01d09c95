package ipam

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/btree"
)

// Port is a protocol and port a service listens on.
type Port struct {
	Protocol string // "TCP", "UDP" or "SCTP"
	Number   int32
}

func (p Port) String() string { return fmt.Sprintf("%s/%d", p.Protocol, p.Number) }

// Sharing says with which services a service may share its IPs. Two
// services may share an IP when they have the same non-empty Key, the
// same Backend and no Port in common.
type Sharing struct {
	// Key is the allow-shared-ip annotation; empty means exclusive.
	Key string
	// Backend identifies the endpoints selected, as the caller computes it.
	Backend string
	// Ports are the ports the service listens on.
	Ports []Port
}

// ipUse is the state of a used IP: its users all agree on sharing key
// and backend, so those are kept once.
type ipUse struct {
	span    *span
	sharing string
	backend string
	users   []string        // sorted service keys
	ports   map[Port]string // port -> the user that has it; nil if exclusive
}

// group indexes the shared IPs of a pool by what makes them shareable.
type group struct {
	sharing, backend, pool string
}

func addrLess(a, b netip.Addr) bool { return a.Less(b) }

// conflict says why key, with sharing sh, may not use the IP, and returns
// nil when it may. Key's own use of the IP is ignored.
func (u *ipUse) conflict(ip netip.Addr, key string, sh Sharing) *AssignError {
	holder := ""
	for _, k := range u.users {
		if k != key {
			holder = k
			break
		}
	}
	if holder == "" {
		return nil
	}
	e := &AssignError{IP: ip, Pool: u.span.pool.name, Holder: holder}
	switch {
	case sh.Key == "" || u.sharing == "":
		e.Reason = ReasonNotShareable
	case sh.Key != u.sharing:
		e.Reason = ReasonSharingKeyMismatch
	case sh.Backend != u.backend:
		e.Reason = ReasonBackendMismatch
	default:
		for _, p := range sh.Ports {
			if k, ok := u.ports[p]; ok && k != key && !slices.Contains(e.Ports, p) {
				if len(e.Ports) == 0 {
					e.Holder = k
				}
				e.Ports = append(e.Ports, p)
			}
		}
		if len(e.Ports) == 0 {
			return nil
		}
		e.Reason = ReasonPortsOverlap
	}
	return e
}

// addUser records key, with sharing sh, as a user of the IP.
func (u *ipUse) addUser(key string, sh Sharing) {
	if i, found := slices.BinarySearch(u.users, key); !found {
		u.users = slices.Insert(u.users, i, key)
	}
	if sh.Key == "" {
		return
	}
	if u.ports == nil {
		u.ports = make(map[Port]string, len(sh.Ports))
	}
	for _, p := range sh.Ports {
		u.ports[p] = key
	}
}

// removeUser forgets key as a user of the IP.
func (u *ipUse) removeUser(key string, sh Sharing) {
	if i, found := slices.BinarySearch(u.users, key); found {
		u.users = slices.Delete(u.users, i, i+1)
	}
	for _, p := range sh.Ports {
		if u.ports[p] == key {
			delete(u.ports, p)
		}
	}
}

// sharedIP returns the lowest IP of family f in pool p that key may share
// given sh. It visits only the IPs of the pool with the same sharing key
// and backend, so it costs O(log n) plus the IPs skipped for ports.
func (a *Allocator) sharedIP(p *pool, f Family, key string, sh Sharing) (netip.Addr, bool) {
	if sh.Key == "" {
		return netip.Addr{}, false
	}
	ips := a.groups[group{sh.Key, sh.Backend, p.name}]
	if ips == nil {
		return netip.Addr{}, false
	}
	start := netip.IPv4Unspecified()
	if f == IPv6 {
		start = netip.IPv6Unspecified()
	}
	var found netip.Addr
	ips.AscendGreaterOrEqual(start, func(ip netip.Addr) bool {
		if familyOf(ip) != f {
			return false
		}
		if a.ips[ip].conflict(ip, key, sh) == nil {
			found = ip
			return false
		}
		return true
	})
	return found, found.IsValid()
}

// indexShared adds or removes a shared IP from its group.
func (a *Allocator) indexShared(ip netip.Addr, u *ipUse, add bool) {
	if u.sharing == "" {
		return
	}
	g := group{u.sharing, u.backend, u.span.pool.name}
	ips := a.groups[g]
	if add {
		if ips == nil {
			ips = btree.NewG(btreeDegree, addrLess)
			a.groups[g] = ips
		}
		ips.ReplaceOrInsert(ip)
		return
	}
	if ips == nil {
		return
	}
	ips.Delete(ip)
	if ips.Len() == 0 {
		delete(a.groups, g)
	}
}
