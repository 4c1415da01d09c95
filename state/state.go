package state

import (
	"cmp"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/config"
)

// LabelExcludeFromLB marks nodes that must not announce any Service.
const LabelExcludeFromLB = "node.kubernetes.io/exclude-from-external-load-balancers"

// NodeOptions say how a node's labels and spec bear on announcing. They
// come from the speaker's flags and must be the same on every node: each
// node runs the Layer 2 election for all of them.
type NodeOptions struct {
	// IgnoreExcludeLabel ignores the exclude-from-external-load-balancers
	// label (--ignore-exclude-lb, as in MetalLB): a labelled node
	// announces like any other. Single-node and control-plane-only
	// clusters, whose nodes kubeadm labels so, need it.
	IgnoreExcludeLabel bool
	// DrainOnCordon makes a cordon (spec.unschedulable) a planned
	// departure: the node drains as for the exclude label
	// (--drain-on-cordon). Without it a cordon changes nothing, as in
	// MetalLB since v0.15.0: a cordon for maintenance or by an
	// autoscaler must not lose traffic.
	DrainOnCordon bool
}

// Node is what announcing needs to know of a node, under NodeOptions.
type Node struct {
	Name   string
	Labels labels.Set
	// Excluded is set by the exclude-from-external-load-balancers label,
	// unless NodeOptions.IgnoreExcludeLabel.
	Excluded bool
	// NetworkUnavailable is the node's NetworkUnavailable condition.
	NetworkUnavailable bool
	// Unschedulable is set when the node is cordoned and a cordon
	// drains it (NodeOptions.DrainOnCordon). The speaker also sets it on
	// a node whose speaker is stopping: the same drain.
	Unschedulable bool
	// Ready is the node's Ready condition.
	Ready bool
}

// MayAnnounce reports whether the node may announce Services at all.
func (n Node) MayAnnounce() bool { return !n.Excluded && !n.NetworkUnavailable }

// Draining reports a planned departure: excluded by label, or cordoned
// when cordons drain. The node then moves traffic away gracefully before
// it withdraws.
func (n Node) Draining() bool { return n.Unschedulable || n.Excluded }

// Service is a LoadBalancer Service with assigned IPs.
type Service struct {
	Namespace, Name string
	// IPs from status.loadBalancer.ingress, IPv4 first.
	IPs []netip.Addr
	// Pool the IPs belong to.
	Pool string
	// ETPLocal is externalTrafficPolicy Local: only nodes with a serving
	// endpoint announce.
	ETPLocal bool
	// ServingNodes are the nodes with at least one serving endpoint,
	// sorted.
	ServingNodes []string
	// Labels are the Service's labels, which advertisements'
	// serviceSelectors match; nil when it has none. The map is shared:
	// nobody may modify it.
	Labels labels.Set
	// SharingKey is the value of the allow-shared-ip annotation (either
	// spelling), "" without it.
	SharingKey string
}

// Key returns "namespace/name".
func (s Service) Key() string { return s.Namespace + "/" + s.Name }

// HasServingEndpoint reports whether any node serves the Service.
func (s Service) HasServingEndpoint() bool { return len(s.ServingNodes) > 0 }

// ServedOn reports whether the node has a serving endpoint.
func (s Service) ServedOn(node string) bool {
	_, ok := slices.BinarySearch(s.ServingNodes, node)
	return ok
}

// Cluster is the state the announcement decisions are computed from.
type Cluster struct {
	Model *config.Model
	// Nodes sorted by name.
	Nodes []Node
	// Services sorted by key; only those ironlb handles that have IPs.
	Services []Service
}

// Node returns the node of that name.
func (c *Cluster) Node(name string) (Node, bool) {
	i, ok := slices.BinarySearchFunc(c.Nodes, name, func(n Node, name string) int { return cmp.Compare(n.Name, name) })
	if !ok {
		return Node{}, false
	}
	return c.Nodes[i], true
}

// Build makes the cluster state from the objects, the nodes under the
// default NodeOptions. Services of another type or class and Services
// without IPs are left out; lbClass is the controller's --lb-class. The
// speaker keeps a Store instead, which gives the same Services without a
// pass over every object.
func Build(model *config.Model, nodes []corev1.Node, svcs []corev1.Service, eps []discoveryv1.EndpointSlice, lbClass string) *Cluster {
	st := NewStore(lbClass)
	for i := range svcs {
		st.SetService(&svcs[i])
	}
	for i := range eps {
		st.SetEndpointSlice(&eps[i])
	}
	return &Cluster{Model: model, Nodes: Nodes(nodes, NodeOptions{}), Services: st.Services(model)}
}

// Nodes returns the state of the nodes under opts, sorted by name.
func Nodes(nodes []corev1.Node, opts NodeOptions) []Node {
	out := make([]Node, 0, len(nodes))
	for i := range nodes {
		out = append(out, NodeOf(&nodes[i], opts))
	}
	slices.SortFunc(out, func(a, b Node) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// CompareKeys orders Services as their Keys compare, without building
// the "namespace/name" strings: sorting 10,000 Services made 280,000 of
// them on every reconcile. Kubernetes names never hold a '/'.
func CompareKeys(a, b Service) int {
	if a.Namespace == b.Namespace {
		return cmp.Compare(a.Name, b.Name)
	}
	n := min(len(a.Namespace), len(b.Namespace))
	if c := cmp.Compare(a.Namespace[:n], b.Namespace[:n]); c != 0 {
		return c
	}
	// One namespace starts the other: in the Keys, the shorter one is
	// followed by '/', the longer one by its next byte.
	if len(a.Namespace) == n {
		return cmp.Compare(byte('/'), b.Namespace[n])
	}
	return cmp.Compare(a.Namespace[n], byte('/'))
}

// NodeOf returns the state of a node under opts. The exclude label
// counts whatever its value, as in Kubernetes and MetalLB.
func NodeOf(n *corev1.Node, opts NodeOptions) Node {
	out := Node{Name: n.Name, Labels: labels.Set(n.Labels)}
	_, labelled := n.Labels[LabelExcludeFromLB]
	out.Excluded = labelled && !opts.IgnoreExcludeLabel
	out.Unschedulable = n.Spec.Unschedulable && opts.DrainOnCordon
	for _, c := range n.Status.Conditions {
		switch c.Type {
		case corev1.NodeNetworkUnavailable:
			out.NetworkUnavailable = c.Status == corev1.ConditionTrue
		case corev1.NodeReady:
			out.Ready = c.Status == corev1.ConditionTrue
		}
	}
	return out
}

func serves(c discoveryv1.EndpointConditions) bool {
	if c.Ready != nil {
		if *c.Ready {
			return true
		}
	} else if c.Serving == nil && c.Terminating == nil {
		// No conditions at all: the API says to treat it as ready.
		return true
	}
	return c.Serving != nil && *c.Serving && (c.Terminating == nil || !*c.Terminating)
}
