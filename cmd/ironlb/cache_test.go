package main

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestCacheStripsManagedFields checks that cached objects lose their
// managedFields and keep the rest.
func TestCacheStripsManagedFields(t *testing.T) {
	opts := namespacedCache("metallb-system")
	if opts.DefaultTransform == nil {
		t.Fatal("no transform")
	}
	in := &corev1.Service{ObjectMeta: metav1.ObjectMeta{
		Name: "web", Annotations: map[string]string{"a": "b"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate}},
	}}
	out, err := opts.DefaultTransform(in)
	if err != nil {
		t.Fatal(err)
	}
	svc := out.(*corev1.Service)
	if svc.ManagedFields != nil || svc.Name != "web" || svc.Annotations["a"] != "b" {
		t.Errorf("transformed = %+v, want the Service without managedFields", svc.ObjectMeta)
	}
}
