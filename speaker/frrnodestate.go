package speaker

import (
	"context"
	"fmt"

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
	// written is what the object said after the last write that went
	// through; nil when unknown.
	written *frrk8s.FRRNodeStateStatus
}

// write makes the FRRNodeState say s.
func (w *nodeStateWriter) write(ctx context.Context, s routerState) error {
	want := frrk8s.FRRNodeStateStatus{
		DesiredConfig:        s.desired,
		LastConversionResult: s.conversion,
		LastReloadResult:     s.reload,
	}
	if w.written != nil && *w.written == want {
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
	w.written = &want
	return nil
}
