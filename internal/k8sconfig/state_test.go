package k8sconfig_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/internal/k8sconfig"
	"github.com/ironlb/ironlb/internal/testenv"
)

// interleavingClient runs between once, right after the first read of a
// ConfigurationState: another writer changing the object between
// ReportState's read and its write.
type interleavingClient struct {
	client.Client
	between func()
}

func (c *interleavingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	err := c.Client.Get(ctx, key, obj, opts...)
	if _, ok := obj.(*v1beta1.ConfigurationState); ok && c.between != nil {
		f := c.between
		c.between = nil
		f()
	}
	return err
}

// TestReportStateConcurrentWriter: another writer (the garbage collector
// dropping the reference to a Pod that is gone, another component)
// updates the ConfigurationState between ReportState's read and write, on
// a real API server. ReportState must read it again and succeed, keeping
// the other writer's change.
func TestReportStateConcurrentWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test API server")
	}
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	k := env.Client
	const ns = "metallb-system"
	if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	pod := func(name string) metav1.OwnerReference {
		return metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: name, UID: types.UID(name + "-uid")}
	}
	gone, self := pod("speaker-old"), pod("speaker-new")
	for _, tc := range []struct {
		name string
		// owners are the object's owners before the report.
		owners []metav1.OwnerReference
		// buildErr is what the report says.
		buildErr   error
		wantResult v1beta1.ConfigurationStateResult
	}{
		// The new Pod adds itself: its owner update races the collector.
		{name: "owner added", owners: []metav1.OwnerReference{gone}, buildErr: errors.New("pool a: bad CIDR"), wantResult: v1beta1.ConfigurationStateResultInvalid},
		// The owner is in place: the status update races the collector.
		{name: "status only", owners: []metav1.OwnerReference{gone, self}, buildErr: nil, wantResult: v1beta1.ConfigurationStateResultValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "speaker-" + strings.ToLower(string(tc.wantResult))
			cs := &v1beta1.ConfigurationState{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, OwnerReferences: tc.owners}}
			if err := k.Create(ctx, cs); err != nil {
				t.Fatal(err)
			}
			c := &interleavingClient{Client: k, between: func() {
				// The garbage collector drops the reference to the Pod
				// that is gone.
				cur := &v1beta1.ConfigurationState{}
				if err := k.Get(ctx, client.ObjectKeyFromObject(cs), cur); err != nil {
					t.Errorf("other writer: %v", err)
					return
				}
				var keep []metav1.OwnerReference
				for _, o := range cur.OwnerReferences {
					if o.UID != gone.UID {
						keep = append(keep, o)
					}
				}
				cur.OwnerReferences = keep
				if err := k.Update(ctx, cur); err != nil {
					t.Errorf("other writer: %v", err)
				}
			}}
			ref := k8sconfig.StateRef{Namespace: ns, Name: name, Component: "speaker", Node: "node-a", Owner: &self, Reader: k}
			if err := k8sconfig.ReportState(ctx, c, ref, tc.buildErr); err != nil {
				t.Fatalf("ReportState: %v", err)
			}
			got := &v1beta1.ConfigurationState{}
			if err := k.Get(ctx, client.ObjectKeyFromObject(cs), got); err != nil {
				t.Fatal(err)
			}
			if got.Status.Result != tc.wantResult {
				t.Errorf("result %q, want %q", got.Status.Result, tc.wantResult)
			}
			if len(got.OwnerReferences) != 1 || got.OwnerReferences[0].UID != self.UID {
				t.Errorf("owners %v, want only %s (the collector's removal kept, the own Pod added)", got.OwnerReferences, self.Name)
			}
		})
	}
}
