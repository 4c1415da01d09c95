package certs_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/internal/certs"
	"github.com/ironlb/ironlb/internal/testenv"
)

const bgpPeerCRD = "bgppeers.metallb.io"

// getConversion reads the BGPPeer CRD's spec.conversion.
func getConversion(t *testing.T, k client.Client) (*unstructured.Unstructured, apiextensionsv1.CustomResourceConversion) {
	t.Helper()
	crd := &unstructured.Unstructured{}
	crd.SetAPIVersion("apiextensions.k8s.io/v1")
	crd.SetKind("CustomResourceDefinition")
	if err := k.Get(context.Background(), client.ObjectKey{Name: bgpPeerCRD}, crd); err != nil {
		t.Fatalf("reading CRD: %v", err)
	}
	var conv apiextensionsv1.CustomResourceConversion
	raw, _, _ := unstructured.NestedMap(crd.Object, "spec", "conversion")
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &conv); err != nil {
		t.Fatalf("decoding spec.conversion: %v", err)
	}
	return crd, conv
}

// TestConversionInjectedIntoCRD: the BGPPeer CRD ships with no conversion
// webhook; a Manager with ConversionCRD points it at the webhook Service
// with the CA bundle, and puts it back when someone re-applies the CRD
// file.
func TestConversionInjectedIntoCRD(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test API server")
	}
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	k := env.Client
	if err := k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNS}}); err != nil {
		t.Fatal(err)
	}
	if _, conv := getConversion(t, k); conv.Strategy != apiextensionsv1.NoneConverter {
		t.Fatalf("the CRD file's conversion is %q, want None", conv.Strategy)
	}
	kc := &countingKube{Kube: k}
	m, _ := newManager(t, kc, newFakeClock(t0), func(c *certs.Config) {
		c.WebhookConfigName = ""
		c.ConversionCRD, c.ConversionPath = bgpPeerCRD, "/convert"
	})
	check := func(step string) {
		t.Helper()
		if _, err := m.Sync(ctx); err != nil {
			t.Fatalf("%s: Sync: %v", step, err)
		}
		b := certs.FromData(getSecret(t, k).Data)
		_, got := getConversion(t, k)
		want := certs.ConversionFor(testNS, testService, "/convert", b.CABundle)
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("%s: spec.conversion (-want +got):\n%s", step, d)
		}
	}
	check("first sync")

	// kubectl apply of the CRD file puts the conversion back to None.
	crd, _ := getConversion(t, k)
	if err := unstructured.SetNestedMap(crd.Object, map[string]any{"strategy": "None"}, "spec", "conversion"); err != nil {
		t.Fatal(err)
	}
	if err := k.Update(ctx, crd); err != nil {
		t.Fatalf("resetting the conversion: %v", err)
	}
	check("repair")

	// Nothing to do: no write.
	kc.writes = nil
	check("steady")
	if len(kc.writes) != 0 {
		t.Errorf("a sync with nothing to change wrote %q", kc.writes)
	}
}

// TestConversionSyncFromCAFile: with cert-manager issuing the certificate,
// the CRD's conversion trusts the ca.crt it writes, and follows it when it
// changes.
func TestConversionSyncFromCAFile(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test API server")
	}
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	s, err := certs.NewConversionSync(certs.ConversionConfig{
		Kube: env.Client, Namespace: testNS, ServiceName: testService, CRD: bgpPeerCRD, Path: "/convert", CAFile: caFile,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(ctx); err == nil || !strings.Contains(err.Error(), "reading the webhook CA") {
		t.Fatalf("Sync without a CA file: %v, want an error naming the CA", err)
	}
	for _, b := range []certs.Bundle{issue(t, t0, validity, names), issue(t, t0, validity, names)} {
		ca := b.CABundle
		if err := os.WriteFile(caFile, ca, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.Sync(ctx); err != nil {
			t.Fatalf("Sync: %v", err)
		}
		_, got := getConversion(t, env.Client)
		if d := cmp.Diff(certs.ConversionFor(testNS, testService, "/convert", ca), got); d != "" {
			t.Fatalf("spec.conversion (-want +got):\n%s", d)
		}
	}
}

func TestNewConversionSyncValidates(t *testing.T) {
	_, err := certs.NewConversionSync(certs.ConversionConfig{Resync: -1})
	for _, want := range []string{"client", "namespace", "service name", "CRD", "path", "CA file", "resync"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}
