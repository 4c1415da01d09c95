package status

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/noderouter"
)

// NodeRouter is a node's side of the node router (FRRConfigurations
// merged into its FRR), from its FRRNodeState and the FRRConfigurations
// whose nodeSelector matches its labels now.
type NodeRouter struct {
	// FRRConfigurations select the node ("namespace/name", sorted). They
	// are in force when ConversionResult is "success" and the speaker has
	// seen them; otherwise the node keeps its last valid configuration.
	FRRConfigurations []string `json:"frrConfigurations"`
	// ConversionResult and ReloadResult are the FRRNodeState's
	// lastConversionResult and lastReloadResult; empty without one.
	ConversionResult string `json:"conversionResult,omitempty"`
	ReloadResult     string `json:"reloadResult,omitempty"`
}

// nodeRouters returns each node's NodeRouter, by node name: for the
// nodes with an FRRNodeState or an FRRConfiguration that selects them.
func nodeRouters(cfgs []frrk8s.FRRConfiguration, states []frrk8s.FRRNodeState, nodes []corev1.Node) map[string]*NodeRouter {
	out := map[string]*NodeRouter{}
	get := func(name string) *NodeRouter {
		if out[name] == nil {
			out[name] = &NodeRouter{FRRConfigurations: []string{}}
		}
		return out[name]
	}
	for _, n := range nodes {
		// An invalid selector selects nothing; the speakers report it.
		sel, _ := noderouter.Selecting(cfgs, n.Labels)
		for _, c := range sel {
			r := get(n.Name)
			r.FRRConfigurations = append(r.FRRConfigurations, c.Namespace+"/"+c.Name)
		}
	}
	for _, s := range states {
		r := get(s.Name)
		r.ConversionResult, r.ReloadResult = s.Status.LastConversionResult, s.Status.LastReloadResult
	}
	for _, r := range out {
		slices.SortFunc(r.FRRConfigurations, cmp.Compare)
	}
	return out
}
