package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/e2e/lab"
)

// runDemo brings up the lab with speakers and walks through what ironlb
// does, with progress lines: the Services and their IPs, the router's
// ECMP routes, HTTP answers from both clients, a Layer 2 failover and a
// BGP node loss with the outage measured from the client. It leaves the
// lab running; `ironlb lab down` removes it.
func runDemo(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding own binary: %w", err)
	}
	c, err := parseLabUpFlags(args, stderr, self)
	if err != nil {
		return err
	}
	c.lab.Speakers = true
	c.lab.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	step := func(format string, a ...any) { fmt.Fprintf(stdout, "==> "+format+"\n", a...) }

	step("bringing up the lab: router, three nodes with FRR and the speaker, API server, controller")
	begin := time.Now()
	l, err := lab.Up(ctx, c.lab)
	if err != nil {
		return err
	}
	step("lab up in %v", time.Since(begin).Round(100*time.Millisecond))

	bgpIPs, err := l.WaitServiceIPs(ctx, "lab", "web-bgp", 2)
	if err != nil {
		return err
	}
	l2IPs, err := l.WaitServiceIPs(ctx, "lab", "web-l2", 2)
	if err != nil {
		return err
	}
	step("Service lab/web-bgp (pool bgp, announced over BGP): %v", bgpIPs)
	step("Service lab/web-l2 (pool l2, answered with ARP/NDP): %v", l2IPs)

	bgp4 := first(bgpIPs, netip.Addr.Is4)
	if err := lab.WaitFor(ctx, "three ECMP routes on the router", func(ctx context.Context) (bool, error) {
		out, err := l.RouterVtysh(ctx, "show ip route "+bgp4.String()+"/32")
		return err == nil && strings.Count(string(out), ", via ") >= 3, nil
	}); err != nil {
		return err
	}
	out, _ := l.RouterVtysh(ctx, "show ip route "+bgp4.String()+"/32")
	step("the router's route to %s (vtysh -N ilb-rtr -c 'show ip route %s/32'):\n%s", bgp4, bgp4, indent(string(out)))

	served := spread(ctx, lab.RemoteClientNetns, bgp4, 30)
	step("30 HTTP requests from the remote client ilb-cli to %s were served by %s", bgp4, served)
	l24 := first(l2IPs, netip.Addr.Is4)
	if err := lab.WaitFor(ctx, "the L2 IP answering", func(ctx context.Context) (bool, error) {
		_, err := lab.HTTPGet(ctx, lab.LANClientNetns, httpURL(l24))
		return err == nil, nil
	}); err != nil {
		return err
	}
	step("30 HTTP requests from the LAN client ilb-lcli to %s were served by %s", l24, spread(ctx, lab.LANClientNetns, l24, 30))

	owner, _ := lab.HTTPGet(ctx, lab.LANClientNetns, httpURL(l24))
	owner = strings.TrimSpace(owner)
	step("Layer 2 failover: cutting %s's link (it answers for %s); probing from ilb-lcli every 10 ms", owner, l24)
	outage, next, err := cutAndProbe(ctx, owner, lab.LANClientNetns, l24, func(node string) bool { return node != owner })
	if err != nil {
		return err
	}
	step("%s took over; the client saw no answer for %v", next, outage.Round(time.Millisecond))
	if err := waitAllAnswer(ctx, l24); err != nil {
		return err
	}

	victim := "ilb-n2"
	step("BGP node loss: cutting %s's link; BFD tells the router; probing %s from ilb-cli every 10 ms", victim, bgp4)
	outage, _, err = cutAndProbe(ctx, victim, lab.RemoteClientNetns, bgp4, func(node string) bool { return true })
	if err != nil {
		return err
	}
	step("the longest run of failed requests lasted %v (the BFD profile detects in 3 x 300 ms)", outage.Round(time.Millisecond))
	var st v1beta1.SpeakerStatusList
	if err := l.Kube().List(ctx, &st, client.InNamespace(lab.MetalLBNamespace)); err == nil {
		for _, s := range st.Items {
			step("node %s: phase %s, %d BGP sessions", s.Name, s.Status.Phase, len(s.Status.Sessions))
		}
	}

	fmt.Fprintf(stdout, `
The lab is still running. Explore it:
  export KUBECONFIG=%s
  kubectl get svc -n lab
  %s status
  ip netns exec ilb-rtr vtysh -N ilb-rtr -c 'show bgp summary'
  ip netns exec ilb-n1 vtysh -N ilb-n1 -c 'show running-config'
  ip netns exec ilb-cli curl http://%s/
Remove it with: make demo-down
`, l.LocalKubeconfigPath(), self, netip.AddrPortFrom(bgp4, lab.ServicePort))
	return nil
}

func first(ips []netip.Addr, pred func(netip.Addr) bool) netip.Addr {
	if i := slices.IndexFunc(ips, pred); i >= 0 {
		return ips[i]
	}
	return netip.Addr{}
}

func httpURL(ip netip.Addr) string {
	return "http://" + netip.AddrPortFrom(ip, lab.ServicePort).String() + "/"
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// spread makes n HTTP requests and says which nodes answered how often.
func spread(ctx context.Context, netns string, ip netip.Addr, n int) string {
	count := map[string]int{}
	for range n {
		body, err := lab.HTTPGet(ctx, netns, httpURL(ip))
		if err != nil {
			count["error"]++
			continue
		}
		count[strings.TrimSpace(body)]++
	}
	var parts []string
	for k, v := range count {
		parts = append(parts, fmt.Sprintf("%s x%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// cutAndProbe takes node's LAN link down, probes ip from netns every 10
// ms until done says the answering node is what we wait for (after a
// failure, for an L2 takeover) or 5 s passed, puts the link back, and
// returns the longest run of failed probes and the last node that
// answered.
func cutAndProbe(ctx context.Context, node, netns string, ip netip.Addr, done func(string) bool) (time.Duration, string, error) {
	port := "n" + strings.TrimPrefix(node, "ilb-n")
	if out, err := lab.Exec(ctx, lab.SwitchNetns, "ip", "link", "set", port, "down"); err != nil {
		return 0, "", fmt.Errorf("cutting %s: %w: %s", node, err, out)
	}
	defer lab.Exec(context.WithoutCancel(ctx), lab.SwitchNetns, "ip", "link", "set", port, "up")
	var (
		longest, run time.Duration
		failedSince  time.Time
		last         string
		sawFailure   bool
	)
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		body, err := lab.HTTPGet(pctx, netns, httpURL(ip))
		cancel()
		now := time.Now()
		if err != nil {
			sawFailure = true
			if failedSince.IsZero() {
				failedSince = now
			}
		} else {
			if !failedSince.IsZero() {
				run = now.Sub(failedSince)
				longest = max(longest, run)
				failedSince = time.Time{}
			}
			last = strings.TrimSpace(body)
			if sawFailure && done(last) && last != node {
				break
			}
		}
		select {
		case <-ctx.Done():
			return 0, "", ctx.Err()
		case <-tick.C:
		}
	}
	if !failedSince.IsZero() {
		longest = max(longest, time.Since(failedSince))
	}
	return longest, last, nil
}

// waitAllAnswer waits until the link is back and the IP answers again.
func waitAllAnswer(ctx context.Context, ip netip.Addr) error {
	return lab.WaitFor(ctx, "the lab to settle", func(ctx context.Context) (bool, error) {
		_, err := lab.HTTPGet(ctx, lab.LANClientNetns, httpURL(ip))
		return err == nil, nil
	})
}
