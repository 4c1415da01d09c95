package iface

import (
	"cmp"
	"fmt"
	"net"
	"path"
	"slices"
)

// Link is what interface selection needs to know of a network interface.
type Link struct {
	Name  string
	Index int
	// HardwareAddr is the Ethernet address; ARP and NDP answers carry it.
	HardwareAddr net.HardwareAddr
	// Up is the administrative state (IFF_UP).
	Up bool
	// Carrier is set when the link has a carrier and is operationally
	// up (IFF_LOWER_UP and IFF_RUNNING). The kernel sets IFF_RUNNING
	// when it has made the link ready to send, up to a second after
	// the carrier appears; packets sent before are dropped.
	Carrier bool
	// NoARP is the IFF_NOARP flag.
	NoARP    bool
	Loopback bool
	// MasterKind is the kind of the device the link is enslaved to
	// ("bridge", "bond", "vrf", ...), "" when it has no master, and
	// "unknown" when the master is not known.
	MasterKind string
}

// Reason says why a link cannot be used; "" means it can.
type Reason string

// The reasons a link is not used.
const (
	Usable        Reason = ""
	NotAllowed    Reason = "not among the advertisement's interfaces"
	Excluded      Reason = "name matches the exclude list"
	Down          Reason = "administratively down"
	NoCarrier     Reason = "no carrier"
	NoARP         Reason = "NOARP flag set"
	Loopback      Reason = "loopback"
	NotEthernet   Reason = "no Ethernet address"
	Enslaved      Reason = "port of a bridge, bond, team or Open vSwitch"
	unknownMaster        = "unknown"
)

// DefaultExclude returns the name patterns (path.Match syntax) of the
// interfaces that are left out unless an advertisement names them:
// loopback, container, CNI, overlay, tunnel and kube-proxy devices.
func DefaultExclude() []string {
	return []string{
		"lo",
		"docker*", "cni*", "cali*", "flannel*", "veth*", "lxc*",
		"cilium*", "vxlan*", "genev*", "tunl*", "tun*", "tap*", "wg*",
		"kube-ipvs*", "kube-bridge", "kube-dummy-if", "nodelocaldns",
		"weave*", "vethwe*", "datapath", "ovs-system", "virbr*",
	}
}

// ValidatePatterns reports the first malformed pattern of an exclude
// list.
func ValidatePatterns(patterns []string) error {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("exclude pattern %q: %w", p, err)
		}
	}
	return nil
}

// Check says whether a link may carry announcements. allowed are the
// interfaces an advertisement names, none meaning every interface; the
// exclude patterns apply only then, since naming an interface is an
// explicit choice. The link's own state is checked in every case.
func Check(l Link, allowed, exclude []string) Reason {
	if len(allowed) > 0 {
		if !slices.Contains(allowed, l.Name) {
			return NotAllowed
		}
	} else if matches(exclude, l.Name) {
		return Excluded
	}
	switch {
	case l.Loopback:
		return Loopback
	case !l.Up:
		return Down
	case !l.Carrier:
		return NoCarrier
	case l.NoARP:
		return NoARP
	case len(l.HardwareAddr) != 6:
		return NotEthernet
	}
	switch l.MasterKind {
	case "bridge", "bond", "team", "openvswitch", unknownMaster:
		return Enslaved
	}
	return Usable
}

// Select returns the links that may carry announcements, sorted by name.
// See Check.
func Select(links []Link, allowed, exclude []string) []Link {
	var out []Link
	for _, l := range links {
		if Check(l, allowed, exclude) == Usable {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b Link) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func matches(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}
