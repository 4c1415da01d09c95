package frr

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/state"
)

// Phase is where the node stands in announcing: normal, draining
// gracefully, or withdrawn. The speaker decides the phase and how long
// each lasts; Build only renders it.
type Phase int

const (
	// PhaseNormal announces what the node may announce.
	PhaseNormal Phase = iota
	// PhaseGracefulShutdown announces the same prefixes as PhaseNormal,
	// even on a node that may no longer announce, each with the
	// GRACEFUL_SHUTDOWN community 65535:0 (RFC 8326) and, toward iBGP
	// peers, LOCAL_PREF 0, so that routers move traffic away before the
	// routes go.
	PhaseGracefulShutdown
	// PhaseWithdrawn keeps the sessions up and announces nothing.
	PhaseWithdrawn
)

// String returns "normal", "graceful-shutdown" or "withdrawn".
func (p Phase) String() string {
	switch p {
	case PhaseNormal:
		return "normal"
	case PhaseGracefulShutdown:
		return "graceful-shutdown"
	case PhaseWithdrawn:
		return "withdrawn"
	}
	return fmt.Sprintf("Phase(%d)", int(p))
}

// DefaultLogLevel is the log level when BuildOptions leaves it empty.
const DefaultLogLevel = "informational"

// BuildOptions are the node-side choices Build does not find in the
// cluster state.
type BuildOptions struct {
	Phase Phase
	// Hostname is written as FRR's hostname; "" uses the node name.
	Hostname string
	// RouterID is the router-id of the routers none of whose peers sets
	// one, usually the node's IPv4 address; the zero Addr lets FRR pick
	// (which fails on a node without IPv4 addresses).
	RouterID netip.Addr
	// LogLevel is an FRR log level ("debugging" to "emergencies"); ""
	// means DefaultLogLevel.
	LogLevel string
}

// Build computes the frr.conf model of one node from the cluster state:
// the sessions of the peers that select the node and the prefixes its
// advertisements announce, according to opts.Phase. It is pure and
// deterministic. Invalid combinations that config.Build cannot see (they
// depend on which peers meet on one node) are reported as
// config.FieldErrors, joined; Build then returns no Config.
func Build(c *state.Cluster, node string, opts BuildOptions) (*Config, error) {
	cfg, _, err := build(c, node, opts)
	if err != nil {
		return nil, buildError(node, err)
	}
	return cfg, nil
}

// buildError names the operation of a Build error.
func buildError(node string, err error) error {
	return fmt.Errorf("building frr.conf for node %q: %w", node, err)
}

// build computes the Config, and returns the builder it used, which
// Builder reuses; the builder's groups are nil when the node announces
// nothing.
func build(c *state.Cluster, node string, opts BuildOptions) (*Config, *builder, error) {
	if c == nil || c.Model == nil {
		return nil, nil, errors.New("the cluster state has no configuration model")
	}
	n, ok := c.Node(node)
	if !ok {
		return nil, nil, errors.New("no such node")
	}
	if err := opts.fill(node); err != nil {
		return nil, nil, err
	}
	b := &builder{model: c.Model, node: n, opts: opts}
	cfg := &Config{Hostname: opts.Hostname, LogLevel: opts.LogLevel}
	b.peers()
	b.advertisements()
	cfg.BFDProfiles = b.bfdProfiles()
	if err := b.err(); err != nil {
		return nil, nil, err
	}
	announce := opts.Phase != PhaseWithdrawn && (n.MayAnnounce() || opts.Phase == PhaseGracefulShutdown)
	var pfx *prefixes
	if announce {
		b.classes()
		pfx = b.prefixes(c.Services)
		cfg.Announced = pfx.announced
	}
	cfg.RouteMaps = b.routeMaps()
	if err := b.err(); err != nil {
		return nil, nil, err
	}
	cfg.Routers = b.routers(pfx)
	for _, r := range cfg.Routers {
		if r.VRF != "" {
			cfg.VRFs = append(cfg.VRFs, r.VRF)
		}
	}
	return cfg, b, nil
}

// fill checks the options and fills in their defaults.
func (o *BuildOptions) fill(node string) error {
	if o.Phase < PhaseNormal || o.Phase > PhaseWithdrawn {
		return fmt.Errorf("unknown phase %d", int(o.Phase))
	}
	if o.Hostname == "" {
		o.Hostname = node
	}
	if why := tokenProblem(o.Hostname); why != "" {
		return fmt.Errorf("hostname %q %s", o.Hostname, why)
	}
	if o.RouterID.IsValid() && !o.RouterID.Is4() {
		return fmt.Errorf("router ID %s is not an IPv4 address", o.RouterID)
	}
	if o.LogLevel == "" {
		o.LogLevel = DefaultLogLevel
	}
	if !isLogLevel(o.LogLevel) {
		return fmt.Errorf("log level %q is not one of FRR's (emergencies, alerts, critical, errors, warnings, notifications, informational, debugging)", o.LogLevel)
	}
	return nil
}

// builder holds what Build has computed so far.
type builder struct {
	model *config.Model
	node  state.Node
	opts  BuildOptions
	errs  []error

	// peerList are the peers that select the node, by name.
	peerList []*peer
	// routerVRFs are the VRFs of the node's peers, one router each, ""
	// first.
	routerVRFs []string
	// advs are the advertisements that select the node, by name.
	advs []*adv
	// classList are the classes, in tag order once numberClasses ran;
	// classByKey finds them.
	classList  []*class
	classByKey map[string]*class
	// groups[pool][family] are the prefix groups of a pool, made by its
	// advertisements without serviceSelectors.
	groups map[string][2][]group
	// selections are what the advertisements with serviceSelectors add,
	// by pool; nil when the node has none.
	selections map[string]*selection
}

// fieldError records a problem with one object.
func (b *builder) fieldError(kind, name, field, format string, args ...any) {
	b.errs = append(b.errs, config.FieldError{Kind: kind, Name: name, Field: field, Reason: fmt.Sprintf(format, args...)})
}

// err returns the problems found so far, each once, joined, or nil.
func (b *builder) err() error {
	seen := make(map[string]bool, len(b.errs))
	var out []error
	for _, e := range b.errs {
		if !seen[e.Error()] {
			seen[e.Error()] = true
			out = append(out, e)
		}
	}
	return errors.Join(out...)
}
