package e2e

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/e2e/lab"
)

// The kinds of fault the chaos soak injects.
const (
	faultPartition  = "node-partition"
	faultSpeaker    = "speaker-kill"
	faultFRRDaemon  = "frr-daemon-kill"
	faultRouter     = "router-restart"
	faultAPIServer  = "apiserver-restart"
	faultController = "controller-leader-kill"
)

// chaosKinds lists every kind, in the order a round starts from before
// it is shuffled.
var chaosKinds = []string{faultPartition, faultSpeaker, faultFRRDaemon, faultRouter, faultAPIServer, faultController}

// chaosLab injects faults into a lab with speakers and heals them.
type chaosLab struct {
	l      *lab.Lab
	h      *l2Harness
	router *routerFRR
	ctrl   *controllers
	rng    *rand.Rand
	bgpIP  netip.Addr
	// revived counts the processes that exited by themselves and were
	// started again.
	revived int
}

// inject runs one fault of kind: it breaks the part, waits a while as a
// real failure would last, and repairs what a supervisor or an operator
// would (a node's LAN port back on the switch, a speaker started again
// as the kubelet does). It returns what it hit.
func (c *chaosLab) inject(b *testing.B, kind string) string {
	b.Helper()
	ctx := b.Context()
	nodes := lab.Nodes()
	node := nodes[c.rng.IntN(len(nodes))].Name
	switch kind {
	case faultPartition:
		port := switchPort(node)
		c.switchPort(b, port, "nomaster")
		time.Sleep(c.between(5*time.Second, 15*time.Second))
		c.switchPort(b, port, "master", lab.Bridge)
		return node
	case faultSpeaker:
		c.h.signal(b, node, syscall.SIGKILL)
		// The kubelet starts a crashed container again within seconds.
		time.Sleep(c.between(time.Second, 5*time.Second))
		c.h.restart(b, node, nil)
		return node
	case faultFRRDaemon:
		daemon := []string{"bgpd", "zebra"}[c.rng.IntN(2)]
		pidFile := fmt.Sprintf("/var/run/frr/%s/%s.pid", node, daemon)
		raw, err := os.ReadFile(pidFile)
		if err != nil {
			b.Fatalf("reading %s: %v", pidFile, err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil {
			b.Fatalf("%s: %v", pidFile, err)
		}
		// The lab's FRR supervisor of the node starts it again.
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			b.Fatalf("killing %s's %s: %v", node, daemon, err)
		}
		return node + " " + daemon
	case faultRouter:
		c.router.stop(b)
		c.router.start(b)
		return lab.RouterNetns
	case faultAPIServer:
		if err := c.l.StopProcess(ctx, "kube-apiserver"); err != nil {
			b.Fatal(err)
		}
		time.Sleep(c.between(2*time.Second, 10*time.Second))
		if err := c.l.StartProcess(ctx, "kube-apiserver"); err != nil {
			b.Fatal(err)
		}
		return "kube-apiserver"
	case faultController:
		i := c.ctrl.leader(ctx)
		if i < 0 {
			b.Fatal("no controller replica leads")
		}
		c.ctrl.kill(b, i)
		// A Deployment starts a new pod within seconds.
		time.Sleep(c.between(time.Second, 3*time.Second))
		c.ctrl.start(b, i)
		return fmt.Sprintf("replica %d", i)
	}
	b.Fatalf("unknown fault %q", kind)
	return ""
}

// switchPort changes a port of the LAN switch.
func (c *chaosLab) switchPort(b *testing.B, port string, args ...string) {
	b.Helper()
	argv := append([]string{"ip", "link", "set", port}, args...)
	if out, err := lab.Exec(context.Background(), lab.SwitchNetns, argv...); err != nil {
		b.Fatalf("%v: %v: %s", argv, err, out)
	}
}

// between returns a random duration in [lo, hi).
func (c *chaosLab) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(c.rng.Int64N(int64(hi-lo)))
}

// whole reports whether the lab is whole again, and what is missing if
// not: the API server answers, one controller replica leads with both
// running, every speaker sees three live members, the router has its six
// sessions and routes the probed BGP Service over every node.
func (c *chaosLab) whole(ctx context.Context) (bool, string) {
	if err := c.l.Kube().List(ctx, &corev1.ServiceList{}, client.Limit(1)); err != nil {
		return false, "API server: " + err.Error()
	}
	if i := c.ctrl.leader(ctx); i < 0 {
		return false, "no controller replica leads"
	}
	if !c.ctrl.running() {
		return false, "a controller replica is down"
	}
	for _, n := range lab.Nodes() {
		v, err := metric(ctx, n.Name, "ironlb_speaker_l2_members_live")
		if err != nil || v != 3 {
			return false, fmt.Sprintf("%s sees %v live speakers (%v)", n.Name, v, err)
		}
	}
	ns, err := routerNeighbors(ctx, c.l)
	if err != nil {
		return false, "router: " + err.Error()
	}
	up := 0
	for _, n := range ns {
		if n.Established() {
			up++
		}
	}
	if up != 6 {
		return false, fmt.Sprintf("%d of 6 router sessions up", up)
	}
	gws, err := nextHops(ctx, c.bgpIP)
	if err != nil || !slices.Equal(gws, nodeIPv4s(allNodes()...)) {
		return false, fmt.Sprintf("%s via %v (%v)", c.bgpIP, gws, err)
	}
	return true, ""
}

// heal waits until the lab is whole, for at most bound, and returns
// what was missing when it gave up ("" once whole). Meanwhile it starts
// again, as the kubelet would, a speaker or a controller replica that
// exited by itself, and logs it.
func (c *chaosLab) heal(b *testing.B, bound time.Duration) string {
	b.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), bound)
	defer cancel()
	last := ""
	for {
		for _, what := range c.revive(b) {
			c.revived++
			b.Logf("%s had exited by itself: started again", what)
		}
		attempt, cancelAttempt := context.WithTimeout(ctx, 5*time.Second)
		ok, seen := c.whole(attempt)
		cancelAttempt()
		if ok {
			return ""
		}
		last = seen
		select {
		case <-ctx.Done():
			return last
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// revive starts again the speakers and controller replicas that exited
// by themselves, and returns which.
func (c *chaosLab) revive(b *testing.B) []string {
	b.Helper()
	var out []string
	for _, n := range lab.Nodes() {
		s := c.h.speaker(n.Name)
		exited := !processLive(s.pid)
		if s.exited != nil {
			select {
			case <-s.exited:
				exited = true
			default:
				exited = false
			}
		}
		if exited {
			c.h.restart(b, n.Name, nil)
			out = append(out, "the speaker of "+n.Name)
		}
	}
	for i := range c.ctrl.cmds {
		if c.ctrl.cmds[i] == nil {
			continue
		}
		select {
		case <-c.ctrl.exited[i]:
			c.ctrl.cmds[i] = nil
			c.ctrl.start(b, i)
			out = append(out, fmt.Sprintf("controller replica %d", i))
		default:
		}
	}
	return out
}

// repair puts back what a fault that stopped half way (the benchmark
// failed) left broken: the LAN ports, the speakers, the API server.
func (c *chaosLab) repair(b *testing.B) {
	ctx := context.Background()
	for _, n := range lab.Nodes() {
		_, _ = lab.Exec(ctx, lab.SwitchNetns, "ip", "link", "set", switchPort(n.Name), "master", lab.Bridge)
		if !processLive(c.h.speaker(n.Name).pid) {
			c.h.restart(b, n.Name, nil)
		}
	}
	_ = c.l.StartProcess(ctx, "kube-apiserver") // fails when it runs
}

// controllers runs the controller as the chart deploys it: two replicas
// with leader election, in place of the lab's single one.
type controllers struct {
	owner   testing.TB
	procs   [2]labProcess
	cmds    [2]*exec.Cmd
	exited  [2]<-chan struct{}
	metrics [2]string
}

// Ports of the second replica, next to the lab's ones.
const replicaPortOffset = 10

// startControllers replaces the lab's controller by two replicas with
// leader election; they are stopped when owner ends.
func startControllers(owner testing.TB, l *lab.Lab) *controllers {
	owner.Helper()
	orig := stopLabProcess(owner, l, "controller", syscall.SIGTERM)
	c := &controllers{owner: owner}
	addr := func(port int) string { return net.JoinHostPort(lab.ControlPlaneIPv4, strconv.Itoa(port)) }
	for i := range 2 {
		argv := append(slices.Clone(orig.argv), "--leader-elect")
		off := i * replicaPortOffset
		argv = withArg("metrics-addr", addr(lab.ControllerMetricsPort+off))(argv)
		argv = withArg("health-addr", addr(lab.ControllerHealthPort+off))(argv)
		argv = withArg("pprof-addr", addr(lab.ControllerPprofPort+off))(argv)
		log := orig.log
		if i > 0 {
			log = strings.TrimSuffix(orig.log, ".log") + "-" + strconv.Itoa(i) + ".log"
		}
		c.procs[i] = labProcess{netns: orig.netns, argv: argv, log: log}
		c.metrics[i] = "http://" + addr(lab.ControllerMetricsPort+off) + "/metrics"
	}
	owner.Cleanup(func() {
		for i := range c.cmds {
			c.stop(i)
		}
	})
	for i := range 2 {
		c.start(owner, i)
	}
	return c
}

// start starts replica i and waits until it serves its health endpoint.
func (c *controllers) start(tb testing.TB, i int) {
	tb.Helper()
	c.cmds[i], c.exited[i] = spawn(c.owner, c.procs[i])
	health := strings.Replace(c.metrics[i], strconv.Itoa(lab.ControllerMetricsPort+i*replicaPortOffset), strconv.Itoa(lab.ControllerHealthPort+i*replicaPortOffset), 1)
	health = strings.TrimSuffix(health, "/metrics") + "/healthz"
	l2Wait(tb, fmt.Sprintf("controller replica %d serving", i), func(ctx context.Context) (bool, string) {
		select {
		case <-c.exited[i]:
			tb.Fatalf("controller replica %d exited", i)
		default:
		}
		_, err := lab.HTTPGet(ctx, lab.ControlPlaneNetns, health)
		return err == nil, fmt.Sprint(err)
	})
}

// kill ends replica i with SIGKILL, as a node failure would: it does not
// give the lease up.
func (c *controllers) kill(tb testing.TB, i int) {
	tb.Helper()
	if err := c.cmds[i].Process.Signal(syscall.SIGKILL); err != nil {
		tb.Fatalf("killing controller replica %d: %v", i, err)
	}
	<-c.exited[i]
	c.cmds[i] = nil
}

func (c *controllers) stop(i int) {
	if c.cmds[i] == nil {
		return
	}
	_ = c.cmds[i].Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited[i]:
	case <-time.After(20 * time.Second):
		_ = c.cmds[i].Process.Kill()
		<-c.exited[i]
	}
	c.cmds[i] = nil
}

// running reports whether both replicas run.
func (c *controllers) running() bool {
	for i := range c.cmds {
		if c.cmds[i] == nil {
			return false
		}
		select {
		case <-c.exited[i]:
			return false
		default:
		}
	}
	return true
}

// leader returns the replica that leads, by controller-runtime's
// leader_election_master_status metric; -1 when none or both do.
func (c *controllers) leader(ctx context.Context) int {
	leader := -1
	for i := range c.cmds {
		if c.cmds[i] == nil {
			continue
		}
		body, err := lab.HTTPGet(ctx, lab.ControlPlaneNetns, c.metrics[i])
		if err != nil {
			continue
		}
		if leads(body) {
			if leader >= 0 {
				return -1
			}
			leader = i
		}
	}
	return leader
}

// leads reports whether a metrics page says its process leads.
func leads(metrics string) bool {
	sc := bufio.NewScanner(strings.NewReader(metrics))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "leader_election_master_status{") && strings.HasSuffix(line, " 1") {
			return true
		}
	}
	return false
}
