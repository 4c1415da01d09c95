package certs_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ironlb/ironlb/internal/certs"
)

const (
	testNS      = "metallb-system"
	testSecret  = "ironlb-webhook-cert"
	testService = "ironlb-webhook"
	testVWC     = "ironlb-webhook"
)

// webhookConfig is a configuration with one webhook calling the test
// Service and one calling another, which must stay untouched.
func webhookConfig() *admissionregistrationv1.ValidatingWebhookConfiguration {
	none := admissionregistrationv1.SideEffectClassNone
	ignore := admissionregistrationv1.Ignore
	hook := func(name, svc string) admissionregistrationv1.ValidatingWebhook {
		path := "/validate-metallb-io"
		return admissionregistrationv1.ValidatingWebhook{
			Name:                    name,
			ClientConfig:            admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Namespace: testNS, Name: svc, Path: &path}},
			SideEffects:             &none,
			FailurePolicy:           &ignore,
			AdmissionReviewVersions: []string{"v1"},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{"metallb.io"}, APIVersions: []string{"v1beta1"}, Resources: []string{"ipaddresspools"}},
			}},
		}
	}
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: testVWC},
		Webhooks:   []admissionregistrationv1.ValidatingWebhook{hook("config.metallb.io", testService), hook("other.example.com", "other")},
	}
}

// countingKube counts the writes a Manager makes.
type countingKube struct {
	certs.Kube
	writes []string
}

func (k *countingKube) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	k.writes = append(k.writes, "create "+obj.GetName())
	return k.Kube.Create(ctx, obj, opts...)
}

func (k *countingKube) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	k.writes = append(k.writes, "update "+obj.GetName())
	return k.Kube.Update(ctx, obj, opts...)
}

func (k *countingKube) Patch(ctx context.Context, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
	k.writes = append(k.writes, "patch "+obj.GetName())
	return k.Kube.Patch(ctx, obj, p, opts...)
}

func fakeKube(t *testing.T, objs ...client.Object) *countingKube {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return &countingKube{Kube: fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()}
}

func newManager(t *testing.T, k certs.Kube, clock certs.Clock, mods ...func(*certs.Config)) (*certs.Manager, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "serving-certs")
	cfg := certs.Config{Kube: k, Namespace: testNS, SecretName: testSecret, ServiceName: testService, WebhookConfigName: testVWC, CertDir: dir, Validity: validity, Clock: clock}
	for _, m := range mods {
		m(&cfg)
	}
	m, err := certs.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, dir
}

func readFiles(t *testing.T, dir string) (cert, key []byte) {
	t.Helper()
	cert, err := os.ReadFile(filepath.Join(dir, "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	key, err = os.ReadFile(filepath.Join(dir, "tls.key"))
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func getSecret(t *testing.T, k certs.Kube) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := k.Get(context.Background(), client.ObjectKey{Namespace: testNS, Name: testSecret}, s); err != nil {
		t.Fatalf("reading secret: %v", err)
	}
	return s
}

func getVWC(t *testing.T, k certs.Kube) *admissionregistrationv1.ValidatingWebhookConfiguration {
	t.Helper()
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := k.Get(context.Background(), client.ObjectKey{Name: testVWC}, v); err != nil {
		t.Fatalf("reading webhook configuration: %v", err)
	}
	return v
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestSyncCreatesInjectsAndWrites(t *testing.T) {
	k := fakeKube(t, webhookConfig())
	m, dir := newManager(t, k, newFakeClock(t0), func(c *certs.Config) { c.Resync = time.Hour })
	if isClosed(m.Ready()) {
		t.Fatal("ready before the first sync")
	}
	wait, err := m.Sync(context.Background())
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if wait != time.Hour {
		t.Errorf("next check in %s, want the resync of 1h", wait)
	}
	if !isClosed(m.Ready()) {
		t.Error("not ready after a sync that wrote the files")
	}
	sec := getSecret(t, k)
	b := certs.FromData(sec.Data)
	if d := certs.Decide(b, t0, names); d.Action != certs.Keep {
		t.Fatalf("the secret's bundle is not valid: %s", d.Reason)
	}
	cert, key := readFiles(t, dir)
	if !bytes.Equal(cert, b.Cert) || !bytes.Equal(key, b.Key) {
		t.Error("the files differ from the secret")
	}
	vwc := getVWC(t, k)
	if !bytes.Equal(vwc.Webhooks[0].ClientConfig.CABundle, b.CABundle) {
		t.Error("the webhook calling the service did not get the CA bundle")
	}
	if len(vwc.Webhooks[1].ClientConfig.CABundle) != 0 {
		t.Error("the webhook calling another service got a CA bundle")
	}
	if d := cmp.Diff([]string{"create " + testSecret, "patch " + testVWC}, k.writes); d != "" {
		t.Errorf("writes (-want +got):\n%s", d)
	}

	// Nothing to do the second time.
	k.writes = nil
	if _, err := m.Sync(context.Background()); err != nil {
		t.Fatalf("second Sync: %v", err)
	}
	if len(k.writes) != 0 {
		t.Errorf("second sync wrote %q, want nothing", k.writes)
	}
}

func TestSyncFillsEmptySecret(t *testing.T) {
	empty := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: testSecret}, Data: map[string][]byte{"unrelated": []byte("x")}}
	k := fakeKube(t, webhookConfig(), empty)
	m, _ := newManager(t, k, newFakeClock(t0))
	if _, err := m.Sync(context.Background()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	sec := getSecret(t, k)
	if string(sec.Data["unrelated"]) != "x" {
		t.Error("an unrelated key of the secret was lost")
	}
	if d := cmp.Diff([]string{"update " + testSecret, "patch " + testVWC}, k.writes); d != "" {
		t.Errorf("writes (-want +got):\n%s", d)
	}
}

func TestSyncAdoptsValidSecret(t *testing.T) {
	b := issue(t, t0, validity, names)
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: testSecret}, Data: b.Data()}
	k := fakeKube(t, webhookConfig(), sec)
	m, dir := newManager(t, k, newFakeClock(t0.Add(time.Hour)))
	if _, err := m.Sync(context.Background()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	cert, _ := readFiles(t, dir)
	if !bytes.Equal(cert, b.Cert) {
		t.Error("a replica replaced a valid certificate instead of adopting it")
	}
	if d := cmp.Diff([]string{"patch " + testVWC}, k.writes); d != "" {
		t.Errorf("writes (-want +got):\n%s", d)
	}
}

func TestSyncWithoutWebhookConfiguration(t *testing.T) {
	k := fakeKube(t)
	m, dir := newManager(t, k, newFakeClock(t0))
	_, err := m.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "ValidatingWebhookConfiguration "+testVWC) {
		t.Fatalf("Sync: got %v, want an error naming the missing webhook configuration", err)
	}
	// The webhook server can still start.
	if !isClosed(m.Ready()) {
		t.Error("not ready although the files were written")
	}
	readFiles(t, dir)
}

func TestSyncNoMatchingWebhook(t *testing.T) {
	vwc := webhookConfig()
	vwc.Webhooks = vwc.Webhooks[1:]
	m, _ := newManager(t, fakeKube(t, vwc), newFakeClock(t0))
	_, err := m.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no webhook calling service "+testNS+"/"+testService) {
		t.Fatalf("Sync: got %v, want an error saying no webhook calls the service", err)
	}
}

func TestNewValidates(t *testing.T) {
	k := fakeKube(t)
	ok := certs.Config{Kube: k, Namespace: testNS, SecretName: testSecret, ServiceName: testService, CertDir: "/x"}
	tests := []struct {
		name    string
		mod     func(*certs.Config)
		wantErr string
	}{
		{name: "valid", mod: func(*certs.Config) {}},
		{name: "no webhook configuration is fine", mod: func(c *certs.Config) { c.WebhookConfigName = "" }},
		{name: "no client", mod: func(c *certs.Config) { c.Kube = nil }, wantErr: "client must be set"},
		{name: "no namespace", mod: func(c *certs.Config) { c.Namespace = "" }, wantErr: "namespace must be set"},
		{name: "no secret", mod: func(c *certs.Config) { c.SecretName = "" }, wantErr: "secret name must be set"},
		{name: "no service", mod: func(c *certs.Config) { c.ServiceName = "" }, wantErr: "service name must be set"},
		{name: "no folder", mod: func(c *certs.Config) { c.CertDir = "" }, wantErr: "certificate folder must be set"},
		{name: "negative validity", mod: func(c *certs.Config) { c.Validity.Serving = -time.Hour }, wantErr: "validity must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			_, err := certs.New(c)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if (tt.wantErr == "") != (err == nil) || !strings.Contains(got, tt.wantErr) {
				t.Errorf("New: got error %q, want one containing %q", got, tt.wantErr)
			}
		})
	}
}
