package charttest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ironlb/ironlb/frr/agent"
)

// The frr container's entrypoint is tested against the FRR installed on
// this machine (Debian's, from hack/install-deps.sh), in a stand-in for the
// container built from the rendered pod spec: its own mount, network and
// PID namespaces, a root filesystem with the host's /usr mounted read-only,
// the chart's volumes at the chart's paths, a read-only root when the
// chart asks for one, no new privileges, and the chart's capabilities as
// the bounding set. Only the init is a stand-in (tini is not installed
// here); the agent is the ironlb binary itself, except where a test only
// asks whether FRR came up.

// stubAgent stands in for `ironlb frr-agent` where only the start of FRR
// matters: the entrypoint runs it once FRR is up.
const stubAgent = `#!/bin/sh
echo started > /var/run/ironlb/agent-started
exec sleep 3600
`

// stubInit stands in for tini: it runs its arguments as a child, so that
// orphans (the daemons watchfrr daemonizes) come to it, and bash reaps
// them.
const stubInit = `#!/bin/bash
"$@" &
wait $!
`

// frrSpec is what the test takes from the rendered frr container.
type frrSpec struct {
	argv         []string
	caps         []string
	readOnlyRoot bool
	mounts       []corev1.VolumeMount
	volumes      map[string]corev1.Volume
	configMaps   map[string]map[string]string
}

func renderFRRSpec(t *testing.T) frrSpec {
	t.Helper()
	b := render(t, cases()[0], "--set-json", `frr.init=["/bin/bash","/ironlb-test/init.sh"]`)
	spec := podSpec(t, b, "DaemonSet", "ironlb-speaker")
	c := container(t, spec, "frr")
	s := frrSpec{
		argv:         slices.Concat(c.Command, c.Args),
		readOnlyRoot: c.SecurityContext.ReadOnlyRootFilesystem != nil && *c.SecurityContext.ReadOnlyRootFilesystem,
		mounts:       c.VolumeMounts,
		volumes:      map[string]corev1.Volume{},
		configMaps:   map[string]map[string]string{},
	}
	for _, cp := range c.SecurityContext.Capabilities.Add {
		s.caps = append(s.caps, string(cp))
	}
	for _, v := range spec.Volumes {
		s.volumes[v.Name] = v
	}
	for _, o := range decode(t, b) {
		if o.GetKind() != "ConfigMap" {
			continue
		}
		data := map[string]string{}
		raw, _ := o.Object["data"].(map[string]any)
		for k, v := range raw {
			data[k], _ = v.(string)
		}
		s.configMaps[o.GetName()] = data
	}
	return s
}

// volumeDirs makes a host folder for every volume of the container, as
// the kubelet would: ConfigMap files, empty folders open to all (emptyDir),
// and agent as the binary the init container copies.
func volumeDirs(t *testing.T, s frrSpec, agent []byte) map[string]string {
	t.Helper()
	base := t.TempDir()
	dirs := map[string]string{}
	for _, m := range s.mounts {
		dir := filepath.Join(base, m.Name)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		v := s.volumes[m.Name]
		switch {
		case v.ConfigMap != nil:
			for k, data := range s.configMaps[v.ConfigMap.Name] {
				if err := os.WriteFile(filepath.Join(dir, k), []byte(data), 0o444); err != nil {
					t.Fatal(err)
				}
			}
		case m.Name == "ironlb-bin":
			if err := os.WriteFile(filepath.Join(dir, "ironlb"), agent, 0o755); err != nil {
				t.Fatal(err)
			}
		case v.EmptyDir == nil:
			t.Fatalf("volume %s: unexpected kind", m.Name)
		}
		dirs[m.Name] = dir
	}
	return dirs
}

// frrContainer is one run of the stand-in container.
type frrContainer struct {
	spec frrSpec
	caps []string
	cmd  *exec.Cmd
	out  *lockedBuffer
	pid1 int
	dirs map[string]string
	done chan struct{}
}

// setpriv returns the argv prefix that limits a process as the container.
func setprivArgs(caps []string) []string {
	set := "-all"
	for _, c := range caps {
		set += ",+" + strings.ToLower(c)
	}
	return []string{"/usr/bin/setpriv", "--bounding-set", set, "--inh-caps", "-all", "--no-new-privs"}
}

// startFRRContainer starts the container with caps and the volume folders.
func startFRRContainer(t *testing.T, s frrSpec, caps []string, dirs map[string]string) *frrContainer {
	t.Helper()
	root := filepath.Join(t.TempDir(), "rootfs")
	for _, d := range []string{"usr", "etc", "var/tmp", "var/log", "run", "tmp", "proc", "dev", "root", "ironlb-test"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../run", filepath.Join(root, "var", "run")); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"bin", "sbin", "lib", "lib64"} {
		target, err := os.Readlink("/" + l)
		if err != nil {
			t.Fatalf("/%s is not a symlink into /usr; this stand-in needs a merged /usr: %v", l, err)
		}
		if err := os.Symlink(target, filepath.Join(root, l)); err != nil {
			t.Fatal(err)
		}
	}
	// What FRR, vtysh (Debian's uses PAM) and the shell read from /etc
	// besides /etc/frr: mounted read-only from the host below.
	var etc []string
	for _, f := range []string{"passwd", "group", "shadow", "nsswitch.conf", "hosts", "ld.so.cache", "ld.so.conf", "pam.d", "security"} {
		fi, err := os.Stat("/etc/" + f)
		if err != nil {
			continue
		}
		mp := filepath.Join(root, "etc", f)
		if fi.IsDir() {
			err = os.Mkdir(mp, 0o755)
		} else {
			err = os.WriteFile(mp, nil, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
		etc = append(etc, f)
	}
	testDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(testDir, "init.sh"), []byte(stubInit), 0o755); err != nil {
		t.Fatal(err)
	}

	// The setup runs in the new namespaces, as PID 1, then becomes the
	// container's process.
	q := strconv.Quote
	var sh strings.Builder
	fmt.Fprintf(&sh, "set -e\nR=%s\n", q(root))
	sh.WriteString("mount --bind \"$R\" \"$R\"\n")
	sh.WriteString("mount --bind /usr \"$R/usr\"\nmount -o remount,bind,ro \"$R/usr\"\n")
	sh.WriteString("mount --rbind /dev \"$R/dev\"\nmount -t proc proc \"$R/proc\"\n")
	for _, f := range etc {
		fmt.Fprintf(&sh, "mount --bind /etc/%s \"$R/etc/%s\"\nmount -o remount,bind,ro \"$R/etc/%s\"\n", f, f, f)
	}
	fmt.Fprintf(&sh, "mount --bind %s \"$R/ironlb-test\"\nmount -o remount,bind,ro \"$R/ironlb-test\"\n", q(testDir))
	for _, m := range s.mounts {
		target := "\"$R\"" + q(m.MountPath)
		fmt.Fprintf(&sh, "mkdir -p %s\nmount --bind %s %s\n", target, q(dirs[m.Name]), target)
		if m.ReadOnly {
			fmt.Fprintf(&sh, "mount -o remount,bind,ro %s\n", target)
		}
	}
	if s.readOnlyRoot {
		sh.WriteString("mount -o remount,bind,ro \"$R\"\n")
	}
	argv := slices.Concat([]string{"/usr/sbin/chroot", root}, setprivArgs(caps), s.argv)
	sh.WriteString("cd /\nexec")
	for _, a := range argv {
		sh.WriteString(" " + q(a))
	}
	sh.WriteString("\n")

	c := &frrContainer{spec: s, caps: caps, out: &lockedBuffer{}, dirs: dirs, done: make(chan struct{})}
	c.cmd = exec.Command("unshare", "--mount", "--net", "--pid", "--fork", "--propagation", "private", "/bin/sh", "-c", sh.String())
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_NAME=node-1", "HOME=/root"}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("starting the container: %v", err)
	}
	go func() {
		_ = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(c.stop)
	// The container's PID 1 is unshare's only child.
	eventually(t, "the container's first process", func() (bool, string) {
		if c.exited() {
			t.Fatalf("the container exited:\n%s", c.out.String())
		}
		c.pid1 = childOf(c.cmd.Process.Pid)
		return c.pid1 > 0, "no child yet"
	})
	return c
}

// childOf returns a child process of pid, or 0.
func childOf(pid int) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces.
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		f := strings.Fields(rest)
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			return child
		}
	}
	return 0
}

// stop kills everything in the container (its PID namespace ends with
// its first process) and waits.
func (c *frrContainer) stop() {
	if c.pid1 > 0 {
		_ = syscall.Kill(c.pid1, syscall.SIGKILL)
	}
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}

// exec runs argv in the container as `kubectl exec` would: its
// namespaces, its root, its limits.
func (c *frrContainer) exec(argv ...string) (string, error) {
	full := slices.Concat([]string{"-t", strconv.Itoa(c.pid1), "-m", "-n", "-p", "-r", "-w"}, setprivArgs(c.caps), argv)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "nsenter", full...).CombinedOutput()
	return string(out), err
}

// agentStarted reports whether the stub agent ran.
func (c *frrContainer) agentStarted() bool {
	_, err := os.Stat(filepath.Join(c.dirs["ironlb-run"], "agent-started"))
	return err == nil
}

func (c *frrContainer) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func needFRR(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: namespaces, mounts and FRR's daemons")
	}
	for _, p := range []string{"/usr/lib/frr/frrinit.sh", "/usr/lib/frr/watchfrr", "/usr/lib/frr/bgpd", "/usr/bin/vtysh", "/usr/bin/setpriv", "/usr/bin/unshare", "/usr/bin/nsenter", "/usr/sbin/chroot"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s missing (hack/install-deps.sh installs FRR): %v", p, err)
		}
	}
}

// listeningTCP returns the TCP ports listening in the container's network.
func (c *frrContainer) listeningTCP(t *testing.T) []int {
	t.Helper()
	out, err := exec.Command("nsenter", "-t", strconv.Itoa(c.pid1), "-n", "cat", "/proc/net/tcp", "/proc/net/tcp6").Output()
	if err != nil {
		t.Fatalf("reading sockets: %v", err)
	}
	var ports []int
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[3] != "0A" { // LISTEN
			continue
		}
		hostPort := strings.Split(f[1], ":")
		p, err := strconv.ParseInt(hostPort[len(hostPort)-1], 16, 32)
		if err == nil && !slices.Contains(ports, int(p)) {
			ports = append(ports, int(p))
		}
	}
	slices.Sort(ports)
	return ports
}

// agentSocket is where the agent's socket shows up on the host.
func (c *frrContainer) agentSocket() string {
	return filepath.Join(c.dirs["ironlb-run"], "frr-agent.sock")
}

// waitRealAgent waits until the agent answers on its socket, with vtysh
// working behind it.
func (c *frrContainer) waitRealAgent(t *testing.T) *agent.Client {
	t.Helper()
	cl := agent.NewClient(c.agentSocket())
	t.Cleanup(cl.CloseIdleConnections)
	eventually(t, "the agent to answer", func() (bool, string) {
		if c.exited() {
			t.Fatalf("the container exited:\n%s", c.out.String())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := cl.Healthz(ctx); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	return cl
}

// TestFRRContainerEntrypoint runs the frr container with the real ironlb
// binary as the agent: FRR's daemons come up, the agent serves on the
// socket the speaker uses and applies a configuration, `kubectl exec
// vtysh` works, the probe passes, only BGP listens, FRR's log reaches the
// container output, and a restarted container comes back with the
// configuration last applied.
func TestFRRContainerEntrypoint(t *testing.T) {
	needFRR(t)
	helmBin(t)
	bin, err := os.ReadFile(buildIronlb(t))
	if err != nil {
		t.Fatal(err)
	}
	s := renderFRRSpec(t)
	dirs := volumeDirs(t, s, bin)
	c := startFRRContainer(t, s, s.caps, dirs)
	cl := c.waitRealAgent(t)

	// What the speaker does through the socket.
	conf := "frr defaults traditional\nservice integrated-vtysh-config\n!\nrouter bgp 64999\n bgp router-id 192.0.2.9\n neighbor 192.0.2.1 remote-as 64513\nexit\n!\n"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if res, err := cl.Apply(ctx, []byte(conf)); err != nil {
		t.Fatalf("applying through the agent: %v (%+v)\n%s", err, res, c.out.String())
	}

	// kubectl exec ... -c frr -- vtysh
	out, err := c.exec("vtysh", "-c", "show daemons")
	if err != nil {
		t.Fatalf("vtysh in the container: %v\n%s", err, out)
	}
	for _, d := range []string{"zebra", "bgpd", "bfdd", "staticd", "watchfrr"} {
		if !slices.Contains(strings.Fields(out), d) {
			t.Errorf("daemon %s not running: vtysh shows %q", d, out)
		}
	}
	out, err = c.exec("vtysh", "-c", "show running-config")
	if err != nil || !strings.Contains(out, "router bgp 64999") || !strings.Contains(out, "neighbor 192.0.2.1 remote-as 64513") {
		t.Errorf("the applied configuration is not running (%v):\n%s", err, out)
	}
	// The probes' command.
	if out, err := c.exec("/usr/lib/frr/frrinit.sh", "status"); err != nil {
		t.Errorf("the liveness probe fails on a healthy FRR: %v\n%s", err, out)
	}
	// Only BGP listens: the TCP vtys are off.
	if got := c.listeningTCP(t); !slices.Equal(got, []int{179}) {
		t.Errorf("listening TCP ports %v, want only BGP's 179", got)
	}
	// FRR's log reaches the container's output.
	eventually(t, "FRR's log in the container output", func() (bool, string) {
		return strings.Contains(c.out.String(), "all daemons up"), c.out.String()
	})
	c.stop()

	// A restarted container (same volumes, the dead daemons' files left
	// behind) comes back with the configuration last applied.
	again := startFRRContainer(t, s, s.caps, dirs)
	again.waitRealAgent(t)
	out, err = again.exec("vtysh", "-c", "show running-config")
	if err != nil || !strings.Contains(out, "router bgp 64999") {
		t.Errorf("after a restart FRR does not run the last applied configuration (%v):\n%s", err, out)
	}
}

// TestFRRCapabilitiesAreNeeded starts the container once without each of
// its capabilities, all at once: FRR must then fail to come up, or the
// capability is not needed and should go.
func TestFRRCapabilitiesAreNeeded(t *testing.T) {
	needFRR(t)
	helmBin(t)
	if testing.Short() {
		t.Skip("starts FRR once per capability")
	}
	s := renderFRRSpec(t)
	runs := map[string]*frrContainer{}
	for _, drop := range s.caps {
		caps := slices.DeleteFunc(slices.Clone(s.caps), func(c string) bool { return c == drop })
		runs[drop] = startFRRContainer(t, s, caps, volumeDirs(t, s, []byte(stubAgent)))
	}
	// With every capability FRR is up in a few seconds; this is ample.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		pending := 0
		for _, c := range runs {
			if !c.agentStarted() && !c.exited() {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, drop := range s.caps {
		if runs[drop].agentStarted() {
			t.Errorf("FRR came up without %s: drop it from the chart", drop)
		}
	}
}
