package controller

import (
	"context"
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
	"github.com/ironlb/ironlb/internal/k8sconfig"
	"github.com/ironlb/ironlb/noderouter"
)

// FRRWebhookPath is where the validating webhook of FRRConfiguration is
// served.
const FRRWebhookPath = "/validate-frrk8s-metallb-io"

// frrValidator is the validating webhook for FRRConfiguration. It checks
// the object on its own (it must be self-contained), then, for every
// node the object selects, merges it with ironlb's own piece there (see
// routerconflicts.go) and the other FRRConfigurations that select that
// node, and refuses the change when the merge brings a conflict that
// involves the object. Conflicts among the other objects alone do not
// block it, and deleting an object never conflicts. The objects ironlb's
// speakers write for frr-k8s are checked on their own only, and left out
// of the merge (listFRRConfigurations).
type frrValidator struct {
	reader    client.Reader
	namespace string
	// lbClass is the controller's --lb-class: which Services are
	// ironlb's.
	lbClass string
	decoder admission.Decoder
	log     *slog.Logger
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
	if noderouter.WrittenByIronlb(obj) {
		// A speaker's own announcements for frr-k8s: merging them with
		// ironlb's piece again would judge them against themselves.
		return nil, nil
	}
	var nodes corev1.NodeList
	if err := v.reader.List(ctx, &nodes); err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	all, err := listFRRConfigurations(ctx, v.reader, v.namespace)
	if err != nil {
		return nil, err
	}
	others := slices.DeleteFunc(all, func(c frrk8s.FRRConfiguration) bool { return c.Name == obj.Name })
	objs, err := k8sconfig.Load(ctx, v.reader, v.namespace)
	if err != nil {
		return nil, fmt.Errorf("listing configuration: %w", err)
	}
	in := &routerInputs{nodes: nodes.Items, cfgs: others, passwords: secretPasswords(append(slices.Clone(others), *obj), objs.Secrets)}
	// Only a local preference of obj can conflict with ironlb's Service
	// prefixes (communities unite); the conflicts between the others
	// are not obj's.
	if in.localPrefs = localPrefPrefixes(piece); len(in.localPrefs) > 0 {
		if err := readServices(ctx, v.reader, in); err != nil {
			return nil, err
		}
	}
	return conflictsOnNodes(piece, obj, in, ownPieces(objs, in, v.lbClass)), nil
}

// conflictsOnNodes merges piece (of obj) with ironlb's own piece on each
// node obj selects and the other configurations that select it, and
// returns the conflicts that involve obj, each once with the nodes it
// happens on.
func conflictsOnNodes(piece *noderouter.Model, obj *frrk8s.FRRConfiguration, in *routerInputs, own func(node string) *noderouter.Model) []string {
	sel, err := metav1.LabelSelectorAsSelector(&obj.Spec.NodeSelector)
	if err != nil {
		return []string{err.Error()} // FromFRRConfiguration reported it already
	}
	key := obj.Namespace + "/" + obj.Name
	var out conflictLines
	for _, n := range in.nodes {
		if !sel.Matches(labels.Set(n.Labels)) {
			continue
		}
		selected, _ := noderouter.Selecting(in.cfgs, n.Labels)
		pieces := append([]*noderouter.Model{own(n.Name)}, validPieces(selected)...)
		for _, ce := range mergeConflicts(in.passwords, append(pieces, piece)...) {
			if ce.B.Name == key || ce.A.Name == key {
				out.add(ce.Error(), n.Name)
			}
		}
	}
	return out.lines()
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
