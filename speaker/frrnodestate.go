package speaker

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
)

// nodeStateWriter writes the node's FRRNodeState (cluster-scoped, named
// after the node, as frr-k8s makes it) when what it is to say changed.
// Only the status writer uses it.
type nodeStateWriter struct {
	client client.Client
	// reader reads the object from the API server: the speaker's cache
	// holds no FRRNodeStates (it would hold every node's).
	reader client.Reader
	node   string

	// mu serializes the writes of the status writer (what the reconciles
	// decided) and of the session poller (FRR's running config).
	mu sync.Mutex
	// state is the last routerState written, and running the last
	// running config read, already as the object holds it.
	state   routerState
	running string
	// written is what the object said after the last write that went
	// through, at writtenAt; nil when unknown. It is trusted for
	// fullEvery (by now), then the object is read again, which repairs
	// one that others changed or deleted.
	written   *frrk8s.FRRNodeStateStatus
	writtenAt time.Time
	fullEvery time.Duration
	now       func() time.Time
}

// write makes the FRRNodeState say s.
func (w *nodeStateWriter) write(ctx context.Context, s routerState) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.state = s
	return w.flush(ctx)
}

// setRunning records FRR's running config and writes it when it changed.
func (w *nodeStateWriter) setRunning(ctx context.Context, running string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.running = stateConfig([]byte(running))
	if w.state.conversion == "" {
		return nil // no reconcile got as far yet: nothing else to say
	}
	return w.flush(ctx)
}

// flush writes what the object is to say, if it changed; w.mu is held.
func (w *nodeStateWriter) flush(ctx context.Context) error {
	s := w.state
	want := frrk8s.FRRNodeStateStatus{
		DesiredConfig:        s.desired,
		RunningConfig:        w.running,
		LastConversionResult: s.conversion,
		LastReloadResult:     s.reload,
	}
	if w.written != nil && *w.written == want && w.now().Sub(w.writtenAt) < w.fullEvery {
		return nil
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj := &frrk8s.FRRNodeState{}
		err := w.reader.Get(ctx, client.ObjectKey{Name: w.node}, obj)
		if apierrors.IsNotFound(err) {
			obj = &frrk8s.FRRNodeState{ObjectMeta: metav1.ObjectMeta{Name: w.node}}
			if err := w.client.Create(ctx, obj); err != nil {
				return fmt.Errorf("creating: %w", err)
			}
		} else if err != nil {
			return err
		}
		if obj.Status == want {
			return nil
		}
		obj.Status = want
		return w.client.Status().Update(ctx, obj)
	})
	if err != nil {
		w.written = nil
		return fmt.Errorf("updating FRRNodeState %s: %w", w.node, err)
	}
	w.written, w.writtenAt = &want, w.now()
	return nil
}
