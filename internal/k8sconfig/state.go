package k8sconfig

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
}

// ReportState records in the component's ConfigurationState whether the
// configuration it last saw is valid (buildErr nil) or not, in which case
// the last valid one stays in force.
func ReportState(ctx context.Context, c client.Client, ref StateRef, buildErr error) error {
	labels := map[string]string{"metallb.io/component-type": ref.Component}
	if ref.Node != "" {
		labels["metallb.io/node-name"] = ref.Node
	}
	cs := &v1beta1.ConfigurationState{}
	key := client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}
	// Read first: this runs on every reconcile, and the object exists
	// but for the first time.
	err := c.Get(ctx, key, cs)
	if apierrors.IsNotFound(err) {
		// Create answers with the stored object: no read from a cache
		// that may not have it yet.
		cs = &v1beta1.ConfigurationState{ObjectMeta: metav1.ObjectMeta{Namespace: ref.Namespace, Name: ref.Name, Labels: labels}}
		if err = c.Create(ctx, cs); err != nil {
			return fmt.Errorf("creating ConfigurationState %s: %w", ref.Name, err)
		}
	} else if err != nil {
		return fmt.Errorf("reading ConfigurationState %s: %w", ref.Name, err)
	}
	want := cs.Status.DeepCopy()
	cond := metav1.Condition{Type: "ConfigurationValid", Status: metav1.ConditionTrue, Reason: "Valid", Message: "the configuration is valid and in force"}
	want.Result, want.LastError = v1beta1.ConfigurationStateResultValid, ""
	if buildErr != nil {
		want.Result, want.LastError = v1beta1.ConfigurationStateResultInvalid, buildErr.Error()
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
