package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/internal/k8sconfig"
	"github.com/ironlb/ironlb/noderouter"
	clusterstate "github.com/ironlb/ironlb/state"
)

// FRRWebhookPath is where the validating webhook of FRRConfiguration is
// served.
const FRRWebhookPath = "/validate-frrk8s-metallb-io"

// frrValidator is the validating webhook for FRRConfiguration. It checks
// the object on its own (it must be self-contained), then, for every
// node the object selects, merges it with ironlb's own routers and
// sessions there (from the BGPPeers) and the other FRRConfigurations
// that select that node, and refuses the change when the merge brings a
// conflict that involves the object. Conflicts among the other objects
// alone do not block it, and deleting an object never conflicts.
type frrValidator struct {
	reader    client.Reader
	namespace string
	decoder   admission.Decoder
	log       *slog.Logger
}

func (v *frrValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Namespace != v.namespace || req.Operation == admissionv1.Delete {
		return admission.Allowed("")
	}
	var obj frrk8s.FRRConfiguration
	if err := v.decoder.Decode(req, &obj); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decoding FRRConfiguration %q: %w", req.Name, err))
	}
	msgs, err := v.check(ctx, &obj)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	if len(msgs) == 0 {
		return admission.Allowed("")
	}
	v.log.Info("FRRConfiguration change denied", "name", req.Name, "operation", req.Operation, "errors", len(msgs))
	return admission.Denied(strings.Join(msgs, "; "))
}

// check returns why obj cannot be admitted, or nothing.
func (v *frrValidator) check(ctx context.Context, obj *frrk8s.FRRConfiguration) ([]string, error) {
	piece, err := noderouter.FromFRRConfiguration(obj)
	if err != nil {
		return errorLines(err), nil
	}
	var nodes corev1.NodeList
	if err := v.reader.List(ctx, &nodes); err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	var all frrk8s.FRRConfigurationList
	if err := v.reader.List(ctx, &all, client.InNamespace(v.namespace)); err != nil {
		return nil, fmt.Errorf("listing FRRConfigurations: %w", err)
	}
	others := slices.DeleteFunc(all.Items, func(c frrk8s.FRRConfiguration) bool { return c.Name == obj.Name })
	own, err := v.ownRouters(ctx, nodes.Items)
	if err != nil {
		return nil, err
	}
	return conflictsOnNodes(piece, obj, others, nodes.Items, own), nil
}

// ownRouters returns a function that gives ironlb's own routers and
// sessions on a node, from the metallb.io objects, as a piece of the
// merge; nil when the metallb.io configuration is invalid itself (its own
// webhook and ConfigurationState report that). The Services are left
// out: a conflict with ironlb's sessions or routers is found here, one
// on the attributes of a Service prefix only on the node.
func (v *frrValidator) ownRouters(ctx context.Context, nodes []corev1.Node) (func(node string) *noderouter.Model, error) {
	objs, err := k8sconfig.Load(ctx, v.reader, v.namespace)
	if err != nil {
		return nil, fmt.Errorf("listing configuration: %w", err)
	}
	model, err := config.Build(objs)
	if err != nil {
		return func(string) *noderouter.Model { return nil }, nil
	}
	c := &clusterstate.Cluster{Model: model, Nodes: clusterstate.Nodes(nodes, clusterstate.NodeOptions{})}
	return func(node string) *noderouter.Model {
		cfg, err := frr.Build(c, node, frr.BuildOptions{})
		if err != nil {
			return nil
		}
		return noderouter.FromFRR(cfg)
	}, nil
}

// conflictsOnNodes merges piece (of obj) with ironlb's own routers on
// each node obj selects and the other configurations that select it, and
// returns the conflicts that involve obj, each once with the nodes it
// happens on.
func conflictsOnNodes(piece *noderouter.Model, obj *frrk8s.FRRConfiguration, others []frrk8s.FRRConfiguration, nodes []corev1.Node, own func(node string) *noderouter.Model) []string {
	sel, err := metav1.LabelSelectorAsSelector(&obj.Spec.NodeSelector)
	if err != nil {
		return []string{err.Error()} // FromFRRConfiguration reported it already
	}
	key := obj.Namespace + "/" + obj.Name
	var order []string
	onNodes := map[string][]string{}
	for _, n := range nodes {
		if !sel.Matches(labels.Set(n.Labels)) {
			continue
		}
		selected, _ := noderouter.Selecting(others, n.Labels)
		pieces := make([]*noderouter.Model, 0, len(selected)+2)
		pieces = append(pieces, own(n.Name))
		for _, c := range selected {
			// An invalid object (say from before the webhook) stays out.
			if p, err := noderouter.FromFRRConfiguration(c); err == nil {
				pieces = append(pieces, p)
			}
		}
		_, err := noderouter.Merge(noderouter.Options{}, append(pieces, piece)...)
		for _, ce := range conflicts(err) {
			if ce.B.Name != key && ce.A.Name != key {
				continue
			}
			msg := ce.Error()
			if _, seen := onNodes[msg]; !seen {
				order = append(order, msg)
			}
			onNodes[msg] = append(onNodes[msg], n.Name)
		}
	}
	out := make([]string, 0, len(order))
	for _, msg := range order {
		out = append(out, fmt.Sprintf("%s (on %s)", msg, nodeList(onNodes[msg])))
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

// errorLines splits joined errors into their messages.
func errorLines(err error) []string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, e.Error())
		}
		return out
	}
	return []string{err.Error()}
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
