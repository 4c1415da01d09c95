package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/kubernetes"

	"github.com/ironlb/ironlb/e2e/lab"
	"github.com/ironlb/ironlb/e2e/lab/kubeproxy"
	"github.com/ironlb/ironlb/internal/frrproc"
)

// labCommands are the subcommands of `ironlb lab`. kube-proxy, frr and
// forward are run by the lab itself.
func labCommands() []command {
	return []command{
		{name: "up", short: "build the lab and start it (as root); prints KUBECONFIG=<path>", run: runLabUp},
		{name: "down", short: "stop and remove the lab; safe to run twice", run: runLabDown},
		{name: "kube-proxy", run: runLabKubeProxy},
		{name: "frr", run: runLabFRR},
		{name: "forward", run: runLabForward},
	}
}

func runLab(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, "usage: ironlb lab <up|down> [flags]")
		fmt.Fprintln(stderr)
		for _, c := range labCommands() {
			if c.short != "" {
				fmt.Fprintf(stderr, "  %-6s %s\n", c.name, c.short)
			}
		}
		if len(args) == 0 {
			return &exitError{code: 2, err: errors.New("missing lab command")}
		}
		return nil
	}
	for _, c := range labCommands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdin, stdout, stderr)
		}
	}
	return &exitError{code: 2, err: fmt.Errorf("unknown lab command %q (want up or down)", args[0])}
}

// labUpConfig is what `ironlb lab up` is told by its flags.
type labUpConfig struct {
	lab      lab.Config
	logLevel slog.Level
}

func parseLabUpFlags(args []string, stderr io.Writer, self string) (labUpConfig, error) {
	c := labUpConfig{}
	fs := flag.NewFlagSet("lab up", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.lab.StateDir, "state-dir", lab.DefaultStateDir, "folder for the lab's pids, logs, certificates and kubeconfig; must be missing or empty")
	fs.StringVar(&c.lab.Binary, "binary", self, "the ironlb binary the lab runs")
	fs.StringVar(&c.lab.KubeBinDir, "kube-bin", filepath.Join(filepath.Dir(self), "k8s"), "folder with etcd and kube-apiserver (`make tools`)")
	fs.StringVar(&c.lab.CRDDir, "crds", "charts/ironlb/crds", "folder of the CRD manifests")
	manifests := fs.String("manifests", "examples/lab", "comma-separated files or folders applied once the lab runs")
	fs.BoolVar(&c.lab.Speakers, "speakers", false, "also run FRR, the FRR agent and the speaker on every node")
	nodes := fs.String("nodes", "process", "node mode: process (ironlb's processes in the node namespaces) or real (containerd, kubelet and kube-proxy per node; ironlb installed by helm)")
	binDir := filepath.Dir(self)
	fs.StringVar(&c.lab.NodeBinDir, "node-bin", filepath.Join(binDir, "node"), "with --nodes real: folder with kubelet, kube-proxy, kube-scheduler, kube-controller-manager and kubectl (hack/build-node-binaries.sh)")
	fs.StringVar(&c.lab.ImageDir, "images", filepath.Join(binDir, "images"), "with --nodes real: folder of the image tarballs (hack/build-node-images.sh)")
	fs.StringVar(&c.lab.HelmBinary, "helm", filepath.Join(binDir, "helm"), "with --nodes real: the helm binary")
	fs.StringVar(&c.lab.ChartDir, "chart", "charts/ironlb", "with --nodes real: the chart installed")
	fs.StringVar(&c.lab.IronlbTag, "ironlb-tag", lab.DefaultIronlbTag, "with --nodes real: tag of the ironlb image (ImageDir/ironlb-TAG.tar)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	switch *nodes {
	case "process":
	case "real":
		c.lab.RealNodes = true
	default:
		return c, &exitError{code: 2, err: fmt.Errorf("-nodes: %q is neither process nor real", *nodes)}
	}
	if fs.NArg() > 0 {
		return c, &exitError{code: 2, err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, &exitError{code: 2, err: fmt.Errorf("-log-level: %w", err)}
	}
	for _, m := range strings.Split(*manifests, ",") {
		if m = strings.TrimSpace(m); m != "" {
			c.lab.Manifests = append(c.lab.Manifests, m)
		}
	}
	return c, nil
}

func runLabUp(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding own binary: %w", err)
	}
	c, err := parseLabUpFlags(args, stderr, self)
	if err != nil {
		return err
	}
	c.lab.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))
	l, err := lab.Up(ctx, c.lab)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "KUBECONFIG=%s\n", l.LocalKubeconfigPath())
	return nil
}

func runLabDown(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("lab down", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stateDir := fs.String("state-dir", lab.DefaultStateDir, "the lab's state folder, as given to lab up")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &exitError{code: 2, err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	return lab.Teardown(ctx, lab.Config{StateDir: *stateDir, Log: log})
}

// runLabKubeProxy is the kube-proxy stand-in, run by the lab inside a
// node's namespace.
func runLabKubeProxy(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("lab kube-proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	node := fs.String("node", "", "this node's name")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file")
	link := fs.String("link", lab.KubeIPVSLink, "dummy interface for the Service IPs")
	httpAddr := fs.String("http", fmt.Sprintf(":%d", lab.ServicePort), "HTTP listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *node == "" || fs.NArg() > 0 {
		return &exitError{code: 2, err: errors.New("usage: ironlb lab kube-proxy --node NAME --kubeconfig FILE")}
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	restCfg, err := restConfig(*kubeconfig)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return fmt.Errorf("creating clientset: %w", err)
	}
	table, err := kubeproxy.OpenLink(nil, *link)
	if err != nil {
		return err
	}
	p, err := kubeproxy.New(kubeproxy.Config{Node: *node, HTTPAddr: *httpAddr, Client: cs, Log: log}, table)
	if err != nil {
		return err
	}
	log.Info("kube-proxy starting", "node", *node, "iface", *link)
	return p.Run(ctx)
}

// runLabFRR keeps a private FRR running in a namespace until it is told
// to stop, so that FRR outlives `ironlb lab up`.
func runLabFRR(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("lab frr", flag.ContinueOnError)
	fs.SetOutput(stderr)
	netns := fs.String("netns", "", "network namespace; also the pathspace")
	config := fs.String("config", "", "initial frr.conf (optional)")
	dir := fs.String("dir", "", "folder for the daemons' logs")
	daemons := fs.String("daemons", strings.Join(frrproc.DefaultDaemons(), ","), "comma-separated daemons")
	respawn := fs.Bool("respawn", false, "start a daemon again when it exits, as watchfrr does")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *netns == "" || fs.NArg() > 0 {
		return &exitError{code: 2, err: errors.New("usage: ironlb lab frr --netns NAME [--config FILE] [--dir DIR]")}
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	var initial []byte
	if *config != "" {
		var err error
		if initial, err = os.ReadFile(*config); err != nil {
			return fmt.Errorf("reading frr config: %w", err)
		}
	}
	if *dir != "" {
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			return fmt.Errorf("making frr dir: %w", err)
		}
	}
	f, err := frrproc.Start(ctx, frrproc.Config{
		Name:          *netns,
		Netns:         *netns,
		Daemons:       strings.Split(*daemons, ","),
		InitialConfig: initial,
		Dir:           *dir,
		Log:           log,
		Respawn:       *respawn,
	})
	if err != nil {
		return err
	}
	<-ctx.Done()
	return f.Stop()
}

// runLabForward forwards connections on an inherited listener into a
// namespace: the root namespace's way to the lab's API server.
func runLabForward(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("lab forward", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fd := fs.Int("fd", 3, "inherited listening socket")
	netns := fs.String("netns", "", "namespace to dial in")
	to := fs.String("to", "", "address to dial")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" || fs.NArg() > 0 {
		return &exitError{code: 2, err: errors.New("usage: ironlb lab forward --fd N --netns NAME --to HOST:PORT")}
	}
	f := os.NewFile(uintptr(*fd), "listener")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("using inherited listener: %w", err)
	}
	return lab.Forward(ctx, ln, *netns, *to)
}
