// Package testenv starts a real kube-apiserver and etcd (built by hack/
// into bin/k8s) with ironlb's CRDs installed, for integration tests.
package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ironlb/ironlb/internal/scheme"
)

// Env is a running API server with the CRDs installed.
type Env struct {
	Config *rest.Config
	Client client.Client
	Scheme *runtime.Scheme
	env    *envtest.Environment
}

// RepoRoot returns the repository's top folder.
func RepoRoot() string {
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Options tune Start.
type Options struct {
	// Webhooks, when set, are installed in the API server and served by the
	// test (see envtest.WebhookInstallOptions).
	Webhooks *envtest.WebhookInstallOptions
	// ServiceCIDRs, when set, replaces the API server's cluster IP range
	// (comma-separated, one per family for a dual-stack cluster).
	ServiceCIDRs string
	// NoWatchCache runs the API server without its watch cache
	// (--watch-cache=false): every list is served from etcd, in pages when
	// the client asks for a limit, as client-go's informers do.
	NoWatchCache bool
}

// Start runs an API server for the test and stops it at cleanup. It fails
// the test when the binaries are missing: `make test` builds them.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	e, err := start(opts)
	if err != nil {
		t.Fatalf("starting test API server: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Errorf("stopping test API server: %v", err)
		}
	})
	return e
}

// quietEnvtest silences envtest's own logging, which goes through
// controller-runtime's process-wide logger.
var quietEnvtest sync.Once

func start(opts Options) (*Env, error) {
	quietEnvtest.Do(func() { ctrllog.SetLogger(logr.Discard()) })
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join(RepoRoot(), "bin", "k8s")
	}
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, b)); err != nil {
			return nil, fmt.Errorf("missing %s in %s (run `make tools` or `make test`): %w", b, assets, err)
		}
	}
	s, err := scheme.New()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(RepoRoot(), "charts", "ironlb", "crds")},
		ErrorIfCRDPathMissing: true,
		Scheme:                s,
	}
	if opts.Webhooks != nil {
		env.WebhookInstallOptions = *opts.Webhooks
	}
	if opts.ServiceCIDRs != "" {
		env.ControlPlane.GetAPIServer().Configure().Set("service-cluster-ip-range", opts.ServiceCIDRs)
	}
	if opts.NoWatchCache {
		env.ControlPlane.GetAPIServer().Configure().Set("watch-cache", "false")
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting envtest: %w", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("creating client: %w", err)
	}
	return &Env{Config: cfg, Client: c, Scheme: s, env: env}, nil
}

// Stop stops the API server and etcd.
func (e *Env) Stop() error {
	if err := e.env.Stop(); err != nil {
		return fmt.Errorf("stopping envtest: %w", err)
	}
	return nil
}

// WebhookOptions returns the envtest webhook settings in use, with the
// serving host, port and certificate folder filled in after Start.
func (e *Env) WebhookOptions() *envtest.WebhookInstallOptions {
	return &e.env.WebhookInstallOptions
}

// GVK is a shorthand for metallb.io kinds in tests.
func GVK(version, kind string) schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: "metallb.io", Version: version, Kind: kind}
}
