package k8sconfig

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
)

// StateRef names the ConfigurationState object a component reports to.
type StateRef struct {
	Namespace, Name string
	// Component is "controller" or "speaker".
	Component string
	// Node is the speaker's node; empty for the controller.
	Node string
	// Owner, when set, is added to the object's owner references (the
	// component's Pod, as MetalLB does), so that the garbage collector
	// removes the object once no component that wrote it is left.
	Owner *metav1.OwnerReference
	// Reader, when set, reads the object again after a write was refused
	// because the object changed (the manager's API reader: a cache may
	// still hold the version that was refused). Default: the client.
	Reader client.Reader
}

// PodOwner returns the owner reference to the Pod namespace/name, which
// it reads for its UID.
func PodOwner(ctx context.Context, r client.Reader, namespace, name string) (*metav1.OwnerReference, error) {
	var pod corev1.Pod
	if err := r.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &pod); err != nil {
		return nil, fmt.Errorf("reading own pod %s/%s: %w", namespace, name, err)
	}
	return &metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}, nil
}

// withOwner returns refs with owner added, and whether it was missing.
func withOwner(refs []metav1.OwnerReference, owner *metav1.OwnerReference) ([]metav1.OwnerReference, bool) {
	if owner == nil {
		return refs, false
	}
	for _, r := range refs {
		if r.UID == owner.UID {
			return refs, false
		}
	}
	return append(refs, *owner), true
}

// ReportState records in the component's ConfigurationState whether the
// configuration it last saw is valid (buildErr nil) or not, in which case
// the last valid one stays in force. The errors go into
// status.errorSummary, one per line.
//
// Others write the object too: the garbage collector drops the references
// to Pods that are gone. A write refused because the object changed since
// the read, or a create refused because it exists by now, is tried again
// on a fresh read (ref.Reader).
func ReportState(ctx context.Context, c client.Client, ref StateRef, buildErr error) error {
	r := client.Reader(c)
	changed := func(err error) bool { return apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) }
	return retry.OnError(retry.DefaultRetry, changed, func() error {
		err := reportState(ctx, c, r, ref, buildErr)
		if ref.Reader != nil {
			r = ref.Reader
		}
		return err
	})
}

// reportState is one read and write of ReportState, reading with r.
func reportState(ctx context.Context, c client.Client, r client.Reader, ref StateRef, buildErr error) error {
	labels := map[string]string{"metallb.io/component-type": ref.Component}
	if ref.Node != "" {
		labels["metallb.io/node-name"] = ref.Node
	}
	cs := &v1beta1.ConfigurationState{}
	key := client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}
	// Read first: this runs on every reconcile, and the object exists
	// but for the first time.
	err := r.Get(ctx, key, cs)
	if apierrors.IsNotFound(err) {
		// Create answers with the stored object: no read from a cache
		// that may not have it yet.
		owners, _ := withOwner(nil, ref.Owner)
		cs = &v1beta1.ConfigurationState{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name, Labels: labels, OwnerReferences: owners}}
		if err = c.Create(ctx, cs); err != nil {
			return fmt.Errorf("creating ConfigurationState %s: %w", ref.Name, err)
		}
	} else if err != nil {
		return fmt.Errorf("reading ConfigurationState %s: %w", ref.Name, err)
	}
	// A new Pod of the component (an upgrade, a restart) adds itself;
	// the garbage collector drops the references of Pods that are gone.
	if owners, added := withOwner(cs.OwnerReferences, ref.Owner); added {
		cs.OwnerReferences = owners
		if err := c.Update(ctx, cs); err != nil {
			return fmt.Errorf("setting the owner of ConfigurationState %s: %w", ref.Name, err)
		}
	}
	want := cs.Status.DeepCopy()
	cond := metav1.Condition{Type: "ConfigurationValid", Status: metav1.ConditionTrue, Reason: "Valid", Message: "the configuration is valid and in force"}
	want.Result, want.ErrorSummary = v1beta1.ConfigurationStateResultValid, ""
	if buildErr != nil {
		want.Result, want.ErrorSummary = v1beta1.ConfigurationStateResultInvalid, buildErr.Error()
		cond = metav1.Condition{Type: "ConfigurationValid", Status: metav1.ConditionFalse, Reason: "Invalid", Message: "the last valid configuration stays in force: " + buildErr.Error()}
	}
	meta.SetStatusCondition(&want.Conditions, cond)
	if equality.Semantic.DeepEqual(*want, cs.Status) {
		return nil
	}
	cs.Status = *want
	if err := c.Status().Update(ctx, cs); err != nil {
		return fmt.Errorf("updating ConfigurationState %s: %w", ref.Name, err)
	}
	return nil
}
