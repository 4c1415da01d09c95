package speaker

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/frr/apply"
	"github.com/ironlb/ironlb/state"
)

// FRR gets a desired frr.conf into the node's FRR: the frr-agent client.
// Apply must not keep desired once it returns: the speaker renders every
// config into the same buffer.
type FRR interface {
	Apply(ctx context.Context, desired []byte) (apply.Result, error)
}

// Config is the speaker's configuration, validated once by Validate.
type Config struct {
	// NodeName is the node this speaker announces for.
	NodeName string
	// Namespace is where ironlb runs and reads its metallb.io objects.
	Namespace string
	// LBClass is the controller's --lb-class.
	LBClass string
	// NodeOptions say how the nodes' exclude label and cordons bear on
	// announcing (--ignore-exclude-lb, --drain-on-cordon). They must be
	// the same on every node.
	NodeOptions state.NodeOptions
	// RouterID is the BGP router-id when no peer sets one (the node's
	// IPv4 address); zero lets FRR choose.
	RouterID netip.Addr
	// DrainDelay is how long a draining node announces with the
	// GRACEFUL_SHUTDOWN community before it withdraws.
	DrainDelay time.Duration
	// FRR applies the node's BGP configuration; nil disables BGP
	// (unless FRRK8s is set).
	FRR FRR
	// NodeRouter serves the frr-k8s FRRConfiguration API on FRR (the
	// FRRConfigurations of Namespace that select the node are merged
	// into its frr.conf); nil disables it. It needs FRR.
	NodeRouter *NodeRouterConfig
	// FRRK8s, when set, has the node's BGP configuration written as an
	// FRRConfiguration for an existing frr-k8s to apply (frr-k8s mode,
	// see frrk8s.go); FRR and Sessions are then nil.
	FRRK8s *FRRK8sConfig
	// Sessions reads FRR's session state for the node's SpeakerStatus;
	// nil disables it.
	Sessions StatusSource
	// SessionInterval is how often Sessions is read.
	SessionInterval time.Duration
	// ReadyWait bounds how long the speaker's readiness waits for its BGP
	// sessions (see Speaker.ReadyCheck); 0 turns the wait off: ready at
	// once.
	ReadyWait time.Duration
	// L2 runs Layer 2 mode; nil disables it.
	L2 *L2Config
	// Registerer receives the Prometheus metrics.
	Registerer prometheus.Registerer
	// Log is the speaker's logger.
	Log *slog.Logger
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Owner, when set, becomes an owner of the node's ConfigurationState
	// (the speaker's Pod, as in MetalLB).
	Owner *metav1.OwnerReference
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.NodeName == "" {
		errs = append(errs, errors.New("node name must be set"))
	}
	if c.Namespace == "" {
		errs = append(errs, errors.New("namespace must be set"))
	}
	if c.DrainDelay < 0 {
		errs = append(errs, errors.New("drain delay must not be negative"))
	}
	if c.Sessions != nil && c.SessionInterval <= 0 {
		errs = append(errs, errors.New("session interval must be positive"))
	}
	if c.NodeRouter != nil && c.FRR == nil {
		errs = append(errs, errors.New("the node router needs FRR"))
	}
	if c.ReadyWait < 0 {
		errs = append(errs, errors.New("ready wait must not be negative"))
	}
	if c.Registerer == nil {
		errs = append(errs, errors.New("a metrics registerer must be set"))
	}
	if c.Log == nil {
		errs = append(errs, errors.New("a logger must be set"))
	}
	if c.L2 != nil {
		errs = append(errs, c.L2.validate())
	}
	errs = append(errs, c.validateFRRK8s())
	if c.Now == nil {
		c.Now = time.Now
	}
	return errors.Join(errs...)
}

// RunningConfigSource reads FRR's running configuration, passwords
// redacted: the frr-agent client.
type RunningConfigSource interface {
	RunningConfig(ctx context.Context) (string, error)
}

// NodeRouterConfig configures the node router.
type NodeRouterConfig struct {
	// Running, when set, is read with the sessions (Config.Sessions,
	// every SessionInterval) for the FRRNodeState's runningConfig.
	Running RunningConfigSource
	// AlwaysBlock are prefixes never accepted from any neighbor, whatever
	// the FRRConfigurations say (frr-k8s's --always-block): the Service,
	// ClusterIP and pod ranges.
	AlwaysBlock []netip.Prefix
}
