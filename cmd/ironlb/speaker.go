package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	frrk8sv1beta1 "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/internal/scheme"
	"github.com/ironlb/ironlb/l2/announcer"
	"github.com/ironlb/ironlb/l2/lease"
	"github.com/ironlb/ironlb/l2/members"
	"github.com/ironlb/ironlb/speaker"
	"github.com/ironlb/ironlb/state"
)

// speakerConfig is everything `ironlb speaker` is told by its flags.
type speakerConfig struct {
	kubeconfig      string
	nodeName        string
	namespace       string
	podName         string
	lbClass         string
	frrSocket       string
	routerID        netip.Addr
	drainDelay      time.Duration
	readyWait       time.Duration
	drainOnStop     bool
	nodeOptions     state.NodeOptions
	sessionInterval time.Duration
	metricsAddr     string
	metrics         metricsFlags
	healthAddr      string
	pprofAddr       string
	logLevel        slog.Level
	l2              l2Flags
	// alwaysBlock is --always-block.
	alwaysBlock []netip.Prefix
	bgp         bgpFlags
}

// l2Flags are the Layer 2 flags of `ironlb speaker`.
type l2Flags struct {
	enabled       bool
	handoverGrace time.Duration
	// gratuitous is --gratuitous-arp-interval.
	gratuitous gratuitousInterval
	// excludeNames are the expressions of --l2-exclude-interface and of
	// the file of --l2-exclude-config, compiled.
	excludeNames []*regexp.Regexp
	// memberlist is off when bind is "off".
	bind     string
	port     int
	join     []string
	secret   string
	insecure bool
	profile  members.Profile
	// pods selects the speaker pods whose IPs are joined; nil joins
	// the Nodes' InternalIPs.
	pods labels.Selector
	// ownership is --l2-ownership; lease its timing.
	ownership speaker.Ownership
	lease     lease.Timing
}

func (f *l2Flags) register(fs *flag.FlagSet) (finish func() []error) {
	fs.BoolVar(&f.enabled, "l2", true, "answer ARP and NDP for the Layer 2 Service IPs this node wins (needs CAP_NET_RAW)")
	fs.DurationVar(&f.handoverGrace, "l2-handover-grace", announcer.DefaultHandoverGrace, "how long a draining node keeps answering for the IPs it hands over")
	fs.Var(&f.gratuitous, "gratuitous-arp-interval", "send a gratuitous ARP / unsolicited NA for every IP this node owns at this interval, a duration or a number of seconds as in MetalLB (0: only when it takes the IP over)")
	var excludes []string
	fs.Func("l2-exclude-interface", "regular expression (unanchored) of interface names never used for Layer 2, even when an L2Advertisement names them, as MetalLB's announcedInterfacesToExclude; repeat for more", func(s string) error {
		excludes = append(excludes, s)
		return nil
	})
	excludeFile := fs.String("l2-exclude-config", "", "MetalLB's excludel2.yaml (the key of its metallb-excludel2 ConfigMap, mounted): its announcedInterfacesToExclude add to -l2-exclude-interface; a missing file excludes nothing")
	fs.StringVar(&f.bind, "memberlist-bind", "", `memberlist address (default: the node's InternalIP); "off" disables memberlist, and the nodes' Ready condition says which speakers live`)
	fs.IntVar(&f.port, "memberlist-port", members.DefaultPort, "memberlist port (UDP and TCP), also used to join the other nodes")
	join := fs.String("memberlist-join", "", "extra memberlist members to join, host:port, comma-separated (the other speakers are joined anyway: see -memberlist-pods)")
	pods := fs.String("memberlist-pods", "", "label selector of the speaker pods in the namespace: memberlist joins their IPs (read when it starts); empty joins every other Node's InternalIP")
	fs.StringVar(&f.secret, "memberlist-secret", "", `Secret in the namespace whose "secretkey" encrypts memberlist (required unless -memberlist-insecure)`)
	fs.BoolVar(&f.insecure, "memberlist-insecure", false, "run memberlist without encryption: anyone who reaches the port can join and fake failures")
	profile := fs.String("memberlist-profile", "fast-lan", "memberlist failure detection: fast-lan (about 0.5s) or lan (5s or more, fewer false alarms)")
	ownership := fs.String("l2-ownership", string(speaker.OwnershipMemberlist), "how a node holds the Layer 2 IPs it wins: memberlist (answer at once; both halves of a partitioned LAN answer) or lease (answer only while holding the IP's Kubernetes Lease: never two nodes at once, slower failover, API writes every -l2-lease-retry-period per IP)")
	fs.DurationVar(&f.lease.Duration, "l2-lease-duration", lease.DefaultDuration, "with -l2-ownership=lease: how long a Lease not renewed stays held, so about the failover time")
	fs.DurationVar(&f.lease.RenewDeadline, "l2-lease-renew-deadline", lease.DefaultRenewDeadline, "with -l2-ownership=lease: how long the holder answers after its last successful renewal (shorter than -l2-lease-duration)")
	fs.DurationVar(&f.lease.RetryPeriod, "l2-lease-retry-period", lease.DefaultRetryPeriod, "with -l2-ownership=lease: how often the holder renews a Lease (one API write per IP) and a waiting node reads it")
	return func() []error {
		var errs []error
		switch o := speaker.Ownership(*ownership); o {
		case speaker.OwnershipMemberlist, speaker.OwnershipLease:
			f.ownership = o
			if o == speaker.OwnershipLease {
				if err := f.lease.Validate(); err != nil {
					errs = append(errs, fmt.Errorf("-l2-lease-*: %w", err))
				}
			}
		default:
			errs = append(errs, fmt.Errorf("-l2-ownership %q is neither memberlist nor lease", *ownership))
		}
		for _, j := range strings.Split(*join, ",") {
			if j = strings.TrimSpace(j); j != "" {
				f.join = append(f.join, j)
			}
		}
		if sel := strings.TrimSpace(*pods); sel != "" {
			s, err := labels.Parse(sel)
			if err != nil {
				errs = append(errs, fmt.Errorf("-memberlist-pods %q is not a label selector: %w", sel, err))
			}
			f.pods = s
		}
		p, err := members.ProfileNamed(*profile)
		if err != nil {
			errs = append(errs, fmt.Errorf("-memberlist-profile: %w", err))
		}
		f.profile = p
		if f.bind != "" && f.bind != "off" {
			if _, err := netip.ParseAddr(f.bind); err != nil {
				errs = append(errs, fmt.Errorf(`-memberlist-bind %q is neither an IP address nor "off"`, f.bind))
			}
		}
		if f.enabled && f.bind != "off" && f.secret == "" && !f.insecure {
			errs = append(errs, errors.New("-memberlist-secret must name the Secret with the memberlist key (or pass -memberlist-insecure, or -memberlist-bind=off)"))
		}
		if f.handoverGrace < 0 {
			errs = append(errs, errors.New("-l2-handover-grace must not be negative"))
		}
		if *excludeFile != "" {
			more, err := readExcludeL2(*excludeFile)
			if err != nil {
				errs = append(errs, fmt.Errorf("-l2-exclude-config: %w", err))
			}
			excludes = append(excludes, more...)
		}
		res, err := compileExcludes("-l2-exclude-interface", excludes)
		if err != nil {
			errs = append(errs, err)
		}
		f.excludeNames = res
		return errs
	}
}

// config returns the speaker's L2Config; nil when Layer 2 is off.
func (f *l2Flags) config(log *slog.Logger) *speaker.L2Config {
	if !f.enabled {
		return nil
	}
	c := &speaker.L2Config{
		Opener: announcer.Sockets{Logger: log}, HandoverGrace: f.handoverGrace,
		GratuitousInterval: time.Duration(f.gratuitous), ExcludeNames: f.excludeNames,
		Ownership: f.ownership,
	}
	if f.ownership == speaker.OwnershipLease {
		c.Lease = f.lease
	}
	if f.bind != "off" {
		bind, _ := netip.ParseAddr(f.bind) // checked; zero for "": the node's IP
		c.Memberlist = &speaker.MemberlistConfig{
			BindAddr: bind, BindPort: f.port, Join: f.join, Pods: f.pods,
			SecretName: f.secret, Insecure: f.insecure, Profile: f.profile,
		}
	}
	return c
}

func parseSpeakerFlags(args []string, stderr io.Writer) (speakerConfig, error) {
	c := speakerConfig{}
	fs := flag.NewFlagSet("speaker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster, then $KUBECONFIG)")
	fs.StringVar(&c.nodeName, "node-name", os.Getenv("NODE_NAME"), "the node this speaker runs on (default: $NODE_NAME)")
	fs.StringVar(&c.namespace, "namespace", defaultNamespace(), "namespace of ironlb and its metallb.io objects (default: $POD_NAMESPACE or metallb-system)")
	fs.StringVar(&c.podName, "pod-name", os.Getenv("POD_NAME"), "the speaker's own Pod, made owner of the node's ConfigurationState (default: $POD_NAME; empty: no owner)")
	fs.StringVar(&c.lbClass, "lb-class", "", "announce only Services of this spec.loadBalancerClass, as the controller's --lb-class (default: only Services without a class)")
	fs.StringVar(&c.frrSocket, "frr-agent-socket", "/var/run/ironlb/frr-agent.sock", "unix socket of the frr-agent in the FRR container (empty disables BGP)")
	routerID := fs.String("router-id", "", "BGP router-id when no BGPPeer sets one (an IPv4 address; default: FRR chooses)")
	fs.DurationVar(&c.drainDelay, "drain-delay", 15*time.Second, "how long a draining node announces with GRACEFUL_SHUTDOWN before it withdraws")
	fs.BoolVar(&c.drainOnStop, "drain-on-stop", true, "on SIGTERM, move traffic away and withdraw before exiting")
	fs.BoolVar(&c.nodeOptions.IgnoreExcludeLabel, "ignore-exclude-lb", false, "announce from nodes labelled node.kubernetes.io/exclude-from-external-load-balancers too (as MetalLB's flag; give it to every speaker)")
	fs.BoolVar(&c.nodeOptions.DrainOnCordon, "drain-on-cordon", false, "drain a cordoned node as for the exclude label: GRACEFUL_SHUTDOWN, then withdraw; hand its Layer 2 IPs over (default: a cordon changes nothing, as in MetalLB; give it to every speaker)")
	fs.DurationVar(&c.sessionInterval, "session-interval", 10*time.Second, "how often BGP session state is read from FRR")
	fs.DurationVar(&c.readyWait, "ready-wait", speaker.DefaultReadyWait, "readiness waits until FRR runs the applied config with every BGP session established, for this long at most (a rolling update then takes the next node only once this one announces); 0: ready at once")
	fs.StringVar(&c.metricsAddr, "metrics-addr", ":7474", "address of the Prometheus metrics endpoint (0 disables)")
	c.metrics.register(fs)
	fs.StringVar(&c.healthAddr, "health-addr", ":7475", "address of the /healthz and /readyz endpoints (0 disables)")
	fs.StringVar(&c.pprofAddr, "pprof-addr", "", "address of Go's /debug/pprof endpoints, for profiling (empty disables)")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	alwaysBlock := fs.String("always-block", "", "CIDRs, comma-separated, never accepted from a BGP neighbor whatever the FRRConfigurations allow, as frr-k8s's flag (the Service, ClusterIP and pod ranges)")
	finishL2 := c.l2.register(fs)
	finishBGP := c.bgp.register(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	errs := append(finishL2(), finishBGP()...)
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if c.nodeName == "" {
		errs = append(errs, errors.New("-node-name (or $NODE_NAME) must be set"))
	}
	if *routerID != "" {
		ip, err := netip.ParseAddr(*routerID)
		if err != nil || !ip.Is4() {
			errs = append(errs, fmt.Errorf("-router-id %q is not an IPv4 address", *routerID))
		}
		c.routerID = ip
	}
	if p, err := speaker.ParseAlwaysBlock(*alwaysBlock); err != nil {
		errs = append(errs, fmt.Errorf("-always-block: %w", err))
	} else {
		c.alwaysBlock = p
	}
	if c.readyWait < 0 {
		errs = append(errs, errors.New("-ready-wait must not be negative"))
	}
	if c.drainDelay < 0 {
		errs = append(errs, errors.New("-drain-delay must not be negative"))
	}
	if c.sessionInterval <= 0 {
		errs = append(errs, errors.New("-session-interval must be positive"))
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		errs = append(errs, fmt.Errorf("-log-level: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return c, &exitError{code: 2, err: err}
	}
	return c, nil
}

func runSpeaker(ctx context.Context, args []string, _ io.Reader, _, stderr io.Writer) error {
	c, err := parseSpeakerFlags(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: c.logLevel})).With("node", c.nodeName)
	restCfg, err := restConfig(c.kubeconfig)
	if err != nil {
		return err
	}
	s, err := scheme.New()
	if err != nil {
		return err
	}
	cacheOpts := speakerCache(c.namespace, c.nodeName)
	c.bgp.cacheOwnFRRConfiguration(&cacheOpts, c.nodeName)
	mgr, err := ctrl.NewManager(restCfg, ctrl.Options{
		Scheme:                 s,
		Cache:                  cacheOpts,
		Logger:                 logr.FromSlogHandler(log.Handler()),
		Metrics:                c.metrics.options(c.metricsAddr),
		HealthProbeBindAddress: c.healthAddr,
		PprofBindAddress:       c.pprofAddr,
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}
	owner, err := ownPod(ctx, mgr.GetAPIReader(), c.namespace, c.podName)
	if err != nil {
		return err
	}
	cfg := speaker.Config{
		Owner:       owner,
		NodeName:    c.nodeName,
		Namespace:   c.namespace,
		LBClass:     c.lbClass,
		NodeOptions: c.nodeOptions,
		RouterID:    c.routerID,
		DrainDelay:  c.drainDelay,
		Registerer:  ctrlmetrics.Registry,
		Log:         log,
		L2:          c.l2.config(log),
	}
	if cfg.FRRK8s = c.bgp.frrk8s(); cfg.FRRK8s != nil {
		// frr-k8s runs FRR: no agent, no session polling of our own.
		log.Info("bgp through frr-k8s", "frrk8sNamespace", cfg.FRRK8s.Namespace, "frrConfiguration", speaker.FRRK8sConfigName(c.nodeName))
	} else if c.frrSocket != "" {
		client := agent.NewClient(c.frrSocket)
		cfg.FRR, cfg.Sessions, cfg.SessionInterval, cfg.ReadyWait = client, client, c.sessionInterval, c.readyWait
		cfg.NodeRouter = &speaker.NodeRouterConfig{AlwaysBlock: c.alwaysBlock, Running: client}
	}
	sp, err := speaker.Setup(mgr, cfg)
	if err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("adding health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("announcing", sp.ReadyCheck()); err != nil {
		return fmt.Errorf("adding ready check: %w", err)
	}
	log.Info("speaker starting", "namespace", c.namespace, "frrAgent", c.frrSocket, "layer2", c.l2.enabled, "memberlist", c.l2.bind != "off", "l2Ownership", c.l2.ownership,
		"ignoreExcludeLB", c.nodeOptions.IgnoreExcludeLabel, "drainOnCordon", c.nodeOptions.DrainOnCordon,
		"gratuitousARPInterval", time.Duration(c.l2.gratuitous), "l2ExcludedInterfaces", len(c.l2.excludeNames))
	if err := sp.Run(ctx, mgr, c.drainOnStop); err != nil {
		return fmt.Errorf("running speaker: %w", err)
	}
	return nil
}

// speakerCache is namespacedCache, except that it holds only the node's
// own ServiceBGPStatus objects: the speaker reads no other node's, and
// with 10,000 Services on three nodes the others' would be 20,000
// objects more in each speaker's cache, and two more watch events per
// new Service.
func speakerCache(namespace, node string) cache.Options {
	opts := namespacedCache(namespace)
	// The node router reads the FRRConfigurations of the namespace only.
	opts.ByObject[&frrk8sv1beta1.FRRConfiguration{}] = cache.ByObject{Namespaces: map[string]cache.Config{namespace: {}}}
	for o := range opts.ByObject {
		if _, ok := o.(*v1beta1.ServiceBGPStatus); ok {
			own := labels.SelectorFromSet(labels.Set{speaker.NodeLabel: node})
			opts.ByObject[o] = cache.ByObject{Namespaces: map[string]cache.Config{namespace: {LabelSelector: own}}}
		}
	}
	return opts
}
