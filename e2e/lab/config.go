package lab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// DefaultStateDir is where `ironlb lab up` keeps the lab's files.
const DefaultStateDir = "/tmp/ironlb-lab"

// Config is everything Up needs. Paths may be relative; Up makes them
// absolute once.
type Config struct {
	// StateDir holds the pid files, logs, certificates, etcd's data and
	// the kubeconfig. It must be missing or empty. Default DefaultStateDir.
	StateDir string
	// Binary is the ironlb binary the lab runs: the controller, the
	// kube-proxy stand-in, the FRR supervisor and, with Speakers, the
	// speaker. Required.
	Binary string
	// KubeBinDir holds etcd and kube-apiserver (bin/k8s). Required.
	KubeBinDir string
	// CRDDir holds the CRD manifests (charts/ironlb/crds). Required.
	CRDDir string
	// Manifests are files or folders of YAML applied once the controller
	// may start, in order; a folder's *.yaml files in name order.
	Manifests []string
	// Speakers starts, on every node, FRR, ironlb's FRR agent and the
	// speaker (see nodeProcesses).
	Speakers bool
	// SpeakerArgs are more flags for every speaker, such as
	// --l2-ownership=lease.
	SpeakerArgs []string
	// DebugLogs runs the controller, the FRR agents and the speakers at
	// log level debug, for tests that read everything they log.
	DebugLogs bool
	// BeforeWorkloads, when set, runs once the manifests are applied and
	// before the controller and the nodes' processes start: a test puts
	// there what must exist before ironlb's controller first runs, such
	// as Services whose status another controller (MetalLB) wrote.
	BeforeWorkloads func(ctx context.Context, l *Lab) error
	// LocalAPIAddr is where the root namespace reaches the API server (a
	// forwarder into ControlPlaneNetns). Default "127.0.0.1:0", a free
	// port; LocalKubeconfigPath names it.
	LocalAPIAddr string
	// ReadyTimeout bounds the wait for each process to serve. Default 60s
	// (180s with RealNodes).
	ReadyTimeout time.Duration

	// RealNodes runs real nodes instead of the node processes (see
	// realnodes.go): containerd, a kubelet and kube-proxy per node, the
	// scheduler and the controller-manager, and ironlb installed by Helm
	// from ChartDir with the images in ImageDir. Speakers must be off.
	RealNodes bool
	// NodeBinDir holds kubelet, kube-proxy, kube-scheduler,
	// kube-controller-manager and kubectl (hack/build-node-binaries.sh).
	NodeBinDir string
	// ImageDir holds pause.tar, frr.tar and ironlb-TAG.tar
	// (hack/build-node-images.sh).
	ImageDir string
	// HelmBinary is helm (hack/build-helm.sh).
	HelmBinary string
	// ChartDir is charts/ironlb.
	ChartDir string
	// IronlbTag is the tag of the ironlb image installed. Default
	// DefaultIronlbTag.
	IronlbTag string
	// Log receives progress messages. Default: discard.
	Log *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.LocalAPIAddr == "" {
		c.LocalAPIAddr = "127.0.0.1:0"
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = 60 * time.Second
		if c.RealNodes {
			c.ReadyTimeout = 180 * time.Second
		}
	}
	if c.IronlbTag == "" {
		c.IronlbTag = DefaultIronlbTag
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	for _, p := range []*string{&c.StateDir, &c.Binary, &c.KubeBinDir, &c.CRDDir, &c.NodeBinDir, &c.ImageDir, &c.HelmBinary, &c.ChartDir} {
		if *p == "" {
			continue
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return c, fmt.Errorf("lab config: %w", err)
		}
		*p = abs
	}
	c.Manifests = append([]string(nil), c.Manifests...)
	for i, m := range c.Manifests {
		abs, err := filepath.Abs(m)
		if err != nil {
			return c, fmt.Errorf("lab config: %w", err)
		}
		c.Manifests[i] = abs
	}
	return c, nil
}

// validate checks the files Up needs before anything is made.
func (c Config) validate() error {
	var errs []error
	need := func(field, path string) {
		if path == "" {
			errs = append(errs, fmt.Errorf("%s: required", field))
			return
		}
		if _, err := os.Stat(path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", field, err))
		}
	}
	need("Binary", c.Binary)
	need("CRDDir", c.CRDDir)
	need("KubeBinDir", c.KubeBinDir)
	if c.KubeBinDir != "" {
		need("KubeBinDir etcd (run `make tools`)", filepath.Join(c.KubeBinDir, "etcd"))
		need("KubeBinDir kube-apiserver (run `make tools`)", filepath.Join(c.KubeBinDir, "kube-apiserver"))
	}
	for i, m := range c.Manifests {
		need(fmt.Sprintf("Manifests[%d]", i), m)
	}
	if c.RealNodes {
		errs = append(errs, c.validateRealNodes(need)...)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("lab config: %w", err)
	}
	return nil
}

// Files and folders inside the state folder.
const (
	markerFile      = ".ironlb-lab" // says the folder is a lab's, for Teardown
	pidsDir         = "pids"
	logsDir         = "logs"
	pkiDir          = "pki"
	etcdDir         = "etcd"
	frrDir          = "frr"
	sockDir         = "run"
	kubeconfig      = "kubeconfig"
	localKubeconfig = "kubeconfig.local"
)

func (c Config) path(elem ...string) string {
	return filepath.Join(append([]string{c.StateDir}, elem...)...)
}
