package certs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/util/retry"
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
	want := ConversionFor(m.cfg.Namespace, m.cfg.ServiceName, m.cfg.ConversionPath, caBundle)
	superseded := func(ctx context.Context) (bool, error) { return m.superseded(ctx, caBundle) }
	return patchConversion(ctx, m.cfg.Kube, m.log, m.cfg.ConversionCRD, want, superseded)
}

// patchConversion sets the CRD's spec.conversion to want, when it differs
// and superseded (nil: never) does not say want is out of date. The patch
// is conditional on the CRD read; when another replica patched it in
// between, the CRD is read again.
func patchConversion(ctx context.Context, k Kube, log *slog.Logger, name string, want apiextensionsv1.CustomResourceConversion, superseded func(context.Context) (bool, error)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error { return tryPatchConversion(ctx, k, log, name, want, superseded) })
}

// tryPatchConversion is one read and conditional patch of patchConversion.
func tryPatchConversion(ctx context.Context, k Kube, log *slog.Logger, name string, want apiextensionsv1.CustomResourceConversion, superseded func(context.Context) (bool, error)) error {
	crd := &unstructured.Unstructured{}
	crd.SetGroupVersionKind(crdGVK)
	if err := k.Get(ctx, client.ObjectKey{Name: name}, crd); err != nil {
		return fmt.Errorf("reading CustomResourceDefinition %s: %w", name, err)
	}
	var cur apiextensionsv1.CustomResourceConversion
	if raw, ok, _ := unstructured.NestedMap(crd.Object, "spec", "conversion"); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &cur); err != nil {
			return fmt.Errorf("reading CustomResourceDefinition %s: spec.conversion: %w", name, err)
		}
	}
	if equality.Semantic.DeepEqual(cur, want) {
		return nil
	}
	if superseded != nil {
		if stale, err := superseded(ctx); err != nil || stale {
			return err
		}
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
	if err := k.Patch(ctx, crd, patch); err != nil {
		return fmt.Errorf("patching CustomResourceDefinition %s: %w", name, err)
	}
	log.Info("conversion webhook injected", "crd", name, "previousStrategy", string(cur.Strategy))
	return nil
}

// ConversionConfig configures a ConversionSync; NewConversionSync
// validates it once.
type ConversionConfig struct {
	// Kube reads and patches the CRD.
	Kube Kube
	// Namespace and ServiceName name the webhook Service.
	Namespace   string
	ServiceName string
	// CRD is the CustomResourceDefinition whose conversion is set.
	CRD string
	// Path is the conversion webhook's path.
	Path string
	// CAFile holds the PEM CA bundle that signed the webhook's
	// certificate: the ca.crt that cert-manager writes next to tls.crt.
	CAFile string
	// Resync is the time between two checks; default one minute.
	Resync time.Duration
	// Clock defaults to the system clock.
	Clock Clock
	// Log defaults to discard.
	Log *slog.Logger
}

// ConversionSync keeps a CRD's conversion pointed at the webhook Service,
// trusting the CA in a file, for when another tool (cert-manager) issues
// the webhook's certificate and no Manager runs.
type ConversionSync struct {
	cfg ConversionConfig
}

// NewConversionSync validates cfg and returns a ConversionSync.
func NewConversionSync(cfg ConversionConfig) (*ConversionSync, error) {
	var errs []error
	if cfg.Kube == nil {
		errs = append(errs, errors.New("a Kubernetes client must be set"))
	}
	for _, f := range []struct{ name, v string }{{"namespace", cfg.Namespace}, {"service name", cfg.ServiceName}, {"CRD", cfg.CRD}, {"path", cfg.Path}, {"CA file", cfg.CAFile}} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("%s must be set", f.name))
		}
	}
	if cfg.Resync == 0 {
		cfg.Resync = time.Minute
	}
	if cfg.Resync < 0 {
		errs = append(errs, errors.New("resync must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("conversion sync configuration: %w", err)
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &ConversionSync{cfg: cfg}, nil
}

// Sync reads the CA file and sets the CRD's conversion once.
func (c *ConversionSync) Sync(ctx context.Context) error {
	ca, err := os.ReadFile(c.cfg.CAFile)
	if err != nil {
		return fmt.Errorf("reading the webhook CA: %w", err)
	}
	if len(bytes.TrimSpace(ca)) == 0 {
		return fmt.Errorf("reading the webhook CA: %s is empty", c.cfg.CAFile)
	}
	want := ConversionFor(c.cfg.Namespace, c.cfg.ServiceName, c.cfg.Path, ca)
	return patchConversion(ctx, c.cfg.Kube, c.cfg.Log, c.cfg.CRD, want, nil)
}

// Run syncs every Resync until ctx ends, logging failures; it returns nil
// when ctx ends.
func (c *ConversionSync) Run(ctx context.Context) error {
	for {
		if err := c.Sync(ctx); err != nil && ctx.Err() == nil {
			c.cfg.Log.Error("conversion webhook sync failed", "crd", c.cfg.CRD, "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.cfg.Clock.After(c.cfg.Resync):
		}
	}
}
