package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// PolicyFirst returns config with every top-level block that is not a
// `router ...` context (route-maps, prefix-lists, community-lists, bfd)
// moved before the routers, keeping their order otherwise. A daemon that
// loads it line by line then finds each route-map defined before a
// `network` or `neighbor` line uses it, and applies it at once instead
// of after bgpd's route-map delay.
func PolicyFirst(config []byte) []byte {
	c := Parse(config)
	isRouter := func(n *Node) bool { return strings.HasPrefix(n.Line, "router ") }
	var policy, routers []*Node
	for _, n := range c.Root.Children {
		if isRouter(n) {
			routers = append(routers, n)
		} else {
			policy = append(policy, n)
		}
	}
	c.Root.Children = slices.Concat(policy, routers)
	return c.Bytes()
}

// WithoutNeighborBFD returns config without the `neighbor X bfd ...`
// lines of its routers. A bgpd that starts with them registers BFD
// sessions before it knows its local address, and FRR replaces each such
// session once the BGP session is up: the replaced BFD session reports
// Down and bgpd resets the fresh BGP session with a Hard Reset, which
// ends a graceful restart. Loading without them and adding them once the
// sessions are up avoids that.
func WithoutNeighborBFD(config []byte) []byte {
	c := Parse(config)
	var strip func(n *Node)
	strip = func(n *Node) {
		n.Children = slices.DeleteFunc(n.Children, func(c *Node) bool {
			f := strings.Fields(c.Line)
			return len(f) >= 3 && f[0] == "neighbor" && f[2] == "bfd"
		})
		for _, c := range n.Children {
			strip(c)
		}
	}
	for _, n := range c.Root.Children {
		if strings.HasPrefix(n.Line, "router bgp") {
			strip(n)
		}
	}
	return c.Bytes()
}

// NeighborBFDOff returns the commands that take every `neighbor X bfd`
// of config's BGP routers away (one `no neighbor X bfd` per neighbor),
// for bgpd alone; nil when there is none. FRR 8.4's bgpd does not always
// register its BFD sessions again with a bfdd that restarted: it keeps
// the lines and the sessions stay down. Taking the lines away and adding
// them back makes it register them anew.
func NeighborBFDOff(config []byte) []byte {
	var b strings.Builder
	for _, r := range Parse(config).Root.Children {
		if !strings.HasPrefix(r.Line, "router bgp") {
			continue
		}
		var peers []string
		for _, c := range r.Children {
			f := strings.Fields(c.Line)
			if len(f) >= 3 && f[0] == "neighbor" && f[2] == "bfd" && !slices.Contains(peers, f[1]) {
				peers = append(peers, f[1])
			}
		}
		if len(peers) == 0 {
			continue
		}
		b.WriteString(r.Line + "\n")
		for _, p := range peers {
			b.WriteString(" no neighbor " + p + " bfd\n")
		}
		b.WriteString("exit\n")
	}
	if b.Len() == 0 {
		return nil
	}
	return []byte(b.String())
}

// Load sends config, policy first, line by line to one daemon only
// (`vtysh -N NAME -d DAEMON -f FILE`), as FRR's start scripts load the
// integrated config into a daemon they (re)started. vtysh goes on after
// a line the daemon refuses and then exits non-zero; the error carries
// its output.
func (v Vtysh) Load(ctx context.Context, config []byte, daemon string) ([]byte, error) {
	path, cleanup, err := v.tempFile(PolicyFirst(config))
	if err != nil {
		return nil, err
	}
	defer cleanup()
	out, err := v.run(ctx, "vtysh -d "+daemon+" -f", v.vtysh(), append(v.base(), "-d", daemon, "-f", path)...)
	if err != nil {
		return out, fmt.Errorf("loading config into %s: %w", daemon, err)
	}
	return out, nil
}
