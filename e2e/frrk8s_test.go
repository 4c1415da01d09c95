package e2e

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/e2e/lab"
	"github.com/ironlb/ironlb/internal/frrproc"
)

// frrk8sVersion is the frr-k8s release hack/build-frr-k8s.sh builds.
const frrk8sVersion = "v0.0.21"

// frrk8sNamespace is where the test's frr-k8s reads FRRConfigurations.
const frrk8sNamespace = "frr-k8s-system"

// frrk8sBinDir returns the folder with frr-k8s-controller and
// frr-reloader.sh: $IRONLB_FRRK8S_DIR, else bin/frr-k8s/<version>.
func frrk8sBinDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("IRONLB_FRRK8S_DIR")
	if dir == "" {
		dir = filepath.Join(repoRoot(t), "bin", "frr-k8s", frrk8sVersion)
	}
	for _, f := range []string{"frr-k8s-controller", "frr-reloader.sh"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("missing frr-k8s %s (run hack/build-frr-k8s.sh): %v", frrk8sVersion, err)
		}
	}
	return dir
}

// TestFRRK8sMode runs ironlb next to frr-k8s: on every lab node an FRR,
// frr-k8s's controller and its FRR reloader (as the frr-k8s DaemonSet
// runs them), and ironlb's speaker with -bgp-type=frr-k8s, which writes
// the node's FRRConfiguration instead of driving an FRR itself. The
// router must get the Service's route from every node (ECMP), and a
// user's FRRConfiguration that adds a prefix to the same sessions must
// be merged by frr-k8s with ironlb's, both routes present.
func TestFRRK8sMode(t *testing.T) {
	skipUnlessLabCanRun(t)
	binDir := frrk8sBinDir(t)
	cfg := labConfig(t)
	l := startLab(t, cfg)
	ctx := t.Context()
	c := l.Kube()
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: frrk8sNamespace}}); err != nil {
		t.Fatal(err)
	}
	keepFRRLog(t)

	var procs []*nodeProc
	t.Cleanup(func() {
		for _, p := range slices.Backward(procs) {
			p.stop()
		}
		if t.Failed() {
			for _, p := range procs {
				t.Logf("--- %s:\n%s", p.name, p.tail())
			}
		}
	})
	for _, n := range lab.Nodes() {
		f, err := frrproc.Start(ctx, frrproc.Config{Name: n.Name, Netns: n.Name, Dir: filepath.Join(l.StateDir(), "frrk8s-frr-"+n.Name)})
		if err != nil {
			t.Fatalf("starting FRR on %s: %v", n.Name, err)
		}
		t.Cleanup(func() {
			if t.Failed() {
				if out, err := f.Vtysh(context.Background(), "show running-config"); err == nil {
					t.Logf("--- %s running-config:\n%s", n.Name, out)
				}
			}
			if err := f.Stop(); err != nil {
				t.Errorf("stopping FRR on %s: %v", n.Name, err)
			}
		})
		procs = append(procs, startFRRK8s(t, l, binDir, n, f))
		procs = append(procs, startNodeProc(t, n.Name+"-speaker", n.Name, nil, cfg.Binary, "speaker",
			"--node-name="+n.Name,
			"--kubeconfig="+l.KubeconfigPath(),
			"--namespace="+lab.MetalLBNamespace,
			"--bgp-type=frr-k8s",
			"--frrk8s-namespace="+frrk8sNamespace,
			"--router-id="+n.IPv4.String(),
			"--drain-delay=3s",
			"--l2=false",
			"--metrics-addr=0",
			"--health-addr=127.0.0.1:7475",
		))
	}

	// ironlb's objects, one per node, selecting it by hostname.
	waitCond(t, "an FRRConfiguration per node", func(ctx context.Context) (bool, string) {
		var list frrk8s.FRRConfigurationList
		if err := c.List(ctx, &list, client.InNamespace(frrk8sNamespace)); err != nil {
			return false, err.Error()
		}
		var names []string
		for _, o := range list.Items {
			if o.Spec.NodeSelector.MatchLabels["kubernetes.io/hostname"] == strings.TrimPrefix(o.Name, "ironlb-") {
				names = append(names, o.Name)
			}
		}
		return slices.Equal(names, []string{"ironlb-ilb-n1", "ironlb-ilb-n2", "ironlb-ilb-n3"}), fmt.Sprint(names)
	})
	waitSessions(t, l)

	ips, err := l.WaitServiceIPs(ctx, "lab", "web-bgp", 2)
	if err != nil {
		t.Fatal(err)
	}
	v4 := ips[0]
	if !v4.Is4() {
		v4 = ips[1]
	}
	all := nodeIPv4s("ilb-n1", "ilb-n2", "ilb-n3")
	waitECMP := func(what string, ip netip.Addr) {
		t.Helper()
		waitCond(t, what, func(ctx context.Context) (bool, string) {
			gws, err := nextHops(ctx, ip)
			return err == nil && slices.Equal(gws, all), fmt.Sprint(gws, err)
		})
	}
	waitECMP("the Service's route from the three nodes", v4)

	// A user's FRRConfiguration shares the sessions: it announces a
	// prefix of its own to the same router from every node, its neighbor
	// written as MetalLB writes one (port 179 spelled out). (A part of
	// the remote network the router has connected: the lab's other
	// documentation prefixes are its LAN, pool and Service CIDRs.)
	before, _ := routerSessionCounters(t, l)
	user := &frrk8s.FRRConfiguration{
		ObjectMeta: metav1.ObjectMeta{Namespace: frrk8sNamespace, Name: "user-extra"},
		Spec: frrk8s.FRRConfigurationSpec{BGP: frrk8s.BGPConfig{
			Routers: []frrk8s.Router{{
				ASN:      64512,
				Prefixes: []string{"198.51.100.192/26"},
				Neighbors: []frrk8s.Neighbor{{
					Address: "192.0.2.1", ASN: 64500, Port: ptr.To[uint16](179), BFDProfile: "lab", EnableGracefulRestart: true,
					ToAdvertise: frrk8s.Advertise{Allowed: frrk8s.AllowedOutPrefixes{Prefixes: []string{"198.51.100.192/26"}}},
				}},
			}},
			BFDProfiles: []frrk8s.BFDProfile{{Name: "lab"}},
		}},
	}
	if err := c.Create(ctx, user); err != nil {
		t.Fatalf("creating the user's FRRConfiguration: %v", err)
	}
	waitCond(t, "the user's prefix from the three nodes", func(ctx context.Context) (bool, string) {
		out, err := lab.Exec(ctx, lab.RouterNetns, "ip", "-j", "-4", "route", "show", "exact", "198.51.100.192/26")
		if err != nil {
			return false, err.Error()
		}
		n := bytes.Count(out, []byte(`"gateway"`))
		return n == 3, string(out)
	})
	waitECMP("the Service's route still from the three nodes", v4)

	// A new Service reaches the router through frr-k8s too, next to the
	// user's prefix.
	ip := newService(t, l, "frrk8s-new")[0]
	if err := l.CreateEndpoints(ctx, "lab", "frrk8s-new", "ilb-n1", "ilb-n2", "ilb-n3"); err != nil {
		t.Fatal(err)
	}
	waitECMP("a new Service's route from the three nodes", ip)
	if after, _ := routerSessionCounters(t, l); !maps.Equal(before, after) {
		t.Errorf("sessions reset while frr-k8s merged and applied the changes: established/dropped before %v, after %v", before, after)
	}
}

// keepFRRLog removes /etc/frr/frr.log at the end if the test made it:
// frr-k8s's frr.conf says `log file /etc/frr/frr.log`, which the lab's
// FRR daemons (in the root mount namespace) then open.
func keepFRRLog(t *testing.T) {
	const path = "/etc/frr/frr.log"
	if _, err := os.Stat(path); err == nil {
		return
	}
	t.Cleanup(func() { os.Remove(path) })
}

// startFRRK8s runs frr-k8s's controller and reloader for node n, as the
// frr-k8s DaemonSet does in its pod, against the node's FRR f: in the
// node's network namespace and in a mount namespace of their own where
// /etc/frr and /var/run/frr are the node FRR's pathspace folders, so
// the reloader's plain `vtysh` and `frr-reload.py` reach that FRR. The
// files the two share (frr.conf, the reloader's pid) are in a folder of
// the node, named through FRR_CONFIG_FILE, FRR_RELOADER_PID_FILE and
// SHARED_VOLUME.
func startFRRK8s(t *testing.T, l *lab.Lab, binDir string, n lab.Node, f *frrproc.FRR) *nodeProc {
	t.Helper()
	shared := filepath.Join(l.StateDir(), "frrk8s-"+n.Name)
	if err := os.MkdirAll(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join("/var/run/frr", n.Name)
	script := strings.Join([]string{
		"set -e",
		fmt.Sprintf("mount --bind %q /etc/frr", f.ConfDir()),
		fmt.Sprintf("mount --bind %q /var/run/frr", runDir),
		fmt.Sprintf("SHARED_VOLUME=%q /bin/bash %q &", shared, filepath.Join(binDir, "frr-reloader.sh")),
		fmt.Sprintf("while [ ! -s %q ]; do sleep 0.1; done", filepath.Join(shared, "reloader.pid")),
		fmt.Sprintf("exec %q --node-name=%s --namespace=%s --kubeconfig=%q --metrics-bind-address=0 --log-level=info",
			filepath.Join(binDir, "frr-k8s-controller"), n.Name, frrk8sNamespace, l.KubeconfigPath()),
	}, "\n")
	env := []string{"FRR_CONFIG_FILE=" + filepath.Join(shared, "frr.conf"), "FRR_RELOADER_PID_FILE=" + filepath.Join(shared, "reloader.pid")}
	return startNodeProc(t, n.Name+"-frr-k8s", n.Name, env, "unshare", "--mount", "--propagation", "private", "--", "/bin/bash", "-c", script)
}

// nodeProc is a process the test runs in a node's network namespace, in
// a process group of its own.
type nodeProc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedOutput
	done chan struct{}
}

// startNodeProc starts `nsenter --net=/run/netns/NETNS ARGV...` with
// env added to the test's environment.
func startNodeProc(t *testing.T, name, netns string, env []string, argv ...string) *nodeProc {
	t.Helper()
	cmd := exec.Command("nsenter", append([]string{"--net=/run/netns/" + netns}, argv...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), env...)
	p := &nodeProc{name: name, cmd: cmd, out: &lockedOutput{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	return p
}

// stop ends the process group: SIGTERM, then SIGKILL after 15s.
func (p *nodeProc) stop() {
	if p.cmd.Process == nil {
		return
	}
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
	}
	// The reloader's `sleep infinity` children may outlive their shell.
	_ = syscall.Kill(pgid, syscall.SIGKILL)
}

// tail returns the end of the process's output.
func (p *nodeProc) tail() string {
	s := p.out.String()
	if len(s) > 6000 {
		s = s[len(s)-6000:]
	}
	return s
}

// lockedOutput collects a process's output.
type lockedOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *lockedOutput) Write(b []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(b)
}

func (o *lockedOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
