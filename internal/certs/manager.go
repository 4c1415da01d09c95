package certs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Kube is what a Manager needs from a Kubernetes client. It must read
// from the API server, not from a cache: replicas share the Secret and
// must see each other's writes.
type Kube interface {
	Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error
	Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error
	Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error
	Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error
}

// Clock is the Manager's time source.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config configures a Manager; New validates it once.
type Config struct {
	// Kube reads and writes the Secret and the webhook configuration.
	Kube Kube
	// Namespace holds the Secret and the webhook Service.
	Namespace string
	// SecretName is the Secret that holds the CA and the serving
	// certificate. It is created when missing (the Helm chart creates it
	// empty, so that the controller needs no right to create Secrets).
	SecretName string
	// ServiceName is the webhook's Service; the certificate is for its
	// DNS names (see DNSNames).
	ServiceName string
	// WebhookConfigName is the ValidatingWebhookConfiguration whose
	// webhooks calling ServiceName get the CA bundle. Empty: none.
	WebhookConfigName string
	// ConversionCRD is a CustomResourceDefinition whose spec.conversion
	// the Manager points at the webhook Service (ConversionPath, port 443)
	// with the CA bundle. The CRD ships with no conversion webhook, since
	// Helm cannot template the CRDs it installs. Empty: none.
	ConversionCRD string
	// ConversionPath is the path of the conversion webhook; required with
	// ConversionCRD.
	ConversionPath string
	// CertDir receives tls.crt and tls.key for the webhook server.
	CertDir string
	// Validity of issued certificates; zero fields take DefaultValidity's.
	Validity Validity
	// Resync is the longest time between two checks, which also repairs a
	// webhook configuration that lost its CA bundle. Default one minute.
	Resync time.Duration
	// Clock defaults to the system clock.
	Clock Clock
	// Log receives what the Manager does; default discard.
	Log *slog.Logger
}

// DefaultValidity is two years for the CA and 90 days for the serving
// certificate; each is renewed after two thirds of its lifetime.
func DefaultValidity() Validity {
	return Validity{CA: 2 * 365 * 24 * time.Hour, Serving: 90 * 24 * time.Hour}
}

// retryMin is the first wait after a failed sync; it doubles up to Resync.
const retryMin = time.Second

// Manager keeps the webhook's certificate valid. Run it in every replica.
type Manager struct {
	cfg       Config
	dnsNames  []string
	log       *slog.Logger
	ready     chan struct{}
	readyOnce sync.Once
}

// New validates cfg and returns a Manager.
func New(cfg Config) (*Manager, error) {
	var errs []error
	if cfg.Kube == nil {
		errs = append(errs, errors.New("a Kubernetes client must be set"))
	}
	for _, f := range []struct{ name, v string }{{"namespace", cfg.Namespace}, {"secret name", cfg.SecretName}, {"service name", cfg.ServiceName}, {"certificate folder", cfg.CertDir}} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("%s must be set", f.name))
		}
	}
	if cfg.ConversionCRD != "" && cfg.ConversionPath == "" {
		errs = append(errs, errors.New("conversion path must be set with a conversion CRD"))
	}
	def := DefaultValidity()
	if cfg.Validity.CA == 0 {
		cfg.Validity.CA = def.CA
	}
	if cfg.Validity.Serving == 0 {
		cfg.Validity.Serving = def.Serving
	}
	if cfg.Validity.CA < 0 || cfg.Validity.Serving < 0 {
		errs = append(errs, errors.New("validity must be positive"))
	}
	if cfg.Resync == 0 {
		cfg.Resync = time.Minute
	}
	if cfg.Resync < 0 {
		errs = append(errs, errors.New("resync must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("certificate manager configuration: %w", err)
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Manager{
		cfg:      cfg,
		dnsNames: DNSNames(cfg.ServiceName, cfg.Namespace),
		log:      cfg.Log.With("secret", cfg.Namespace+"/"+cfg.SecretName),
		ready:    make(chan struct{}),
	}, nil
}

// Ready is closed once the certificate folder holds a certificate, so the
// webhook server can start.
func (m *Manager) Ready() <-chan struct{} { return m.ready }

// Run syncs until ctx ends: again when the certificates are due for
// renewal, at least every Resync, and after a failure with a growing
// delay. It returns nil when ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	var backoff time.Duration
	for {
		wait, err := m.Sync(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			backoff = min(max(2*backoff, retryMin), m.cfg.Resync)
			wait = backoff
			m.log.Error("webhook certificate sync failed", "error", err, "retryIn", backoff)
		} else {
			backoff = 0
		}
		select {
		case <-ctx.Done():
			return nil
		case <-m.cfg.Clock.After(wait):
		}
	}
}

// Sync brings the Secret, the webhook configuration and the certificate
// folder in line once. It returns how long until the next check.
func (m *Manager) Sync(ctx context.Context) (time.Duration, error) {
	b, d, err := m.syncSecret(ctx)
	if err != nil {
		return 0, err
	}
	// The CA bundle goes out before the files change, so the API server
	// already trusts a new CA when this replica starts serving from it.
	injectErr := errors.Join(m.inject(ctx, b.CABundle), m.injectConversion(ctx, b.CABundle))
	if err := writeFiles(m.cfg.CertDir, b); err != nil {
		return 0, errors.Join(injectErr, err)
	}
	m.readyOnce.Do(func() { close(m.ready) })
	wait := m.cfg.Resync
	if until := d.RenewAt.Sub(m.cfg.Clock.Now()); until < wait {
		wait = max(until, 0)
	}
	return wait, injectErr
}

// writeAttempts bounds how often syncSecret re-reads the Secret after
// another replica wrote it first.
const writeAttempts = 5

// syncSecret reads the Secret, issues what Decide asks for and writes it
// back. It returns the bundle in force and its (Keep) decision.
//
// Every replica runs it, so writes race. Both writes are conditional: a
// create fails when the Secret exists, an update when its resourceVersion
// changed since the read. The loser re-reads the Secret and adopts what
// the winner wrote, so all replicas converge on one certificate without
// an error.
func (m *Manager) syncSecret(ctx context.Context) (Bundle, Decision, error) {
	key := client.ObjectKey{Namespace: m.cfg.Namespace, Name: m.cfg.SecretName}
	for attempt := 1; ; attempt++ {
		b, d, err := m.trySyncSecret(ctx, key)
		if err == nil {
			return b, d, nil
		}
		if !(apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)) || attempt == writeAttempts {
			return Bundle{}, Decision{}, err
		}
		m.log.Debug("another replica wrote the webhook certificate first, reading it again", "reason", err)
	}
}

// trySyncSecret is one read, decision and conditional write of
// syncSecret.
func (m *Manager) trySyncSecret(ctx context.Context, key client.ObjectKey) (Bundle, Decision, error) {
	sec := &corev1.Secret{}
	create := false
	if err := m.cfg.Kube.Get(ctx, key, sec); err != nil {
		if !apierrors.IsNotFound(err) {
			return Bundle{}, Decision{}, fmt.Errorf("reading secret %s: %w", key, err)
		}
		create = true
		sec = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}, Type: corev1.SecretTypeOpaque}
	}
	now := m.cfg.Clock.Now()
	cur := FromData(sec.Data)
	d := Decide(cur, now, m.dnsNames)
	if d.Action == Keep {
		m.log.Debug("webhook certificate valid", "renewAt", d.RenewAt)
		return cur, d, nil
	}
	next, err := Issue(cur, d, now, m.cfg.Validity, m.dnsNames)
	if err != nil {
		return Bundle{}, Decision{}, fmt.Errorf("issuing webhook certificate: %w", err)
	}
	if sec.Data == nil {
		sec.Data = map[string][]byte{}
	}
	for k, v := range next.Data() {
		sec.Data[k] = v
	}
	if create {
		err = m.cfg.Kube.Create(ctx, sec)
	} else {
		// sec carries the resourceVersion of the read: the update is
		// refused when another replica wrote in between.
		err = m.cfg.Kube.Update(ctx, sec)
	}
	if err != nil {
		return Bundle{}, Decision{}, fmt.Errorf("writing secret %s: %w", key, err)
	}
	kept := Decide(next, now, m.dnsNames)
	if kept.Action != Keep {
		return Bundle{}, Decision{}, fmt.Errorf("issued certificate rejected: %s", kept.Reason)
	}
	m.log.Info("webhook certificate issued", "action", d.Action.String(), "reason", d.Reason, "renewAt", kept.RenewAt)
	return next, kept, nil
}

// inject puts caBundle into the webhooks of the configuration that call
// the webhook Service. The patch is conditional on the configuration read;
// when another replica patched it in between, inject reads it again (and
// then usually finds the bundle already in place). It patches nothing
// when the Secret no longer holds caBundle (see superseded).
func (m *Manager) inject(ctx context.Context, caBundle []byte) error {
	if m.cfg.WebhookConfigName == "" {
		return nil
	}
	return retry.RetryOnConflict(retry.DefaultRetry, func() error { return m.tryInject(ctx, caBundle) })
}

// tryInject is one read and conditional patch of inject.
func (m *Manager) tryInject(ctx context.Context, caBundle []byte) error {
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	if err := m.cfg.Kube.Get(ctx, client.ObjectKey{Name: m.cfg.WebhookConfigName}, vwc); err != nil {
		return fmt.Errorf("reading ValidatingWebhookConfiguration %s: %w", m.cfg.WebhookConfigName, err)
	}
	orig := vwc.DeepCopy()
	matched, changed := 0, 0
	for i := range vwc.Webhooks {
		svc := vwc.Webhooks[i].ClientConfig.Service
		if svc == nil || svc.Namespace != m.cfg.Namespace || svc.Name != m.cfg.ServiceName {
			continue
		}
		matched++
		if !bytes.Equal(vwc.Webhooks[i].ClientConfig.CABundle, caBundle) {
			vwc.Webhooks[i].ClientConfig.CABundle = caBundle
			changed++
		}
	}
	if matched == 0 {
		return fmt.Errorf("ValidatingWebhookConfiguration %s has no webhook calling service %s/%s", m.cfg.WebhookConfigName, m.cfg.Namespace, m.cfg.ServiceName)
	}
	if changed == 0 {
		return nil
	}
	if stale, err := m.superseded(ctx, caBundle); err != nil || stale {
		return err
	}
	patch := client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})
	if err := m.cfg.Kube.Patch(ctx, vwc, patch); err != nil {
		return fmt.Errorf("patching ValidatingWebhookConfiguration %s: %w", m.cfg.WebhookConfigName, err)
	}
	m.log.Info("webhook CA bundle injected", "webhookConfiguration", m.cfg.WebhookConfigName, "webhooks", changed)
	return nil
}

// superseded reports whether the Secret no longer holds caBundle: another
// replica renewed the CA since this one read it, and injects the new
// bundle itself. A patch with caBundle would drop the new CA, and the API
// server would stop trusting that replica's certificate. It is read after
// the object to patch and before the patch, which is conditional on that
// read: a replica that renews writes the Secret before it patches, so
// either this read sees the renewal, or the renewing replica's patch
// comes later, or it conflicts with this one and is read again.
func (m *Manager) superseded(ctx context.Context, caBundle []byte) (bool, error) {
	key := client.ObjectKey{Namespace: m.cfg.Namespace, Name: m.cfg.SecretName}
	sec := &corev1.Secret{}
	if err := m.cfg.Kube.Get(ctx, key, sec); err != nil {
		return false, fmt.Errorf("reading secret %s: %w", key, err)
	}
	if cur := FromData(sec.Data).CABundle; !bytes.Equal(cur, caBundle) {
		m.log.Debug("another replica changed the webhook CA bundle; leaving its injection to it")
		return true, nil
	}
	return false, nil
}
