package controller_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/controller"
	"github.com/ironlb/ironlb/internal/k8sconfig"
)

// TestConfigurationStateAsMetalLB reads the controller's
// ConfigurationState as a tool written for MetalLB v0.16 would: untyped,
// status.result and status.errorSummary, the ErrorSummary printer column,
// and an owner reference to the controller's Pod; a new Pod of the
// controller adds itself to the owners.
func TestConfigurationStateAsMetalLB(t *testing.T) {
	cl := newCluster(t, false)
	ctx := context.Background()
	owner := func(name string) metav1.OwnerReference {
		t.Helper()
		cl.create(&corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "controller", Image: "ironlb"}}},
		})
		ref, err := k8sconfig.PodOwner(ctx, cl.c, ns, name)
		if err != nil {
			t.Fatal(err)
		}
		return *ref
	}
	first := owner("ironlb-controller-1")
	cl.stopController()
	cl.owner = &first
	cl.startController()

	cl.create(pool("a", "192.0.2.0/28"))
	cl.create(pool("b", "192.0.2.8/29"))
	untyped := func() (*unstructured.Unstructured, error) {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(schema.GroupVersionKind{Group: "metallb.io", Version: "v1beta1", Kind: "ConfigurationState"})
		err := cl.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: controller.ConfigurationStateName}, u)
		return u, err
	}
	var got *unstructured.Unstructured
	cl.eventually("status.errorSummary naming the overlapping pool", func() (bool, string) {
		u, err := untyped()
		if err != nil {
			return false, err.Error()
		}
		got = u
		result, _, _ := unstructured.NestedString(u.Object, "status", "result")
		summary, _, _ := unstructured.NestedString(u.Object, "status", "errorSummary")
		return result == "Invalid" && strings.Contains(summary, `IPAddressPool "b"`), fmt.Sprintf("status %v", u.Object["status"])
	})
	if d := cmp.Diff([]metav1.OwnerReference{first}, got.GetOwnerReferences()); d != "" {
		t.Errorf("owners (-want +got):\n%s", d)
	}

	// The controller's next Pod adds itself; the first one's reference
	// stays until the garbage collector sees that Pod gone.
	second := owner("ironlb-controller-2")
	cl.stopController()
	cl.owner = &second
	cl.startController()
	if err := cl.c.Delete(ctx, pool("b")); err != nil {
		t.Fatal(err)
	}
	cl.eventually("a valid state owned by both Pods", func() (bool, string) {
		u, err := untyped()
		if err != nil {
			return false, err.Error()
		}
		result, _, _ := unstructured.NestedString(u.Object, "status", "result")
		_, hasSummary, _ := unstructured.NestedString(u.Object, "status", "errorSummary")
		owners := u.GetOwnerReferences()
		ok := result == "Valid" && !hasSummary && cmp.Equal([]metav1.OwnerReference{first, second}, owners)
		return ok, fmt.Sprintf("status %v owners %v", u.Object["status"], owners)
	})

	// kubectl get shows MetalLB's columns.
	crd := &unstructured.Unstructured{}
	crd.SetGroupVersionKind(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"})
	if err := cl.c.Get(ctx, client.ObjectKey{Name: "configurationstates.metallb.io"}, crd); err != nil {
		t.Fatal(err)
	}
	versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
	var columns []string
	for _, v := range versions {
		cols, _, _ := unstructured.NestedSlice(v.(map[string]any), "additionalPrinterColumns")
		for _, c := range cols {
			m := c.(map[string]any)
			columns = append(columns, fmt.Sprintf("%s=%s", m["name"], m["jsonPath"]))
		}
	}
	want := []string{"Result=.status.result", "ErrorSummary=.status.errorSummary", "Age=.metadata.creationTimestamp"}
	if d := cmp.Diff(want, columns); d != "" {
		t.Errorf("printer columns (-want +got):\n%s", d)
	}
}
