package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/noderouter"
	clusterstate "github.com/ironlb/ironlb/state"
)

// The node router at admission: both webhooks merge, per node, ironlb's
// own piece (frr.Build of the metallb.io objects, as the speaker does)
// with the FRRConfigurations that select the node, as the speaker's
// merge (noderouter.ForNode) will, and refuse a change that brings a
// conflict. The pieces are the ones the speaker merges:
//
//   - ironlb's sessions and routers always;
//   - its Service prefixes, with their communities and local preference,
//     when some FRRConfiguration of the merge sets a local preference:
//     a local preference is the only attribute of a Service prefix that
//     can conflict (communities unite), and the sessions and routers do
//     not depend on the Services, so without one the Services change
//     nothing and are not read. Of the Services only those with an
//     address inside a prefix that gets a local preference are built:
//     a prefix ironlb announces holds the addresses it is made of, so
//     the others cannot make such a prefix, and leaving them out keeps
//     a node's build small with 10,000 Services;
//   - the passwords of the passwordSecrets in ironlb's namespace, so
//     that a password and a Secret with the same value agree; a Secret
//     that cannot be read compares by name.
//
// What the webhook cannot know is left as the speaker's defaults: the
// node phase is normal (not draining), and the nodes are judged under
// the default NodeOptions (the speaker's --ignore-exclude-lb and
// --drain-on-cordon are its own flags).

// routerInputs are the objects both webhooks merge besides the
// metallb.io configuration.
type routerInputs struct {
	nodes []corev1.Node
	// cfgs are the FRRConfigurations of ironlb's namespace.
	cfgs      []frrk8s.FRRConfiguration
	passwords map[string]config.Password
	// localPrefs are the prefixes the FRRConfigurations of the merge set
	// a local preference on: only Services with an address inside one
	// can conflict.
	localPrefs []netip.Prefix
	// withServices tells that services and slices were read.
	withServices bool
	services     []corev1.Service
	slices       []discoveryv1.EndpointSlice
}

// listFRRConfigurations lists the FRRConfigurations of the namespace
// that the merge takes; none when the API server does not serve the kind
// (a cluster whose CRDs predate the node router). Those ironlb's
// speakers write for frr-k8s (when frr-k8s reads ironlb's namespace) are
// left out: they are ironlb's own piece written out, in the node's
// phase (a draining node's has LOCAL_PREF 0), and the speakers rewrite
// them after a change.
func listFRRConfigurations(ctx context.Context, r client.Reader, namespace string) ([]frrk8s.FRRConfiguration, error) {
	var list frrk8s.FRRConfigurationList
	if err := r.List(ctx, &list, client.InNamespace(namespace)); err != nil {
		if meta.IsNoMatchError(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("listing FRRConfigurations: %w", err)
	}
	return slices.DeleteFunc(list.Items, func(c frrk8s.FRRConfiguration) bool { return noderouter.WrittenByIronlb(&c) }), nil
}

// readServices reads the Services and EndpointSlices of every namespace
// into in.
func readServices(ctx context.Context, r client.Reader, in *routerInputs) error {
	var svcs corev1.ServiceList
	if err := r.List(ctx, &svcs); err != nil {
		return fmt.Errorf("listing Services: %w", err)
	}
	var eps discoveryv1.EndpointSliceList
	if err := r.List(ctx, &eps); err != nil {
		return fmt.Errorf("listing EndpointSlices: %w", err)
	}
	in.withServices, in.services, in.slices = true, svcs.Items, eps.Items
	return nil
}

// secretPasswords returns the passwords of the passwordSecrets the
// configurations name that secrets hold, by "namespace/name". Secrets
// that are missing or not usable are left out: such a neighbor compares
// by Secret name, and the speaker reports the Secret on the node.
func secretPasswords(cfgs []frrk8s.FRRConfiguration, secrets []corev1.Secret) map[string]config.Password {
	byKey := make(map[string]*corev1.Secret, len(secrets))
	for i := range secrets {
		byKey[secrets[i].Namespace+"/"+secrets[i].Name] = &secrets[i]
	}
	var out map[string]config.Password
	for i := range cfgs {
		for _, use := range noderouter.SecretUses(&cfgs[i]) {
			sec, ok := byKey[use.Key]
			if !ok {
				continue
			}
			pw, err := noderouter.SecretPassword(sec)
			if err != nil {
				continue
			}
			if out == nil {
				out = map[string]config.Password{}
			}
			out[use.Key] = pw
		}
	}
	return out
}

// localPrefPrefixes returns the prefixes the pieces set a local
// preference on, sorted, each once.
func localPrefPrefixes(pieces ...*noderouter.Model) []netip.Prefix {
	var out []netip.Prefix
	for _, m := range pieces {
		for _, r := range m.Routers {
			for _, n := range r.Neighbors {
				for _, o := range n.Outgoing {
					if o.SetLocalPref {
						out = append(out, o.Prefix)
					}
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		return cmp.Or(a.Addr().Compare(b.Addr()), cmp.Compare(a.Bits(), b.Bits()))
	})
	return slices.Compact(out)
}

// inAny reports whether one of the addresses is inside one of the
// prefixes.
func inAny(ips []netip.Addr, prefixes []netip.Prefix) bool {
	for _, ip := range ips {
		for _, p := range prefixes {
			if p.Contains(ip) {
				return true
			}
		}
	}
	return false
}

// ownPieces returns a function that gives ironlb's own piece of the
// merge on a node, computed from objs as the speaker computes it (with
// the Services when in has them); it gives nil when the objects are
// invalid, on the whole or on that node: their own webhook and the
// ConfigurationState report that.
func ownPieces(objs config.Objects, in *routerInputs, lbClass string) func(node string) *noderouter.Model {
	model, err := config.Build(objs)
	if err != nil {
		return func(string) *noderouter.Model { return nil }
	}
	var c *clusterstate.Cluster
	if in.withServices {
		c = clusterstate.Build(model, in.nodes, in.services, in.slices, lbClass)
		var keep []clusterstate.Service
		for _, s := range c.Services {
			if inAny(s.IPs, in.localPrefs) {
				keep = append(keep, s)
			}
		}
		c.Services = keep
	} else {
		c = &clusterstate.Cluster{Model: model, Nodes: clusterstate.Nodes(in.nodes, clusterstate.NodeOptions{})}
	}
	return func(node string) *noderouter.Model {
		cfg, err := frr.Build(c, node, frr.BuildOptions{})
		if err != nil {
			return nil
		}
		return noderouter.FromFRR(cfg)
	}
}

// mergeConflicts merges the pieces as the speaker does and returns the
// conflicts. Invalid configurations are left out by the caller.
func mergeConflicts(passwords map[string]config.Password, pieces ...*noderouter.Model) []*noderouter.ConflictError {
	_, err := noderouter.Merge(noderouter.Options{Passwords: passwords}, pieces...)
	return conflicts(err)
}

// validPieces returns the pieces of the configurations that are valid
// on their own; an invalid one (from before the webhook, say) stays out.
func validPieces(cfgs []*frrk8s.FRRConfiguration) []*noderouter.Model {
	out := make([]*noderouter.Model, 0, len(cfgs))
	for _, c := range cfgs {
		if p, err := noderouter.FromFRRConfiguration(c); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// conflictLines collects conflict messages with the nodes each happens
// on, in the order first seen.
type conflictLines struct {
	order []string
	nodes map[string][]string
}

func (c *conflictLines) add(msg, node string) {
	if c.nodes == nil {
		c.nodes = map[string][]string{}
	}
	if _, seen := c.nodes[msg]; !seen {
		c.order = append(c.order, msg)
	}
	c.nodes[msg] = append(c.nodes[msg], node)
}

// lines returns each message with its nodes; nil when there is none.
func (c *conflictLines) lines() []string {
	var out []string
	for _, msg := range c.order {
		out = append(out, fmt.Sprintf("%s (on %s)", msg, nodeList(c.nodes[msg])))
	}
	return out
}

// conflicts returns the ConflictErrors that err joins.
func conflicts(err error) []*noderouter.ConflictError {
	var out []*noderouter.ConflictError
	var walk func(error)
	walk = func(err error) {
		var ce *noderouter.ConflictError
		switch e := err.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		default:
			if errors.As(err, &ce) {
				out = append(out, ce)
			}
		}
	}
	walk(err)
	return out
}

// nodeList names the nodes, at most three, then how many more.
func nodeList(nodes []string) string {
	switch {
	case len(nodes) == 1:
		return "node " + nodes[0]
	case len(nodes) <= 3:
		return "nodes " + strings.Join(nodes, ", ")
	}
	return fmt.Sprintf("nodes %s and %d more", strings.Join(nodes[:3], ", "), len(nodes)-3)
}
