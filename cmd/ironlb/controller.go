package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/controller"
	"github.com/ironlb/ironlb/controller/plan"
	"github.com/ironlb/ironlb/internal/certs"
	"github.com/ironlb/ironlb/internal/k8sconfig"
	"github.com/ironlb/ironlb/internal/leader"
	"github.com/ironlb/ironlb/internal/scheme"
)

// controllerConfig is everything `ironlb controller` is told by its flags.
type controllerConfig struct {
	kubeconfig  string
	namespace   string
	podName     string
	lbClass     string
	metricsAddr string
	metrics     metricsFlags
	healthAddr  string
	pprofAddr   string
	webhookPort int
	certDir     string
	leaderElect bool
	// election is the leader election's timing (with leaderElect).
	election leader.Config
	logLevel slog.Level
	// manageCerts makes the controller issue and rotate the webhook's
	// certificate itself (internal/certs) instead of reading one that
	// cert-manager put into certDir.
	manageCerts       bool
	certSecret        string
	webhookService    string
	webhookConfigName string
	// conversionCRD is the CRD whose conversion webhook the controller
	// points at its webhook Service: with the CA it issues (manageCerts),
	// or with the ca.crt in certDir (cert-manager).
	conversionCRD string
	// webhookHTTP2 lets the webhook server offer HTTP/2.
	webhookHTTP2 bool
}

// defaultNamespace is ironlb's namespace when no flag says: the pod's
// ($POD_NAMESPACE), else MetalLB's usual one.
func defaultNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return plan.DefaultNamespace
}

func parseControllerFlags(args []string, stderr io.Writer) (controllerConfig, error) {
	c := controllerConfig{}
	fs := flag.NewFlagSet("controller", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster, then $KUBECONFIG)")
	fs.StringVar(&c.namespace, "namespace", defaultNamespace(), "namespace of ironlb and its metallb.io objects (default: $POD_NAMESPACE or metallb-system)")
	fs.StringVar(&c.podName, "pod-name", os.Getenv("POD_NAME"), "the controller's own Pod, made owner of its ConfigurationState (default: $POD_NAME; empty: no owner)")
	fs.StringVar(&c.lbClass, "lb-class", "", "serve only Services of this spec.loadBalancerClass (default: only Services without a class)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", ":7472", "address of the Prometheus metrics endpoint (0 disables)")
	c.metrics.register(fs)
	fs.StringVar(&c.healthAddr, "health-addr", ":7473", "address of the /healthz and /readyz endpoints (0 disables)")
	fs.StringVar(&c.pprofAddr, "pprof-addr", "", "address of Go's /debug/pprof endpoints, for profiling (empty disables)")
	fs.IntVar(&c.webhookPort, "webhook-port", 9443, "port of the validating webhook (0 disables)")
	fs.BoolVar(&c.webhookHTTP2, "webhook-http2", false, "serve the webhook over HTTP/2 too (off, as in MetalLB: HTTP/1.1 only)")
	fs.StringVar(&c.certDir, "cert-dir", "/tmp/k8s-webhook-server/serving-certs", "folder with tls.crt and tls.key for the webhook")
	fs.BoolVar(&c.leaderElect, "leader-elect", false, "run leader election, for more than one replica")
	fs.DurationVar(&c.election.LeaseDuration, "leader-elect-lease-duration", leader.DefaultLeaseDuration, "with -leader-elect: how long the other replicas wait after the leader's last renewal before they take over (whole seconds)")
	fs.DurationVar(&c.election.RenewDeadline, "leader-elect-renew-deadline", leader.DefaultRenewDeadline, "with -leader-elect: how long the leader tries to renew before it gives up; it writes nothing once this long has passed since its last renewal")
	fs.DurationVar(&c.election.RetryPeriod, "leader-elect-retry-period", leader.DefaultRetryPeriod, "with -leader-elect: time between two tries to acquire or renew the lease")
	fs.BoolVar(&c.manageCerts, "manage-certs", true, "issue and rotate the webhook's certificate (false: cert-manager or another tool writes it into -cert-dir)")
	fs.StringVar(&c.certSecret, "cert-secret", "ironlb-webhook-cert", "secret in -namespace holding the webhook's CA and certificate (with -manage-certs)")
	fs.StringVar(&c.webhookService, "webhook-service", "ironlb-webhook", "service in -namespace in front of the webhook; the certificate is for its DNS names (with -manage-certs) and -conversion-crd calls it")
	fs.StringVar(&c.webhookConfigName, "webhook-config-name", "ironlb-webhook", "ValidatingWebhookConfiguration that gets the CA bundle, empty for none (with -manage-certs)")
	fs.StringVar(&c.conversionCRD, "conversion-crd", "bgppeers.metallb.io", "CRD whose spec.conversion is pointed at this webhook (-webhook-service, path "+controller.ConversionPath+", CA bundle: issued with -manage-certs, else ca.crt in -cert-dir), empty for none")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, &exitError{code: 2, err: fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, &exitError{code: 2, err: fmt.Errorf("-log-level: %w", err)}
	}
	if c.webhookPort < 0 || c.webhookPort > 65535 {
		return c, &exitError{code: 2, err: fmt.Errorf("-webhook-port %d is not a port", c.webhookPort)}
	}
	if c.leaderElect {
		if err := c.election.Validate(); err != nil {
			return c, &exitError{code: 2, err: err}
		}
	}
	if strings.TrimSpace(c.namespace) == "" {
		return c, &exitError{code: 2, err: errors.New("-namespace must not be empty")}
	}
	if c.webhookPort > 0 && c.manageCerts && (c.certSecret == "" || c.webhookService == "") {
		return c, &exitError{code: 2, err: errors.New("-manage-certs needs -cert-secret and -webhook-service")}
	}
	if c.webhookPort > 0 && c.conversionCRD != "" && c.webhookService == "" {
		return c, &exitError{code: 2, err: errors.New("-conversion-crd needs -webhook-service")}
	}
	return c, nil
}

func runController(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
	c, err := parseControllerFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: c.logLevel}))
	restCfg, err := restConfig(c.kubeconfig)
	if err != nil {
		return err
	}
	scheme, err := scheme.New()
	if err != nil {
		return err
	}
	opts := ctrl.Options{
		Scheme:                  scheme,
		Logger:                  logr.FromSlogHandler(leader.QuietCreateRace(log.Handler())),
		Metrics:                 c.metrics.options(c.metricsAddr),
		HealthProbeBindAddress:  c.healthAddr,
		PprofBindAddress:        c.pprofAddr,
		LeaderElection:          c.leaderElect,
		LeaderElectionID:        leaderElectionID,
		LeaderElectionNamespace: c.namespace,
		Cache:                   namespacedCache(c.namespace),
	}
	var (
		lease    controller.Lease
		election *leader.Election
	)
	if c.leaderElect {
		el, err := leader.NewElection(restCfg, c.election, c.namespace, leaderElectionID, c.podName, log.With("component", "leader"))
		if err != nil {
			return err
		}
		election = el
		opts.LeaderElectionResourceLockInterface = el.Lock
		opts.LeaseDuration, opts.RenewDeadline, opts.RetryPeriod = &c.election.LeaseDuration, &c.election.RenewDeadline, &c.election.RetryPeriod
		// A graceful stop hands over at once: the manager releases the
		// Lease after its reconcilers stopped, and the process exits.
		opts.LeaderElectionReleaseOnCancel = true
		lease = el.Guard
		// A standby keeps the controllers' caches filled, so that it
		// allocates as soon as it takes the Lease over instead of listing
		// every Service first.
		opts.Controller.EnableWarmup = ptr.To(true)
	}
	if c.webhookPort > 0 {
		opts.WebhookServer = webhook.NewServer(webhook.Options{Port: c.webhookPort, CertDir: c.certDir, TLSOpts: webhookTLSOptions(c.webhookHTTP2)})
	}
	mgr, err := ctrl.NewManager(restCfg, opts)
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	owner, err := ownPod(ctx, mgr.GetAPIReader(), c.namespace, c.podName)
	if err != nil {
		return err
	}
	err = controller.Setup(mgr, controller.Config{
		Owner:      owner,
		Namespace:  c.namespace,
		LBClass:    c.lbClass,
		Webhook:    c.webhookPort > 0,
		Registerer: ctrlmetrics.Registry,
		Log:        log,
		Lease:      lease,
	})
	if err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("adding ready check: %w", err)
	}
	if c.webhookPort > 0 {
		if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
			return fmt.Errorf("adding webhook ready check: %w", err)
		}
	}
	var cm *certs.Manager
	if c.webhookPort > 0 && c.manageCerts {
		// Direct reads: replicas share the Secret, and the cache only
		// starts with the manager, which waits for the certificate.
		direct, err := client.New(restCfg, client.Options{Scheme: scheme})
		if err != nil {
			return fmt.Errorf("creating client: %w", err)
		}
		cm, err = certs.New(certs.Config{
			Kube:              direct,
			Namespace:         c.namespace,
			SecretName:        c.certSecret,
			ServiceName:       c.webhookService,
			WebhookConfigName: c.webhookConfigName,
			ConversionCRD:     c.conversionCRD,
			ConversionPath:    controller.ConversionPath,
			CertDir:           c.certDir,
			Log:               log.With("component", "certs"),
		})
		if err != nil {
			return err
		}
	}
	var conv *certs.ConversionSync
	if c.webhookPort > 0 && !c.manageCerts && c.conversionCRD != "" {
		direct, err := client.New(restCfg, client.Options{Scheme: scheme})
		if err != nil {
			return fmt.Errorf("creating client: %w", err)
		}
		conv, err = certs.NewConversionSync(certs.ConversionConfig{
			Kube:        direct,
			Namespace:   c.namespace,
			ServiceName: c.webhookService,
			CRD:         c.conversionCRD,
			Path:        controller.ConversionPath,
			CAFile:      filepath.Join(c.certDir, "ca.crt"),
			Log:         log.With("component", "certs"),
		})
		if err != nil {
			return err
		}
	}
	log.Info("controller starting", "namespace", c.namespace, "lbClass", c.lbClass, "leaderElect", c.leaderElect, "leaseDuration", c.election.LeaseDuration, "renewDeadline", c.election.RenewDeadline, "retryPeriod", c.election.RetryPeriod, "manageCerts", cm != nil)
	g, gctx := errgroup.WithContext(ctx)
	if conv != nil {
		g.Go(func() error { return conv.Run(gctx) })
	}
	if election != nil {
		g.Go(func() error { return election.Follower.Run(gctx) })
	}
	if cm != nil {
		g.Go(func() error { return cm.Run(gctx) })
		// The webhook server loads its certificate when it starts.
		select {
		case <-cm.Ready():
		case <-gctx.Done():
			return g.Wait()
		}
	}
	g.Go(func() error {
		if err := mgr.Start(gctx); err != nil {
			return fmt.Errorf("running manager: %w", err)
		}
		return nil
	})
	return g.Wait()
}

// leaderElectionID names the controller's leader election Lease.
const leaderElectionID = "ironlb-controller.metallb.io"

// namespacedCache limits the cache to namespace for the kinds ironlb
// reads only there, so that the chart's RBAC grants them in that namespace
// alone (a cluster-wide watch of Secrets would need a ClusterRole).
// Services, EndpointSlices, Nodes and Namespaces stay cluster-wide. The
// controller and the speaker both use it.
func namespacedCache(namespace string) cache.Options {
	only := cache.ByObject{Namespaces: map[string]cache.Config{namespace: {}}}
	by := map[client.Object]cache.ByObject{}
	for _, o := range []client.Object{
		&corev1.Secret{},
		&v1beta1.IPAddressPool{}, &v1beta2.BGPPeer{}, &v1beta1.BGPAdvertisement{}, &v1beta1.L2Advertisement{},
		&v1beta1.BFDProfile{}, &v1beta1.Community{}, &v1beta1.ConfigurationState{},
		&v1beta1.ServiceBGPStatus{}, &v1beta1.ServiceL2Status{}, &v1beta1.SpeakerStatus{},
	} {
		by[o] = only
	}
	// Nothing reads managedFields, and they are a good part of each
	// cached object: without them, a cache of 10,000 Services and their
	// EndpointSlices is smaller and quicker to scan for the collector.
	return cache.Options{ByObject: by, DefaultTransform: cache.TransformStripManagedFields()}
}

// ownPod is the owner reference to the component's own Pod, which it
// reads for its UID; nil when no pod name is given (outside a cluster).
func ownPod(ctx context.Context, r client.Reader, namespace, name string) (*metav1.OwnerReference, error) {
	if name == "" {
		return nil, nil
	}
	return k8sconfig.PodOwner(ctx, r, namespace, name)
}

// The client rate limits toward the API server.
const (
	kubeAPIQPS   = 50
	kubeAPIBurst = 100
)

// restConfig loads the API server's address and credentials: the given
// kubeconfig, else in-cluster, else $KUBECONFIG and ~/.kube/config.
func restConfig(kubeconfig string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	// client-go's default of 5 requests a second would make writing the
	// status of thousands of Services take minutes.
	cfg.QPS, cfg.Burst = kubeAPIQPS, kubeAPIBurst
	return cfg, nil
}
