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
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/internal/k8sconfig"
	"github.com/ironlb/ironlb/noderouter"
)

// validator is the validating webhook for the metallb.io configuration
// kinds. It checks what the CRD rules cannot see: overlapping pools and
// references between objects. It rebuilds the model with the change
// applied and denies the change only for errors that the change brings:
// an unrelated, already invalid object does not block every edit. A
// valid change is then merged, on every node an FRRConfiguration
// selects, with those FRRConfigurations, and denied when it brings a
// conflict with them (a BGPPeer's timers, a BGPAdvertisement's local
// preference, ...), which would keep the node on its last valid
// configuration.
type validator struct {
	reader    client.Reader
	namespace string
	// lbClass is the controller's --lb-class: which Services are
	// ironlb's.
	lbClass string
	decoder admission.Decoder
	log     *slog.Logger
}

func newDecoder(s *runtime.Scheme) admission.Decoder { return admission.NewDecoder(s) }

func (v *validator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Namespace != v.namespace {
		return admission.Allowed("")
	}
	current, err := k8sconfig.Load(ctx, v.reader, v.namespace)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("listing configuration: %w", err))
	}
	next, err := v.apply(current, req)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	warnings, err := v.warnings(req)
	if err != nil {
		return admission.Errored(http.StatusBadRequest, err)
	}
	_, before := config.Build(current)
	_, after := config.Build(next)
	old := map[string]bool{}
	for _, fe := range config.Errors(before) {
		old[fe.Error()] = true
	}
	var msgs []string
	for _, fe := range config.Errors(after) {
		if !old[fe.Error()] {
			msgs = append(msgs, fe.Error())
		}
	}
	if len(msgs) == 0 {
		msgs, err = v.routerConflicts(ctx, current, next)
		if err != nil {
			return admission.Errored(http.StatusInternalServerError, err)
		}
	}
	if len(msgs) == 0 {
		return admission.Allowed("").WithWarnings(warnings...)
	}
	v.log.Info("configuration change denied", "kind", req.Kind.Kind, "name", req.Name, "operation", req.Operation, "errors", len(msgs))
	return admission.Denied(strings.Join(msgs, "; ")).WithWarnings(warnings...)
}

// warnings returns the admission warnings for the object a create or
// update writes: the deprecated fields it sets.
func (v *validator) warnings(req admission.Request) ([]string, error) {
	if req.Operation == admissionv1.Delete || req.Kind.Kind != "BGPPeer" {
		return nil, nil
	}
	var peer v1beta2.BGPPeer
	if err := v.decoder.Decode(req, &peer); err != nil {
		return nil, fmt.Errorf("decoding %s %q: %w", req.Kind.Kind, req.Name, err)
	}
	return peerDeprecations(&peer), nil
}

// peerDeprecations lists the deprecated fields a BGPPeer sets, each with
// what to use instead, as admission warnings.
func peerDeprecations(p *v1beta2.BGPPeer) []string {
	var out []string
	if p.Spec.DisableMP {
		out = append(out, fmt.Sprintf("BGPPeer %q: spec.disableMP is deprecated and has no effect: a session carries only the routes of its own IP family unless spec.dualStackAddressFamily is set", p.Name))
	}
	return out
}

// apply returns the objects as they would be after the request.
func (v *validator) apply(o config.Objects, req admission.Request) (config.Objects, error) {
	del := req.Operation == admissionv1.Delete
	var err error
	switch req.Kind.Kind {
	case "IPAddressPool":
		o.Pools, err = replace(v.decoder, req, o.Pools, del)
	case "BGPPeer":
		o.BGPPeers, err = replace(v.decoder, req, o.BGPPeers, del)
	case "BGPAdvertisement":
		o.BGPAdvertisements, err = replace(v.decoder, req, o.BGPAdvertisements, del)
	case "L2Advertisement":
		o.L2Advertisements, err = replace(v.decoder, req, o.L2Advertisements, del)
	case "BFDProfile":
		o.BFDProfiles, err = replace(v.decoder, req, o.BFDProfiles, del)
	case "Community":
		o.Communities, err = replace(v.decoder, req, o.Communities, del)
	}
	return o, err
}

// object is a pointer to one of the configuration kinds.
type object[T any] interface {
	*T
	client.Object
}

// replace removes the request's object from list and, unless deleting,
// adds the object of the request in its place.
func replace[T any, P object[T]](dec admission.Decoder, req admission.Request, list []T, del bool) ([]T, error) {
	out := slices.DeleteFunc(slices.Clone(list), func(t T) bool { return P(&t).GetName() == req.Name })
	if del {
		return out, nil
	}
	var obj T
	if err := dec.Decode(req, P(&obj)); err != nil {
		return nil, fmt.Errorf("decoding %s %q: %w", req.Kind.Kind, req.Name, err)
	}
	return append(out, obj), nil
}

// routerConflicts returns the node-router conflicts that the change from
// current to next brings: those the merge of next's own piece with the
// FRRConfigurations of a node reports and the merge of current's does
// not, each with the nodes it happens on. Nothing is read beyond the
// FRRConfigurations while there are none.
func (v *validator) routerConflicts(ctx context.Context, current, next config.Objects) ([]string, error) {
	cfgs, err := listFRRConfigurations(ctx, v.reader, v.namespace)
	if err != nil || len(cfgs) == 0 {
		return nil, err
	}
	var nodes corev1.NodeList
	if err := v.reader.List(ctx, &nodes); err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	in := &routerInputs{nodes: nodes.Items, cfgs: cfgs, passwords: secretPasswords(cfgs, next.Secrets)}
	pieces := make([]*noderouter.Model, 0, len(cfgs))
	for i := range cfgs {
		if p, err := noderouter.FromFRRConfiguration(&cfgs[i]); err == nil {
			pieces = append(pieces, p)
		}
	}
	if in.localPrefs = localPrefPrefixes(pieces...); len(in.localPrefs) > 0 {
		if err := readServices(ctx, v.reader, in); err != nil {
			return nil, err
		}
	}
	before, after := ownPieces(current, in, v.lbClass), ownPieces(next, in, v.lbClass)
	var out conflictLines
	for _, n := range in.nodes {
		selected, _ := noderouter.Selecting(cfgs, n.Labels)
		if len(selected) == 0 {
			continue
		}
		theirs := validPieces(selected)
		old := map[string]bool{}
		for _, ce := range mergeConflicts(in.passwords, append([]*noderouter.Model{before(n.Name)}, theirs...)...) {
			old[ce.Error()] = true
		}
		for _, ce := range mergeConflicts(in.passwords, append([]*noderouter.Model{after(n.Name)}, theirs...)...) {
			if !old[ce.Error()] {
				out.add(ce.Error(), n.Name)
			}
		}
	}
	return out.lines(), nil
}
