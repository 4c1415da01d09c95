package speaker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/frr/apply"
	"github.com/ironlb/ironlb/internal/k8sconfig"
	"github.com/ironlb/ironlb/state"
)

// reconciler computes and applies the node's announcements. It has one
// request key, so every event collapses into one pending reconcile.
type reconciler struct {
	client   client.Client
	cfg      Config
	renderer *frr.Renderer
	metrics  *metrics
	// apiReader reads from the API server, not the cache.
	apiReader client.Reader
	// store holds the Services, fed by the informers (see events.go).
	store *state.Store
	// build computes the node's frr.conf model (frr.Build's contract;
	// the speaker uses an frr.Builder, which reuses its last build).
	build func(*state.Cluster, string, frr.BuildOptions) (*frr.Config, error)
	// text holds the last rendered frr.conf. Its buffer is reused: with
	// 10,000 Services a config is about a megabyte, and a new one per
	// reconcile was a good part of the garbage the speaker made.
	text bytes.Buffer
	// lastValid holds the last frr.conf FRR took, which a conversion
	// error of the node router keeps in force.
	lastValid bytes.Buffer
	log       *slog.Logger
	// router merges the node's FRRConfigurations (noderouter.go);
	// routerState is what its FRRNodeState is to say.
	router      *nodeRouter
	routerState routerState
	nodeState   *nodeStateWriter
	// events records the warnings of conversion errors on the
	// FRRConfigurations; reportedConversion is the error last reported.
	events             eventRecorder
	reportedConversion string

	// l2 is the Layer 2 side; nil when disabled.
	l2 *l2Runtime
	// frrk8s writes the node's FRRConfiguration in frr-k8s mode; nil
	// otherwise.
	frrk8s *frrk8sWriter

	// model is the last valid configuration model.
	model *config.Model
	// configErr is the error of the last configuration seen, and
	// nodeConfigErr that of building this node's frr.conf from it.
	configErr, nodeConfigErr error
	// routerErr is the conversion error of the node's FRRConfigurations.
	routerErr error
	drain     drainClock
	// stopping is set when the speaker was told to stop: a planned
	// departure like a drain.
	stopping atomic.Bool

	// withdrawn is closed once FRR runs the withdrawn phase while the
	// speaker is stopping: Run's departure waits for it.
	withdrawn     chan struct{}
	closeWithdraw sync.Once

	// statuses writes the status objects after the reconciles, the
	// ServiceBGPStatus ones through bgpStatuses.
	statuses    *statusWriter
	bgpStatuses *bgpStatuses

	mu        sync.Mutex
	lastApply *v1beta1.ApplyResult
}

// errAgentNotListening: the FRR agent does not listen yet (its container
// is starting); Reconcile tries again after agentWait without reporting
// an error.
var errAgentNotListening = errors.New("waiting for the frr agent")

const agentWait = time.Second

// Reconcile is the whole speaker: read, decide, apply.
func (r *reconciler) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	cluster, err := r.readCluster(ctx)
	if err != nil {
		return reconcile.Result{}, err
	}
	defer r.reportConfigState(ctx)
	if cluster == nil {
		// No valid configuration was ever seen: nothing to announce yet.
		return reconcile.Result{}, nil
	}
	node, _ := cluster.Node(r.cfg.NodeName)
	ph, left := r.drain.step(r.cfg.Now(), node.Draining() || r.stopping.Load())

	var errs []error
	if r.l2 != nil {
		// First: a failover waits for nothing else.
		wake, err := r.reconcileL2(ctx, cluster)
		if err != nil {
			errs = append(errs, err)
		}
		if wake > 0 && (left == 0 || wake < left) {
			left = wake
		}
	}
	status := statusState{phase: ph}
	if r.cfg.FRR != nil {
		want, err := r.reconcileBGP(ctx, cluster, ph)
		if err != nil {
			errs = append(errs, err)
		}
		status.bgp = want
		if r.router != nil {
			rs := r.routerState
			status.router = &rs
		}
	}
	if r.cfg.FRRK8s != nil {
		want, err := r.reconcileFRRK8s(ctx, cluster, ph)
		if err != nil {
			errs = append(errs, err)
		}
		status.bgp = want
	}
	r.statuses.submit(status)
	if len(errs) == 1 && errors.Is(errs[0], errAgentNotListening) {
		return reconcile.Result{RequeueAfter: agentWait}, nil
	}
	if err := errors.Join(errs...); err != nil {
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: left}, nil
}

// readCluster lists the cluster state. An invalid configuration keeps the
// last valid model and is reported in the node's ConfigurationState.
func (r *reconciler) readCluster(ctx context.Context) (*state.Cluster, error) {
	objs, err := k8sconfig.Load(ctx, r.client, r.cfg.Namespace)
	if err != nil {
		return nil, err
	}
	model, buildErr := config.Build(objs)
	r.configErr = buildErr
	if buildErr != nil {
		r.metrics.configResult(false)
		r.log.Error("configuration invalid, keeping the last valid one", "error", buildErr)
	} else {
		r.metrics.configResult(true)
		// An unchanged configuration keeps its model: the store and the
		// frr.conf builder reuse their work only for the same model.
		if !reflect.DeepEqual(model, r.model) {
			r.model = model
		}
	}
	if r.model == nil {
		return nil, nil
	}
	var nodes corev1.NodeList
	// The cache's objects themselves, not copies: state.Nodes only
	// reads them.
	if err := r.client.List(ctx, &nodes, client.UnsafeDisableDeepCopy); err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	return &state.Cluster{Model: r.model, Nodes: state.Nodes(nodes.Items, r.cfg.NodeOptions), Services: r.store.Services(r.model)}, nil
}

// reconcileBGP renders the node's frr.conf and applies it. It returns
// the peers of each Service announced, for the ServiceBGPStatus objects;
// nil when nothing was applied.
func (r *reconciler) reconcileBGP(ctx context.Context, cluster *state.Cluster, ph frr.Phase) ([]frr.ServicePeers, error) {
	fc, err := r.build(cluster, r.cfg.NodeName, frr.BuildOptions{Phase: ph, RouterID: r.cfg.RouterID})
	r.nodeConfigErr = err
	if err != nil {
		// Peers that clash on this node: the user must fix them. FRR
		// keeps running the last configuration applied.
		r.log.Error("building frr.conf", "node", r.cfg.NodeName, "error", err)
		return nil, reconcile.TerminalError(err)
	}
	fc, err = r.route(ctx, cluster, fc, ph)
	if err != nil {
		return nil, r.keepLastValid(ctx, err)
	}
	r.text.Reset()
	if err := r.renderer.Write(&r.text, fc); err != nil {
		return nil, reconcile.TerminalError(err) // names the operation
	}
	res, applyErr := r.cfg.FRR.Apply(ctx, r.text.Bytes())
	r.recordApply(res, applyErr)
	r.recordRouterApply(res, applyErr)
	if errors.Is(applyErr, agent.ErrNotListening) {
		// The FRR container is still starting: not an error yet.
		r.log.Info("waiting for the frr agent", "node", r.cfg.NodeName)
		return nil, errAgentNotListening
	}
	if applyErr != nil {
		r.log.Error("applying frr.conf", "node", r.cfg.NodeName, "path", res.Path, "error", applyErr)
		return nil, fmt.Errorf("applying frr.conf: %w", applyErr)
	}
	r.log.Debug("frr.conf applied", "node", r.cfg.NodeName, "path", res.Path, "commands", res.Commands, "duration", res.Duration)
	// The text applied is the last valid configuration; the old one's
	// buffer takes the next render.
	r.text, r.lastValid = r.lastValid, r.text
	if ph == frr.PhaseWithdrawn && r.stopping.Load() {
		r.closeWithdraw.Do(func() { close(r.withdrawn) })
	}

	r.metrics.announced.Set(float64(len(fc.Announced)))
	r.metrics.speakerAnnounced.set(protocolBGP, bgpAnnouncements(cluster, fc.Announced))
	if fc.Announced == nil {
		return []frr.ServicePeers{}, nil // applied, announcing nothing
	}
	return fc.Announced, nil
}

func (r *reconciler) recordApply(res apply.Result, err error) {
	r.metrics.applyDuration.WithLabelValues(string(res.Path)).Observe(res.Duration.Seconds())
	out := &v1beta1.ApplyResult{
		Time:                 metav1.NewTime(r.cfg.Now()),
		Path:                 string(res.Path),
		Succeeded:            err == nil,
		DurationMilliseconds: res.Duration.Milliseconds(),
	}
	if res.Failure != nil {
		r.metrics.applyFailures.WithLabelValues(string(res.Failure.Stage)).Inc()
		out.Stage, out.Message = string(res.Failure.Stage), res.Failure.Message
	} else if err != nil {
		r.metrics.applyFailures.WithLabelValues("agent").Inc()
		out.Stage, out.Message = "agent", err.Error()
	}
	r.mu.Lock()
	r.lastApply = out
	r.mu.Unlock()
}

// appliedOnce reports whether the speaker has sent FRR a config (whether
// or not FRR took it).
func (r *reconciler) appliedOnce() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastApply != nil
}

// writeStatuses writes what a reconcile left for the status objects; the
// statusWriter calls it.
func (r *reconciler) writeStatuses(ctx context.Context, s statusState) error {
	var errs []error
	if s.bgp != nil {
		errs = append(errs, r.bgpStatuses.write(ctx, s.bgp))
	}
	if s.router != nil {
		errs = append(errs, r.nodeState.write(ctx, *s.router))
	}
	errs = append(errs, r.writeSpeakerStatus(ctx, s.phase))
	return errors.Join(errs...)
}

// writeSpeakerStatus records the phase and last apply in the node's
// SpeakerStatus.
func (r *reconciler) writeSpeakerStatus(ctx context.Context, ph frr.Phase) error {
	r.mu.Lock()
	last := r.lastApply.DeepCopy()
	r.mu.Unlock()
	return updateSpeakerStatus(ctx, r.client, r.cfg.Namespace, r.cfg.NodeName, func(st *v1beta1.SpeakerStatusStatus) {
		st.Phase = ph.String()
		if last != nil {
			st.LastApply = last
		}
	})
}

// updateSpeakerStatus creates the node's SpeakerStatus when missing and
// applies mutate to its status. The reconciler and the session poller
// both write it, so a conflict is retried on a fresh copy.
func updateSpeakerStatus(ctx context.Context, c client.Client, ns, node string, mutate func(*v1beta1.SpeakerStatusStatus)) error {
	key := client.ObjectKey{Namespace: ns, Name: node}
	obj := &v1beta1.SpeakerStatus{}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		err := c.Get(ctx, key, obj)
		if apierrors.IsNotFound(err) {
			// Create answers with the stored object: no read from a
			// cache that may not have it yet.
			obj = &v1beta1.SpeakerStatus{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: node, Labels: map[string]string{labelNode: node}}}
			if err := c.Create(ctx, obj); err != nil {
				return fmt.Errorf("creating: %w", err)
			}
		} else if err != nil {
			return err
		}
		before := obj.Status.DeepCopy()
		obj.Status.Node = node
		mutate(&obj.Status)
		if equality.Semantic.DeepEqual(before, &obj.Status) {
			return nil
		}
		return c.Status().Update(ctx, obj)
	})
	if err != nil {
		return fmt.Errorf("updating SpeakerStatus %s: %w", node, err)
	}
	return nil
}

// reportConfigState records in the node's ConfigurationState whether the
// configuration is valid: for the cluster as a whole, and for the peers
// that meet on this node.
func (r *reconciler) reportConfigState(ctx context.Context) {
	ref := k8sconfig.StateRef{Namespace: r.cfg.Namespace, Name: "speaker-" + r.cfg.NodeName, Component: "speaker", Node: r.cfg.NodeName, Owner: r.cfg.Owner, Reader: r.apiReader}
	if err := k8sconfig.ReportState(ctx, r.client, ref, errors.Join(r.configErr, r.nodeConfigErr, r.routerErr)); err != nil {
		r.log.Error("reporting configuration state", "error", err)
	}
}
