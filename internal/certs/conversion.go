package certs

import (
	"context"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// crdGVK is read as unstructured, so that the Manager's client needs no
// scheme with the apiextensions types.
var crdGVK = schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}

// ConversionFor returns the spec.conversion that sends a CRD's
// conversions to the webhook Service namespace/name at path, trusted with
// caBundle.
func ConversionFor(namespace, name, path string, caBundle []byte) apiextensionsv1.CustomResourceConversion {
	return apiextensionsv1.CustomResourceConversion{
		Strategy: apiextensionsv1.WebhookConverter,
		Webhook: &apiextensionsv1.WebhookConversion{
			ClientConfig: &apiextensionsv1.WebhookClientConfig{
				Service:  &apiextensionsv1.ServiceReference{Namespace: namespace, Name: name, Path: ptr.To(path), Port: ptr.To[int32](443)},
				CABundle: caBundle,
			},
			ConversionReviewVersions: []string{"v1"},
		},
	}
}

// injectConversion points the ConversionCRD's conversion at the webhook
// Service with caBundle, when it does not already.
func (m *Manager) injectConversion(ctx context.Context, caBundle []byte) error {
	if m.cfg.ConversionCRD == "" {
		return nil
	}
	crd := &unstructured.Unstructured{}
	crd.SetGroupVersionKind(crdGVK)
	if err := m.cfg.Kube.Get(ctx, client.ObjectKey{Name: m.cfg.ConversionCRD}, crd); err != nil {
		return fmt.Errorf("reading CustomResourceDefinition %s: %w", m.cfg.ConversionCRD, err)
	}
	want := ConversionFor(m.cfg.Namespace, m.cfg.ServiceName, m.cfg.ConversionPath, caBundle)
	var cur apiextensionsv1.CustomResourceConversion
	if raw, ok, _ := unstructured.NestedMap(crd.Object, "spec", "conversion"); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &cur); err != nil {
			return fmt.Errorf("reading CustomResourceDefinition %s: spec.conversion: %w", m.cfg.ConversionCRD, err)
		}
	}
	if equality.Semantic.DeepEqual(cur, want) {
		return nil
	}
	wantMap, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&want)
	if err != nil {
		return fmt.Errorf("encoding spec.conversion: %w", err)
	}
	orig := crd.DeepCopy()
	if err := unstructured.SetNestedMap(crd.Object, wantMap, "spec", "conversion"); err != nil {
		return fmt.Errorf("setting spec.conversion: %w", err)
	}
	patch := client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	if err := m.cfg.Kube.Patch(ctx, crd, patch); err != nil {
		return fmt.Errorf("patching CustomResourceDefinition %s: %w", m.cfg.ConversionCRD, err)
	}
	m.log.Info("conversion webhook injected", "crd", m.cfg.ConversionCRD, "strategy", string(cur.Strategy))
	return nil
}
