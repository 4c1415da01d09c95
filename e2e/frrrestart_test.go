package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ironlb/ironlb/e2e/lab"
)

// testFRRContainerRestart does what a restart of ilb-n1's FRR container
// does: its frr-agent and its FRR stop, FRR starts again with no
// configuration (zebra first, as FRR's start scripts do; the lab's FRR
// supervisor of the node is stopped and started again) and so does a
// new agent, knowing nothing. No cluster object changes, so only the
// speaker noticing the fresh agent brings the node's session, route and
// BFD back. owner outlives t: the new processes run until owner ends.
func testFRRContainerRestart(t *testing.T, owner testing.TB, l *lab.Lab) {
	ctx := t.Context()
	ip, all := serviceOnAllNodes(t, l, "frr-restart")
	n1, _ := lab.NodeByName("ilb-n1")
	peer := n1.IPv4.String()
	before, err := routerNeighbor(ctx, l, peer)
	if err != nil {
		t.Fatal(err)
	}

	agent := stopLabProcess(t, l, "ilb-n1-frr-agent", syscall.SIGKILL)
	frr := stopLabProcess(t, l, "ilb-n1-frr", syscall.SIGTERM) // stops its daemons
	startProcess(t, owner, frr)
	waitCond(t, "ilb-n1's FRR started again", func(ctx context.Context) (bool, string) {
		out, err := lab.Exec(ctx, "", "vtysh", "-N", "ilb-n1", "-c", "show running-config")
		return err == nil && !strings.Contains(string(out), "router bgp"), fmt.Sprint(err)
	})
	startProcess(t, owner, agent)

	waitCond(t, "a new session with ilb-n1 and the route via all three nodes again", func(ctx context.Context) (bool, string) {
		n, err := routerNeighbor(ctx, l, peer)
		if err != nil {
			return false, err.Error()
		}
		gws, err := nextHops(ctx, ip)
		if err != nil {
			return false, err.Error()
		}
		return n.Established() && n.ConnectionsEstablished > before.ConnectionsEstablished && slices.Equal(gws, all),
			fmt.Sprintf("state %s, established %d (was %d), next hops %v", n.State, n.ConnectionsEstablished, before.ConnectionsEstablished, gws)
	})
	// The next tests start from BFD up.
	waitCond(t, "BFD up to ilb-n1 again", func(ctx context.Context) (bool, string) {
		st, err := routerBFD(ctx, l, peer)
		return err == nil && st == "up", fmt.Sprint(st, err)
	})
}

// labProcess is a process of the lab as it was started.
type labProcess struct {
	netns string
	argv  []string
	log   string
}

// stopLabProcess sends sig to one of the lab's processes, waits until it
// is gone and returns how it was started.
func stopLabProcess(t testing.TB, l *lab.Lab, name string, sig syscall.Signal) labProcess {
	t.Helper()
	for _, p := range l.Processes() {
		if p.Name != name {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.Pid))
		if err != nil {
			t.Fatalf("reading the command line of %s: %v", name, err)
		}
		argv := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		if err := syscall.Kill(p.Pid, sig); err != nil {
			t.Fatalf("signalling %s: %v", name, err)
		}
		waitCond(t, name+" gone", func(context.Context) (bool, string) {
			// The lab reaps its children: a zombie has no command line.
			raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.Pid))
			return err != nil || len(raw) == 0, fmt.Sprintf("pid %d still there", p.Pid)
		})
		return labProcess{netns: p.Netns, argv: argv, log: p.Log}
	}
	t.Fatalf("the lab has no process %s", name)
	return labProcess{}
}

// startProcess starts p again, its output appended to its log, and
// stops it when owner ends.
func startProcess(t *testing.T, owner testing.TB, p labProcess) {
	t.Helper()
	cmd, exited := spawn(t, p)
	owner.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
}

// spawn starts p in its own session (the lab's stop does not reach it),
// its output appended to its log, and returns it with a channel closed
// when it has exited.
func spawn(tb testing.TB, p labProcess) (*exec.Cmd, <-chan struct{}) {
	tb.Helper()
	out, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	argv := p.argv
	if p.netns != "" {
		argv = append([]string{"ip", "netns", "exec", p.netns}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting %v: %v", argv, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	return cmd, exited
}
