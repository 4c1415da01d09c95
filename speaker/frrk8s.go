package speaker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/noderouter"
	"github.com/ironlb/ironlb/state"
)

// FRRK8sConfig runs the speaker in frr-k8s mode: instead of applying
// frr.conf to its own FRR, it writes the node's BGP configuration as one
// FRRConfiguration and an existing frr-k8s applies it (merged with the
// other FRRConfigurations of the node), as MetalLB does with
// METALLB_BGP_TYPE=frr-k8s.
type FRRK8sConfig struct {
	// Namespace is where frr-k8s reads FRRConfigurations.
	Namespace string
}

// The labels of the FRRConfiguration a speaker writes: who manages it,
// and for which node.
const (
	labelManagedBy   = noderouter.LabelManagedBy
	managedByIronlb  = noderouter.ManagedByIronlb
	frrk8sNamePrefix = "ironlb-"
	hostnameLabel    = "kubernetes.io/hostname"
	frrk8sApplyPath  = "frr-k8s"
)

// FRRK8sConfigName is the name of a node's FRRConfiguration: "ironlb-"
// and the node name, as MetalLB's is "metallb-" and the node name.
func FRRK8sConfigName(node string) string { return frrk8sNamePrefix + node }

// desiredFRRConfiguration returns the node's FRRConfiguration for its
// frr.Config: the spec of noderouter.SpecFromFRR, selecting the node by
// its kubernetes.io/hostname label. nil when the node has no router (no
// peer selects it): then the object should not exist.
func desiredFRRConfiguration(node, namespace string, fc *frr.Config) (*frrk8s.FRRConfiguration, error) {
	spec, err := noderouter.SpecFromFRR(fc)
	if err != nil {
		return nil, err
	}
	if len(spec.BGP.Routers) == 0 && len(spec.BGP.BFDProfiles) == 0 {
		return nil, nil
	}
	spec.NodeSelector = metav1.LabelSelector{MatchLabels: map[string]string{hostnameLabel: node}}
	return &frrk8s.FRRConfiguration{
		TypeMeta: metav1.TypeMeta{APIVersion: frrk8s.GroupVersion.String(), Kind: "FRRConfiguration"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace,
			Name:      FRRK8sConfigName(node),
			Labels:    map[string]string{labelManagedBy: managedByIronlb, labelNode: node},
		},
		Spec: spec,
	}, nil
}

// frrk8sWriter keeps the node's FRRConfiguration equal to the desired
// one, writing only on change: an unchanged desired object that the cache
// shows as written costs no API call. A difference seen in the cache is
// checked against the API server before writing, so a cache that lags
// behind the speaker's own write causes no conflict.
type frrk8sWriter struct {
	client    client.Client // reads from the cache, writes to the API
	apiReader client.Reader
	node, ns  string

	mu sync.Mutex
	// written is what the last write left, nil for "absent"; known says
	// written is set.
	written *frrk8s.FRRConfiguration
	known   bool
}

// frrk8sResult says what sync did.
type frrk8sResult string

const (
	frrk8sUnchanged frrk8sResult = "unchanged"
	frrk8sCreated   frrk8sResult = "created"
	frrk8sUpdated   frrk8sResult = "updated"
	frrk8sDeleted   frrk8sResult = "deleted"
)

// sync makes the node's FRRConfiguration equal to want (nil: absent).
func (w *frrk8sWriter) sync(ctx context.Context, want *frrk8s.FRRConfiguration) (frrk8sResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := client.ObjectKey{Namespace: w.ns, Name: FRRK8sConfigName(w.node)}
	if w.known && sameConfig(w.written, want) {
		cur, err := w.read(ctx, w.client, key)
		if err == nil && sameConfig(cur, want) {
			return frrk8sUnchanged, nil
		}
	}
	cur, err := w.read(ctx, w.apiReader, key)
	if err != nil {
		return "", err
	}
	res, err := w.write(ctx, cur, want)
	if err != nil {
		w.known = false
		return "", err
	}
	w.written, w.known = want.DeepCopy(), true
	return res, nil
}

// read returns the object, nil when it does not exist.
func (w *frrk8sWriter) read(ctx context.Context, r client.Reader, key client.ObjectKey) (*frrk8s.FRRConfiguration, error) {
	cur := &frrk8s.FRRConfiguration{}
	err := r.Get(ctx, key, cur)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading FRRConfiguration %s: %w", key, err)
	}
	return cur, nil
}

func (w *frrk8sWriter) write(ctx context.Context, cur, want *frrk8s.FRRConfiguration) (frrk8sResult, error) {
	switch {
	case sameConfig(cur, want):
		return frrk8sUnchanged, nil
	case want == nil:
		err := w.client.Delete(ctx, cur, client.Preconditions{UID: &cur.UID})
		if err != nil && !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("deleting FRRConfiguration %s/%s: %w", cur.Namespace, cur.Name, err)
		}
		return frrk8sDeleted, nil
	case cur == nil:
		obj := want.DeepCopy()
		if err := w.client.Create(ctx, obj); err != nil {
			return "", fmt.Errorf("creating FRRConfiguration %s/%s: %w", obj.Namespace, obj.Name, err)
		}
		return frrk8sCreated, nil
	}
	obj := cur.DeepCopy()
	obj.Spec = *want.Spec.DeepCopy()
	if obj.Labels == nil {
		obj.Labels = map[string]string{}
	}
	maps.Copy(obj.Labels, want.Labels)
	if err := w.client.Update(ctx, obj); err != nil {
		return "", fmt.Errorf("updating FRRConfiguration %s/%s: %w", obj.Namespace, obj.Name, err)
	}
	return frrk8sUpdated, nil
}

// sameConfig reports whether cur already is want: both absent, or the
// same spec and want's labels present.
func sameConfig(cur, want *frrk8s.FRRConfiguration) bool {
	if cur == nil || want == nil {
		return cur == nil && want == nil
	}
	for k, v := range want.Labels {
		if cur.Labels[k] != v {
			return false
		}
	}
	return equality.Semantic.DeepEqual(cur.Spec, want.Spec)
}

// reconcileFRRK8s computes the node's BGP configuration as reconcileBGP
// does and writes it as the node's FRRConfiguration. It returns the peers
// of each Service announced, for the ServiceBGPStatus objects: what the
// FRRConfiguration asks frr-k8s to announce (whether frr-k8s applied it
// is in its FRRNodeState). nil when nothing was written.
func (r *reconciler) reconcileFRRK8s(ctx context.Context, cluster *state.Cluster, ph frr.Phase) ([]frr.ServicePeers, error) {
	fc, err := r.build(cluster, r.cfg.NodeName, frr.BuildOptions{Phase: ph, RouterID: r.cfg.RouterID})
	if err == nil {
		var want *frrk8s.FRRConfiguration
		want, err = desiredFRRConfiguration(r.cfg.NodeName, r.cfg.FRRK8s.Namespace, fc)
		if err == nil {
			return r.writeFRRK8s(ctx, cluster, ph, fc, want)
		}
	}
	// Peers that clash on this node, or settings frr-k8s cannot take:
	// the user must fix them. frr-k8s keeps the last object written.
	r.nodeConfigErr = err
	r.log.Error("building the node's FRRConfiguration", "node", r.cfg.NodeName, "error", err)
	return nil, reconcile.TerminalError(err)
}

func (r *reconciler) writeFRRK8s(ctx context.Context, cluster *state.Cluster, ph frr.Phase, fc *frr.Config, want *frrk8s.FRRConfiguration) ([]frr.ServicePeers, error) {
	r.nodeConfigErr = nil
	res, err := r.frrk8s.sync(ctx, want)
	if res != frrk8sUnchanged || err != nil {
		r.recordFRRK8sWrite(err)
	}
	if err != nil {
		r.log.Error("writing the node's FRRConfiguration", "node", r.cfg.NodeName, "error", err)
		return nil, err
	}
	if res != frrk8sUnchanged {
		r.log.Info("FRRConfiguration written", "node", r.cfg.NodeName, "namespace", r.cfg.FRRK8s.Namespace, "name", FRRK8sConfigName(r.cfg.NodeName), "result", string(res), "phase", ph.String())
	}
	if ph == frr.PhaseWithdrawn && r.stopping.Load() {
		r.closeWithdraw.Do(func() { close(r.withdrawn) })
	}
	r.metrics.announced.Set(float64(len(fc.Announced)))
	r.metrics.speakerAnnounced.set(protocolBGP, bgpAnnouncements(cluster, fc.Announced))
	if fc.Announced == nil {
		return []frr.ServicePeers{}, nil
	}
	return fc.Announced, nil
}

// recordFRRK8sWrite records a write of the FRRConfiguration as the last
// apply of the node's SpeakerStatus, with path "frr-k8s".
func (r *reconciler) recordFRRK8sWrite(err error) {
	out := &v1beta1.ApplyResult{Time: metav1.NewTime(r.cfg.Now()), Path: frrk8sApplyPath, Succeeded: err == nil}
	if err != nil {
		out.Stage, out.Message = "write", err.Error()
	}
	r.mu.Lock()
	r.lastApply = out
	r.mu.Unlock()
}

// watchOwnFRRConfiguration reconciles when the node's FRRConfiguration
// changes, so that an edit or a deletion by someone else is undone.
func watchOwnFRRConfiguration(b *builder.Builder, cfg Config) *builder.Builder {
	name := FRRK8sConfigName(cfg.NodeName)
	return b.Watches(&frrk8s.FRRConfiguration{}, handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		if o.GetNamespace() != cfg.FRRK8s.Namespace || o.GetName() != name {
			return nil
		}
		return []reconcile.Request{nodeKey}
	}))
}

// validateFRRK8s checks the frr-k8s mode's part of the Config.
func (c *Config) validateFRRK8s() error {
	if c.FRRK8s == nil {
		return nil
	}
	var errs []error
	if c.FRRK8s.Namespace == "" {
		errs = append(errs, errors.New("frr-k8s mode: the frr-k8s namespace must be set"))
	}
	if c.FRR != nil {
		errs = append(errs, errors.New("frr-k8s mode: the FRR agent must not be set too (one BGP backend per speaker)"))
	}
	return errors.Join(errs...)
}
