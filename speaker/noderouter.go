package speaker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/frr/apply"
	"github.com/ironlb/ironlb/noderouter"
	"github.com/ironlb/ironlb/state"
)

// The node router: the speaker serves the frr-k8s FRRConfiguration API
// on its node's FRR. Each reconcile merges ironlb's own frr.Config with
// the FRRConfigurations in the namespace that select the node
// (noderouter.ForNode), with the passwords of the passwordSecrets they
// name read first, and translates the merge into the frr.Config to render
// (noderouter.ToFRR); both through a noderouter.Cache, which converts
// only the inputs that changed since the last reconcile. With no
// FRRConfiguration selecting the node,
// ironlb's own frr.Config is used as it is: the frr.conf stays byte for
// byte what it was before, and the Service path pays one cache list.
//
// A conversion error (an invalid object, a conflict, a Secret missing,
// something ToFRR cannot render) keeps the node on its last valid
// configuration, as frr-k8s documents: the whole frr.conf last applied,
// ironlb's own announcements included, stays in force until the error is
// fixed, and the error is reported in the node's FRRNodeState
// (lastConversionResult) and ConfigurationState.

// conversionSuccess is FRRNodeState's lastConversionResult and
// lastReloadResult when all went well, as frr-k8s writes them.
const conversionSuccess = "success"

// nodeRouter holds the speaker's side of the node router.
type nodeRouter struct {
	// reader reads FRRConfigurations and Secrets (the manager's cache).
	reader    client.Reader
	namespace string
	opts      noderouter.Options
	// cache keeps the converted inputs of the last merge, so that one
	// changed FRRConfiguration (or a change of ironlb's own Services) is
	// all a reconcile converts again; made on first use. Only the
	// reconciler, one reconcile at a time, calls merge.
	cache *noderouter.Cache
}

// routed is the outcome of merging the node's FRRConfigurations.
type routed struct {
	// cfg is the frr.Config to render.
	cfg *frr.Config
	// applied names the FRRConfigurations merged in ("namespace/name"),
	// sorted; nil when none selects the node.
	applied []string
}

// merge returns the frr.Config that serves own (ironlb's announcements
// for the node) and the FRRConfigurations selecting a node with
// nodeLabels; draining tells that own is the graceful-shutdown phase's
// (noderouter.Options.Draining). The error is a conversion error for the
// user to fix, wrapped, or a failure to read the cache.
func (nr *nodeRouter) merge(ctx context.Context, own *frr.Config, nodeLabels map[string]string, draining bool) (routed, error) {
	var list frrk8s.FRRConfigurationList
	// The cache's objects themselves: the merge only reads them.
	if err := nr.reader.List(ctx, &list, client.InNamespace(nr.namespace), client.UnsafeDisableDeepCopy); err != nil {
		return routed{}, fmt.Errorf("listing FRRConfigurations: %w", err)
	}
	selected, selErr := noderouter.Selecting(list.Items, nodeLabels)
	if len(selected) == 0 && selErr == nil {
		return routed{cfg: own}, nil
	}
	res := routed{}
	for _, c := range selected {
		res.applied = append(res.applied, c.Namespace+"/"+c.Name)
	}
	// The Secrets first: the merge compares the passwords they hold.
	pw, err := nr.passwords(ctx, selected)
	if err != nil {
		return res, conversionError{err}
	}
	opts := nr.opts
	opts.Passwords, opts.Draining = pw, draining
	if nr.cache == nil {
		nr.cache = noderouter.NewCache()
	}
	m, err := nr.cache.ForNode(own, list.Items, nodeLabels, opts)
	if err != nil {
		return res, conversionError{err}
	}
	fc, err := nr.cache.ToFRR(own, m)
	if err != nil {
		return res, conversionError{err}
	}
	res.cfg = fc
	return res, nil
}

// conversionError is an error of the configuration the user wrote:
// retrying does not fix it, a change of the objects may.
type conversionError struct{ err error }

func (e conversionError) Error() string { return "converting the FRRConfigurations: " + e.err.Error() }
func (e conversionError) Unwrap() error { return e.err }

// passwords reads the passwordSecrets the configurations name, for the
// merge to compare passwords by value (noderouter.Options.Passwords), as
// frr-k8s does. A Secret that is missing, of another type or without
// the key is a config.FieldError naming each object and field that asks
// for it.
func (nr *nodeRouter) passwords(ctx context.Context, cfgs []*frrk8s.FRRConfiguration) (map[string]config.Password, error) {
	var out map[string]config.Password
	var errs []error
	for _, c := range cfgs {
		for _, use := range noderouter.SecretUses(c) {
			if _, ok := out[use.Key]; ok {
				continue
			}
			pw, err := nr.secretPassword(ctx, use.Key)
			if err != nil {
				errs = append(errs, config.FieldError{Kind: noderouter.KindFRRConfiguration, Name: c.Namespace + "/" + c.Name, Field: use.Field, Reason: err.Error()})
				continue
			}
			if out == nil {
				out = map[string]config.Password{}
			}
			out[use.Key] = pw
		}
	}
	return out, errors.Join(errs...)
}

// secretPassword reads the password of the Secret "namespace/name".
// Only Secrets in the speaker's namespace are read (its cache holds no
// others), as frr-k8s reads only its own namespace's.
func (nr *nodeRouter) secretPassword(ctx context.Context, key string) (config.Password, error) {
	ns, name, _ := strings.Cut(key, "/")
	if ns != nr.namespace {
		return config.Password{}, fmt.Errorf("Secret %q: only Secrets in namespace %q are read", key, nr.namespace)
	}
	var sec corev1.Secret
	if err := nr.reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &sec); err != nil {
		if apierrors.IsNotFound(err) {
			return config.Password{}, fmt.Errorf("Secret %q not found", key)
		}
		return config.Password{}, fmt.Errorf("reading Secret %q: %w", key, err)
	}
	return noderouter.SecretPassword(&sec)
}

// ParseAlwaysBlock parses frr-k8s's --always-block value: CIDRs,
// comma-separated (empty: none). A prefix with host bits set stands for
// its network.
func ParseAlwaysBlock(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("%q is not a CIDR", f))
			continue
		}
		out = append(out, p.Masked())
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	return slices.Compact(out), errors.Join(errs...)
}

// routerState is what the node's FRRNodeState is to say after a
// reconcile.
type routerState struct {
	// desired is the frr.conf last rendered, passwords redacted, cut at
	// maxStateConfig.
	desired string
	// conversion is conversionSuccess or "failed: " and the error of the
	// last merge, as frr-k8s writes lastConversionResult.
	conversion string
	// reload is conversionSuccess or the failure of the last apply.
	reload string
}

// maxStateConfig bounds the configs an FRRNodeState holds: with 10,000
// Services an frr.conf is about a megabyte, and the API server refuses
// objects above 1.5 MB. The text is cut at a line and a last line says
// how much is left out.
const maxStateConfig = 256 << 10

// stateConfig returns text as an FRRNodeState holds it: passwords
// redacted, cut at maxStateConfig.
func stateConfig(text []byte) string {
	// One copy: this runs on every reconcile of the Service path.
	if len(text) <= maxStateConfig {
		return apply.Redact(string(text))
	}
	cut := bytes.LastIndexByte(text[:maxStateConfig], '\n') + 1
	note := fmt.Sprintf("! ... %d more bytes not shown\n", len(text)-cut)
	var b strings.Builder
	b.Grow(cut + len(note))
	b.Write(text[:cut])
	b.WriteString(note)
	return apply.Redact(b.String())
}

// route merges the node's FRRConfigurations into fc, built for phase
// ph. A conversion error is recorded for the status objects and
// returned; a failure to read the cache is returned alone.
func (r *reconciler) route(ctx context.Context, cluster *state.Cluster, fc *frr.Config, ph frr.Phase) (*frr.Config, error) {
	if r.router == nil {
		return fc, nil
	}
	node, _ := cluster.Node(r.cfg.NodeName)
	out, err := r.router.merge(ctx, fc, node.Labels, ph == frr.PhaseGracefulShutdown)
	var ce conversionError
	switch {
	case errors.As(err, &ce):
		r.routerErr = err
		r.routerState.conversion = "failed: " + err.Error()
		r.reportConversion(ctx, err)
		return nil, err
	case err != nil:
		return nil, err
	}
	r.routerErr = nil
	r.reportConversion(ctx, nil)
	r.routerState.conversion = conversionSuccess
	if len(out.applied) > 0 {
		r.log.Debug("FRRConfigurations merged", "node", r.cfg.NodeName, "applied", out.applied)
	}
	return out.cfg, nil
}

// keepLastValid handles an error of route: a conversion error keeps the
// last valid frr.conf in force (applied again, which changes nothing in
// a running FRR but gives it back to one that restarted) and ends the
// reconcile until the objects change; anything else is retried.
func (r *reconciler) keepLastValid(ctx context.Context, err error) error {
	var ce conversionError
	if !errors.As(err, &ce) {
		return err
	}
	if r.lastValid.Len() > 0 {
		res, applyErr := r.cfg.FRR.Apply(ctx, r.lastValid.Bytes())
		r.recordApply(res, applyErr)
		if errors.Is(applyErr, agent.ErrNotListening) {
			return errAgentNotListening
		}
		if applyErr != nil {
			r.log.Error("applying the last valid frr.conf", "node", r.cfg.NodeName, "path", res.Path, "error", applyErr)
		}
	}
	return reconcile.TerminalError(err)
}

// recordRouterApply records the frr.conf just sent and FRR's answer for
// the FRRNodeState.
func (r *reconciler) recordRouterApply(res apply.Result, err error) {
	if r.router == nil {
		return
	}
	r.routerState.desired = stateConfig(r.text.Bytes())
	switch {
	case res.Failure != nil:
		r.routerState.reload = "failed: " + string(res.Failure.Stage) + ": " + apply.Redact(res.Failure.Message)
	case err != nil:
		r.routerState.reload = "failed: " + apply.Redact(err.Error())
	default:
		r.routerState.reload = conversionSuccess
	}
}
