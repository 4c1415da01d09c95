package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
)

// routerConfig returns the router's frr.conf: AS RouterAS, every node a
// neighbor (IPv4 and IPv6) of AS NodeAS with BFD (and as graceful
// restart helper, FRR's default), both address families
// on every session, and ECMP over the nodes. UnnumberedNode is also an
// unnumbered neighbor on UnnumberedRouterLink, in the same peer group.
// Every node is sent a default route of each family and the router's
// own prefixes (RouterPrefixes).
func routerConfig() []byte {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("router bgp %d", RouterAS)
	line(" bgp router-id %s", RouterIPv4)
	line(" no bgp ebgp-requires-policy")
	line(" no bgp default ipv4-unicast")
	line(" bgp bestpath as-path multipath-relax")
	line(" neighbor nodes peer-group")
	line(" neighbor nodes remote-as %d", NodeAS)
	line(" neighbor nodes bfd")
	line(" neighbor nodes timers connect 5")
	var peers []string
	for _, n := range Nodes() {
		peers = append(peers, n.IPv4.String())
	}
	for _, n := range Nodes() {
		peers = append(peers, n.IPv6.String())
	}
	for _, p := range peers {
		line(" neighbor %s peer-group nodes", p)
	}
	line(" neighbor %s interface peer-group nodes", UnnumberedRouterLink)
	for _, af := range []string{"ipv4", "ipv6"} {
		line(" !")
		line(" address-family %s unicast", af)
		for _, p := range RouterPrefixes() {
			if p.Addr().Is4() == (af == "ipv4") {
				line("  network %s", p)
			}
		}
		line("  neighbor nodes activate")
		line("  neighbor nodes default-originate")
		line("  maximum-paths 8")
		line(" exit-address-family")
	}
	line("exit")
	line("!")
	return []byte(b.String())
}

// vtysh runs `vtysh -N pathspace -c CMD...` and returns its output.
func vtysh(ctx context.Context, pathspace string, cmds ...string) ([]byte, error) {
	args := []string{"-N", pathspace}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	out, err := exec.CommandContext(ctx, "vtysh", args...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("running vtysh %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}

// RouterVtysh runs commands in the router's FRR and returns the output.
func (l *Lab) RouterVtysh(ctx context.Context, cmds ...string) ([]byte, error) {
	return vtysh(ctx, RouterNetns, cmds...)
}

// RouterVtyshJSON runs one show command in the router's FRR and decodes
// its JSON output into v.
func (l *Lab) RouterVtyshJSON(ctx context.Context, cmd string, v any) error {
	out, err := vtysh(ctx, RouterNetns, cmd)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("decoding output of %q: %w", cmd, err)
	}
	return nil
}

// Neighbor is a BGP neighbor as the router sees it.
type Neighbor struct {
	RemoteAS int    `json:"remoteAs"`
	State    string `json:"bgpState"` // "Idle", "Active", "Established", ...
}

// RouterNeighbors returns every neighbor configured on the router.
func (l *Lab) RouterNeighbors(ctx context.Context) (map[netip.Addr]Neighbor, error) {
	var raw map[string]json.RawMessage
	if err := l.RouterVtyshJSON(ctx, "show bgp neighbors json", &raw); err != nil {
		return nil, err
	}
	out := make(map[netip.Addr]Neighbor, len(raw))
	for k, v := range raw {
		a, err := netip.ParseAddr(k)
		if err != nil {
			continue // not a neighbor entry
		}
		var n Neighbor
		if err := json.Unmarshal(v, &n); err != nil {
			return nil, fmt.Errorf("decoding neighbor %s: %w", k, err)
		}
		out[a] = n
	}
	return out, nil
}

// NodeVtysh runs commands in a node's FRR (its pathspace is the node's
// name) and returns the output.
func (l *Lab) NodeVtysh(ctx context.Context, node string, cmds ...string) ([]byte, error) {
	if !isNode(node) {
		return nil, fmt.Errorf("node vtysh: %q is not a lab node", node)
	}
	return vtysh(ctx, node, cmds...)
}
