package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Real-nodes mode (Config.RealNodes): every node namespace runs
// containerd, a kubelet and kube-proxy (iptables mode), the control-plane
// host adds kube-scheduler and kube-controller-manager, and ironlb comes
// only through `helm install` of the chart with the images of
// hack/build-node-images.sh. Each node keeps its files under
// StateDir/nodes/NODE (containerd's root, state and socket, the kubelet's
// root and pod logs, the CNI configuration and IPAM state) and its
// containers in the cgroup /NODE of every cgroup v1 hierarchy.

// Images the real-nodes mode loads into every node's containerd, as
// hack/build-node-images.sh names them.
const (
	PauseImage      = "registry.k8s.io/pause:3.10.2"
	FRRImageRepo    = "ironlb.local/frr"
	FRRImageTag     = "trixie"
	IronlbImageRepo = "ironlb.local/ironlb"
	// DefaultIronlbTag is the tag of the ironlb image built from the
	// working tree.
	DefaultIronlbTag = "dev"
	// ReleaseName is the Helm release of the chart; the chart's objects
	// are named after it (ironlb-controller, ironlb-speaker).
	ReleaseName = "ironlb"
)

// Pod address ranges of the real nodes: one /28 and one /64 per node,
// inside ClusterPodCIDRs, apart from every other lab address (the LAN's
// hosts, the L2 pool from .200, the BGP pool and the Service range).
const (
	ClusterPodCIDRv4 = "192.0.2.128/26"
	ClusterPodCIDRv6 = "2001:db8:0:10::/60"
)

// PodCIDRs returns a node's pod ranges: 192.0.2.128/28 and
// 2001:db8:0:11::/64 for ilb-n1, the next ones for ilb-n2 and ilb-n3.
func PodCIDRs(n Node) (v4, v6 netip.Prefix) {
	i := nodeIndex(n.Name)
	v4 = netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(128 + 16*(i-1))}), 28)
	v6 = netip.MustParsePrefix(fmt.Sprintf("2001:db8:0:%x::/64", 0x10+i))
	return v4, v6
}

// nodeIndex is 1 for ilb-n1, and so on.
func nodeIndex(name string) int {
	i, _ := strconv.Atoi(strings.TrimPrefix(name, "ilb-n"))
	return i
}

// Tier of the kubelets and kube-proxies: Teardown stops them before
// containerd (tierWorkloads) and the control plane.
const tierNodeAgents = 3

// nodesDir holds the per-node folders inside the state folder.
const nodesDir = "nodes"

// nodeRoot is a node's folder.
func (c Config) nodeRoot(n string, elem ...string) string {
	return c.path(append([]string{nodesDir, n}, elem...)...)
}

// containerdSocket is a node's containerd endpoint.
func (c Config) containerdSocket(n string) string {
	return c.nodeRoot(n, "containerd", "containerd.sock")
}

// realNodesPlan returns the routes that let the control-plane host (the
// API server calls the webhook at the controller pod's address) and the
// other nodes reach each node's pods.
func realNodesPlan() [][]string {
	var p [][]string
	nodes := Nodes()
	for _, n := range nodes {
		v4, v6 := PodCIDRs(n)
		for _, from := range append([]string{ControlPlaneNetns}, nodeNames(nodes)...) {
			if from == n.Name {
				continue
			}
			p = append(p,
				[]string{"ip", "-n", from, "route", "add", v4.String(), "via", n.IPv4.String()},
				[]string{"ip", "-n", from, "-6", "route", "add", v6.String(), "via", n.IPv6.String()})
		}
		// Pods behind the node: it forwards (kube-proxy's DNAT to other
		// nodes' endpoints, the pods' own traffic).
		p = append(p, []string{"ip", "netns", "exec", n.Name, "sysctl", "-q", "-w",
			"net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"})
	}
	return p
}

func nodeNames(nodes []Node) []string {
	names := make([]string, 0, len(nodes))
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	return names
}

// writeNodeFiles writes every node's containerd, CNI, kubelet and
// kube-proxy configuration, and makes its cgroups.
func (l *Lab) writeNodeFiles() error {
	for _, n := range Nodes() {
		files := map[string]string{
			l.cfg.nodeRoot(n.Name, "containerd", "config.toml"):       l.containerdConfig(n),
			l.cfg.nodeRoot(n.Name, "cni", "net.d", "10-lab.conflist"): l.cniConfig(n),
			l.cfg.nodeRoot(n.Name, "kubelet.yaml"):                    l.kubeletConfig(n),
			l.cfg.nodeRoot(n.Name, "kube-proxy.yaml"):                 l.kubeProxyConfig(n),
			l.cfg.nodeRoot(n.Name, "resolv.conf"):                     "",
		}
		for path, data := range files {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return fmt.Errorf("writing node %s files: %w", n.Name, err)
			}
			if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
				return fmt.Errorf("writing node %s files: %w", n.Name, err)
			}
		}
		if err := makeNodeCgroups(n.Name); err != nil {
			return err
		}
	}
	return nil
}

func (l *Lab) containerdConfig(n Node) string {
	root := func(elem ...string) string { return l.cfg.nodeRoot(n.Name, elem...) }
	// restrict_oom_score_adj: the machine may lack CAP_SYS_RESOURCE, and
	// the sandboxes would fail to lower their OOM score.
	return fmt.Sprintf(`version = 2
root = %q
state = %q
[grpc]
  address = %q
[ttrpc]
  address = %q
[plugins."io.containerd.internal.v1.opt"]
  path = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = %q
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
`, root("containerd", "root"), root("containerd", "state"), l.cfg.containerdSocket(n.Name),
		l.cfg.containerdSocket(n.Name)+".ttrpc", root("containerd", "opt"), PauseImage,
		root("runc"), root("cni", "net.d"))
}

// cniConfig is a bridge with the node's pod ranges; the pods' traffic to
// the outside is masqueraded to the node's address.
func (l *Lab) cniConfig(n Node) string {
	v4, v6 := PodCIDRs(n)
	return fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "lab",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": %q,
        "ranges": [[{"subnet": %q}], [{"subnet": %q}]],
        "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`, l.cfg.nodeRoot(n.Name, "cni", "ipam"), v4, v6)
}

// kubeletConfig: cgroup v1 with the cgroupfs driver, the node's own
// cgroup root, and an API server that reaches it anonymously (logs, exec).
func (l *Lab) kubeletConfig(n Node) string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /%s
podLogsDir: %s
resolvConf: %s
address: %s
healthzBindAddress: 127.0.0.1
healthzPort: 10248
readOnlyPort: 0
failSwapOn: false
authentication:
  anonymous:
    enabled: true
  webhook:
    enabled: false
authorization:
  mode: AlwaysAllow
evictionHard:
  memory.available: "50Mi"
  nodefs.available: "1%%"
  imagefs.available: "1%%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
containerRuntimeEndpoint: unix://%s
serializeImagePulls: false
nodeStatusUpdateFrequency: 2s
shutdownGracePeriod: 0s
`, n.Name, l.cfg.nodeRoot(n.Name, "pod-logs"), l.cfg.nodeRoot(n.Name, "resolv.conf"), n.IPv4,
		l.cfg.containerdSocket(n.Name))
}

// kubeProxyConfig: iptables mode; conntrack limits left as they are (they
// are the host's).
func (l *Lab) kubeProxyConfig(n Node) string {
	return fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: %s
hostnameOverride: %s
mode: iptables
clusterCIDR: %s,%s
bindAddress: %s
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`, l.KubeconfigPath(), n.Name, ClusterPodCIDRv4, ClusterPodCIDRv6, n.IPv4)
}

// realControlPlaneWorkloads are the scheduler and the controller-manager.
func (l *Lab) realControlPlaneWorkloads() []procSpec {
	c := l.cfg
	bin := func(name string) string { return filepath.Join(c.NodeBinDir, name) }
	return []procSpec{{
		name:  "kube-scheduler",
		netns: ControlPlaneNetns,
		tier:  tierWorkloads,
		argv: []string{bin("kube-scheduler"),
			"--kubeconfig=" + l.KubeconfigPath(),
			"--leader-elect=false",
			"--bind-address=127.0.0.1",
		},
	}, {
		name:  "kube-controller-manager",
		netns: ControlPlaneNetns,
		tier:  tierWorkloads,
		argv: []string{bin("kube-controller-manager"),
			"--kubeconfig=" + l.KubeconfigPath(),
			"--leader-elect=false",
			"--bind-address=127.0.0.1",
			"--root-ca-file=" + c.path(pkiDir, caCertFile),
			"--service-account-private-key-file=" + c.path(pkiDir, saSigningKey),
			"--use-service-account-credentials=false",
			"--node-monitor-grace-period=20s",
		},
	}}
}

// realNodeProcesses lists what runs in a real node's namespace, entered
// with nsenter (not `ip netns exec`, which remounts /sys and hides the
// cgroup v1 mounts from runc): containerd, the kubelet and kube-proxy,
// and the HTTP backend of the example Services on port ServicePort (the
// kube-proxy stand-in, whose addresses on KubeIPVSLink are unused here).
func (l *Lab) realNodeProcesses(n Node) (runtime, agents []procSpec) {
	c := l.cfg
	bin := func(name string) string { return filepath.Join(c.NodeBinDir, name) }
	runtime = []procSpec{{
		name:    n.Name + "-containerd",
		netns:   n.Name,
		nsenter: true,
		tier:    tierWorkloads,
		argv:    []string{"containerd", "--config=" + c.nodeRoot(n.Name, "containerd", "config.toml")},
		ready: func(ctx context.Context) error {
			_, err := run(ctx, "ctr", "--address", c.containerdSocket(n.Name), "version")
			return err
		},
	}, {
		name:  n.Name + "-web",
		netns: n.Name,
		tier:  tierWorkloads,
		argv:  []string{c.Binary, "lab", "kube-proxy", "--node=" + n.Name, "--kubeconfig=" + l.KubeconfigPath()},
		ready: func(ctx context.Context) error {
			return l.httpFromLANClient(ctx, "http://"+cpAddrOf(n.IPv4, ServicePort)+"/", n.Name)
		},
	}}
	agents = []procSpec{{
		name:    n.Name + "-kubelet",
		netns:   n.Name,
		nsenter: true,
		tier:    tierNodeAgents,
		argv: []string{bin("kubelet"),
			"--config=" + c.nodeRoot(n.Name, "kubelet.yaml"),
			"--kubeconfig=" + l.KubeconfigPath(),
			"--hostname-override=" + n.Name,
			"--node-ip=" + n.IPv4.String() + "," + n.IPv6.String(),
			"--root-dir=" + c.nodeRoot(n.Name, "kubelet"),
			"--cert-dir=" + c.nodeRoot(n.Name, "kubelet", "pki"),
		},
		ready: func(ctx context.Context) error { return l.nodeReady(ctx, n.Name) },
	}, {
		name:    n.Name + "-kube-proxy",
		netns:   n.Name,
		nsenter: true,
		tier:    tierNodeAgents,
		argv:    []string{bin("kube-proxy"), "--config=" + c.nodeRoot(n.Name, "kube-proxy.yaml")},
		ready: func(ctx context.Context) error {
			return httpOK(ctx, n.Name, "http://127.0.0.1:10256/healthz", "")
		},
	}}
	return runtime, agents
}

func cpAddrOf(a netip.Addr, port int) string {
	return netip.AddrPortFrom(a, uint16(port)).String()
}

// nodeReady returns nil once the kubelet registered its Node and reports
// it Ready.
func (l *Lab) nodeReady(ctx context.Context, name string) error {
	node := &corev1.Node{}
	if err := l.kube.Get(ctx, client.ObjectKey{Name: name}, node); err != nil {
		return err
	}
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionTrue {
				return nil
			}
			return fmt.Errorf("node %s: %s: %s", name, c.Reason, c.Message)
		}
	}
	return fmt.Errorf("node %s: no Ready condition yet", name)
}

// upRealNodes starts the real nodes and installs the chart.
func (l *Lab) upRealNodes(ctx context.Context) error {
	var runtimes, agents []procSpec
	for _, n := range Nodes() {
		r, a := l.realNodeProcesses(n)
		runtimes = append(runtimes, r...)
		agents = append(agents, a...)
	}
	t := time.Now()
	// The router's FRR is the process lab's; the rest is the real nodes'.
	router := l.frrProcess(RouterNetns, []string{"zebra", "bgpd", "bfdd"}, l.cfg.path(frrDir, RouterNetns+".conf"), l.routerReady)
	first := append([]procSpec{router}, l.realControlPlaneWorkloads()...)
	if err := l.startAll(ctx, append(first, runtimes...)); err != nil {
		return err
	}
	if err := l.importImages(ctx); err != nil {
		return err
	}
	l.log.Info("lab step done", "step", "containerd and images", "took", time.Since(t).Round(time.Millisecond).String())
	t = time.Now()
	if err := l.startAll(ctx, agents); err != nil {
		return err
	}
	l.log.Info("lab step done", "step", "kubelets", "took", time.Since(t).Round(time.Millisecond).String())
	t = time.Now()
	if err := l.InstallChart(ctx, l.cfg.IronlbTag); err != nil {
		return err
	}
	l.log.Info("lab step done", "step", "helm install", "took", time.Since(t).Round(time.Millisecond).String())
	return nil
}

// importImages loads the pause, FRR and ironlb images into every node's
// containerd.
func (l *Lab) importImages(ctx context.Context) error {
	tars := []string{"pause.tar", "frr.tar", "ironlb-" + l.cfg.IronlbTag + ".tar"}
	g, gctx := errgroup.WithContext(ctx)
	for _, n := range Nodes() {
		g.Go(func() error {
			for _, t := range tars {
				if err := l.ImportImage(gctx, n.Name, filepath.Join(l.cfg.ImageDir, t)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// ImportImage loads a docker-save tarball into a real node's containerd.
func (l *Lab) ImportImage(ctx context.Context, node, tarball string) error {
	if _, err := run(ctx, "ctr", "--address", l.cfg.containerdSocket(node), "-n", "k8s.io",
		"images", "import", "--no-unpack=false", tarball); err != nil {
		return fmt.Errorf("importing %s into %s: %w", filepath.Base(tarball), node, err)
	}
	return nil
}

// ChartValues returns the values that point the chart at the images of
// the working tree (tag) and the Debian FRR image, never pulled.
func ChartValues(tag string) string {
	return fmt.Sprintf(`image:
  repository: %s
  tag: %q
  pullPolicy: Never
frr:
  image:
    repository: %s
    tag: %q
    pullPolicy: Never
  # Debian's tini is /usr/bin/tini; upstream's FRR image has /sbin/tini.
  init: ["/usr/bin/tini", "--"]
`, IronlbImageRepo, tag, FRRImageRepo, FRRImageTag)
}

// InstallChart runs `helm install --wait` of the chart with the images of
// tag, then waits for the DaemonSet and the Deployment to roll out (helm
// may return before every DaemonSet pod is ready).
func (l *Lab) InstallChart(ctx context.Context, tag string, extraArgs ...string) error {
	return l.helmApply(ctx, "install", tag, extraArgs...)
}

// UpgradeChart runs `helm upgrade --wait` to the images of tag and waits
// for the rollouts.
func (l *Lab) UpgradeChart(ctx context.Context, tag string, extraArgs ...string) error {
	return l.helmApply(ctx, "upgrade", tag, extraArgs...)
}

func (l *Lab) helmApply(ctx context.Context, verb, tag string, extraArgs ...string) error {
	values := l.cfg.path("values-" + tag + ".yaml")
	if err := os.WriteFile(values, []byte(ChartValues(tag)), 0o644); err != nil {
		return fmt.Errorf("helm %s: writing values: %w", verb, err)
	}
	args := append([]string{verb, ReleaseName, l.cfg.ChartDir, "--namespace", MetalLBNamespace,
		"--values", values, "--wait", "--timeout", "5m"}, extraArgs...)
	if _, err := l.Helm(ctx, args...); err != nil {
		return err
	}
	for _, obj := range []string{"daemonset/" + ReleaseName + "-speaker", "deployment/" + ReleaseName + "-controller"} {
		if _, err := l.Kubectl(ctx, "-n", MetalLBNamespace, "rollout", "status", obj, "--timeout=5m"); err != nil {
			return err
		}
	}
	return nil
}

// Helm runs helm against the lab's API server, with its cache and
// configuration in the state folder.
func (l *Lab) Helm(ctx context.Context, args ...string) ([]byte, error) {
	return l.runWithKubeconfig(ctx, l.cfg.HelmBinary, args...)
}

// Kubectl runs the lab's kubectl against its API server.
func (l *Lab) Kubectl(ctx context.Context, args ...string) ([]byte, error) {
	return l.runWithKubeconfig(ctx, filepath.Join(l.cfg.NodeBinDir, "kubectl"), args...)
}

func (l *Lab) runWithKubeconfig(ctx context.Context, bin string, args ...string) ([]byte, error) {
	helmHome := l.cfg.path("helm")
	env := append(os.Environ(),
		"KUBECONFIG="+l.LocalKubeconfigPath(),
		"HELM_CACHE_HOME="+filepath.Join(helmHome, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(helmHome, "config"),
		"HELM_DATA_HOME="+filepath.Join(helmHome, "data"))
	return runEnv(ctx, env, append([]string{bin}, args...)...)
}

// validateRealNodes checks the files the real-nodes mode needs.
func (c Config) validateRealNodes(need func(field, path string)) []error {
	var errs []error
	if c.Speakers {
		errs = append(errs, errors.New("Speakers: the real nodes run the speakers from the chart; turn one off"))
	}
	need("NodeBinDir", c.NodeBinDir)
	if c.NodeBinDir != "" {
		for _, b := range []string{"kubelet", "kube-proxy", "kube-scheduler", "kube-controller-manager", "kubectl"} {
			need("NodeBinDir "+b+" (run hack/build-node-binaries.sh)", filepath.Join(c.NodeBinDir, b))
		}
	}
	need("ImageDir", c.ImageDir)
	if c.ImageDir != "" {
		for _, t := range []string{"pause.tar", "frr.tar", "ironlb-" + c.IronlbTag + ".tar"} {
			need("ImageDir "+t+" (run hack/build-node-images.sh)", filepath.Join(c.ImageDir, t))
		}
	}
	need("HelmBinary", c.HelmBinary)
	need("ChartDir", c.ChartDir)
	for _, cmd := range []string{"containerd", "runc", "ctr", "nsenter", "iptables"} {
		if _, err := exec.LookPath(cmd); err != nil {
			errs = append(errs, fmt.Errorf("RealNodes: %s not found (run hack/install-deps.sh): %w", cmd, err))
		}
	}
	if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
		errs = append(errs, fmt.Errorf("RealNodes: CNI plugins (run hack/install-deps.sh): %w", err))
	}
	return errs
}

// apiServerModeFlags are the API server's flags that differ with real
// nodes: the ServiceAccount admission (tokens in pods), the kubelets
// reached at their InternalIP (logs, exec), and webhooks called at the
// pod's address (there is no kube-proxy in the control-plane host).
func (l *Lab) apiServerModeFlags() []string {
	if !l.cfg.RealNodes {
		return []string{"--disable-admission-plugins=ServiceAccount"}
	}
	return []string{
		"--kubelet-preferred-address-types=InternalIP",
		"--enable-aggregator-routing=true",
	}
}

// setupRealNodes adds the pod routes and writes the nodes' files.
func (l *Lab) setupRealNodes(ctx context.Context) error {
	for _, argv := range realNodesPlan() {
		if _, err := run(ctx, argv...); err != nil {
			return fmt.Errorf("building real nodes network: %w", err)
		}
	}
	return l.writeNodeFiles()
}

// nodeAgentNames are a real node's processes that StopNode kills, in the
// order StartNode starts them again.
func nodeAgentNames(node string) []string {
	return []string{node + "-containerd", node + "-kubelet", node + "-kube-proxy"}
}

// StopNode fails a real node as a crash would: its containerd, kubelet
// and kube-proxy get SIGKILL, and so do its containers (the runc shims
// and what runs under them). Its network, and the HTTP backend of the
// example Services, stay.
func (l *Lab) StopNode(ctx context.Context, node string) error {
	var ids []procID
	for _, name := range nodeAgentNames(node) {
		s, err := l.process(name)
		if err != nil {
			return fmt.Errorf("stopping node %s: %w", node, err)
		}
		ids = append(ids, s.id)
	}
	for _, id := range ids {
		_ = id.signal(syscall.SIGKILL)
	}
	if left := waitGone(ctx, ids, nil, killGrace); len(left) > 0 {
		return fmt.Errorf("stopping node %s: %d processes still running", node, len(left))
	}
	return killNodeContainers(ctx, node)
}

// StartNode starts a node StopNode stopped: containerd, then the kubelet
// (until the Node is Ready) and kube-proxy.
func (l *Lab) StartNode(ctx context.Context, node string) error {
	for _, name := range nodeAgentNames(node) {
		if err := l.StartProcess(ctx, name); err != nil {
			return fmt.Errorf("starting node %s: %w", node, err)
		}
	}
	return nil
}
