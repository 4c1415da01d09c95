package certs_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/internal/certs"
	"github.com/ironlb/ironlb/internal/testenv"
)

// TestManagerOnAPIServer runs a Manager against a real API server with a
// fake clock: it fills the Secret the chart creates empty, injects the CA
// bundle, renews the serving certificate and then the CA when they are
// due, repairs a lost CA bundle, and a second replica adopts the result.
func TestManagerOnAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test API server")
	}
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	k := env.Client
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNS}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: testSecret}},
		webhookConfig(),
	} {
		if err := k.Create(ctx, o); err != nil {
			t.Fatalf("creating %T: %v", o, err)
		}
	}
	v := certs.Validity{CA: 30 * 24 * time.Hour, Serving: 3 * 24 * time.Hour}
	clock := newFakeClock(t0)
	// A long resync makes every wake-up a renewal, except where the test
	// moves the clock by the resync on purpose.
	const resync = 10 * 24 * time.Hour
	m, dir := newManager(t, k, clock, func(c *certs.Config) { c.Validity, c.Resync = v, resync })

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- m.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	clock.WaitRegistered(t, 1)

	// state reads what the cluster and the folder hold, and checks that
	// they agree with each other.
	state := func(step string) certs.Bundle {
		t.Helper()
		b := certs.FromData(getSecret(t, k).Data)
		if d := certs.Decide(b, clock.Now(), names); d.Action != certs.Keep {
			t.Fatalf("%s: the secret's bundle is not valid: %s", step, d.Reason)
		}
		if got := getVWC(t, k).Webhooks[0].ClientConfig.CABundle; !bytes.Equal(got, b.CABundle) {
			t.Fatalf("%s: the webhook's CA bundle differs from the secret's", step)
		}
		cert, key := readFiles(t, dir)
		if !bytes.Equal(cert, b.Cert) || !bytes.Equal(key, b.Key) {
			t.Fatalf("%s: the certificate folder differs from the secret", step)
		}
		if err := verify(t, cert, getVWC(t, k).Webhooks[0].ClientConfig.CABundle, names[0], clock.Now()); err != nil {
			t.Fatalf("%s: the API server would not trust the served certificate: %v", step, err)
		}
		return b
	}
	first := state("first sync")

	// wake moves the clock to the Manager's next wake-up and waits until it
	// has synced and gone back to sleep.
	wake := func() {
		t.Helper()
		n := clock.Registered()
		next := clock.NextWake()
		if next.IsZero() {
			t.Fatal("the manager is not waiting")
		}
		clock.Set(next)
		clock.WaitRegistered(t, n+1)
	}

	wake()
	renewed := state("serving renewal")
	if bytes.Equal(renewed.Cert, first.Cert) {
		t.Fatal("the serving certificate was not renewed when due")
	}
	if !bytes.Equal(renewed.CABundle, first.CABundle) {
		t.Fatal("a serving renewal changed the CA")
	}

	// Someone drops the CA bundle; the next check puts it back.
	vwc := getVWC(t, k)
	vwc.Webhooks[0].ClientConfig.CABundle = nil
	if err := k.Update(ctx, vwc); err != nil {
		t.Fatalf("clearing the CA bundle: %v", err)
	}
	n := clock.Registered()
	clock.Set(clock.Now().Add(resync))
	clock.WaitRegistered(t, n+1)
	state("repair")

	// On to the CA renewal.
	b := renewed
	for i := 0; bytes.Equal(certs.FromData(getSecret(t, k).Data).CAKey, first.CAKey); i++ {
		if i > 20 {
			t.Fatal("the CA was not renewed")
		}
		wake()
		b = state("renewals")
	}
	if got := len(parseCerts(t, b.CABundle)); got != 2 {
		t.Fatalf("after the CA renewal the webhook trusts %d CAs, want 2 (new and previous)", got)
	}

	// A second replica adopts the Secret as it is.
	kc := &countingKube{Kube: k}
	m2, dir2 := newManager(t, kc, clock, func(c *certs.Config) { c.Validity = v })
	if _, err := m2.Sync(ctx); err != nil {
		t.Fatalf("second replica: %v", err)
	}
	cert2, _ := readFiles(t, dir2)
	if !bytes.Equal(cert2, b.Cert) || len(kc.writes) != 0 {
		t.Errorf("the second replica did not adopt the shared certificate (writes %q)", kc.writes)
	}
}

// TestReplicasRaceOnAPIServer starts two replicas' Managers at the same
// moment against one API server, over and over, with the Secret empty (as
// the chart creates it) or missing: both must succeed without an error,
// serve the same certificate, and leave the webhook configuration and the
// CRD conversion trusting the Secret's CA bundle.
func TestReplicasRaceOnAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test API server")
	}
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	k := env.Client
	for _, o := range []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNS}}, webhookConfig()} {
		if err := k.Create(ctx, o); err != nil {
			t.Fatalf("creating %T: %v", o, err)
		}
	}
	clock := newFakeClock(t0)
	for i := range 12 {
		// Each round starts from a Secret with no certificate: emptied on
		// even rounds, deleted on odd ones.
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: testSecret}}
		if err := k.Delete(ctx, sec); err != nil && !apierrors.IsNotFound(err) {
			t.Fatalf("round %d: deleting the secret: %v", i, err)
		}
		if i%2 == 0 {
			if err := k.Create(ctx, sec); err != nil {
				t.Fatalf("round %d: creating the empty secret: %v", i, err)
			}
		}
		var logs [2]bytes.Buffer
		var dirs [2]string
		var ms [2]*certs.Manager
		for r := range ms {
			ms[r], dirs[r] = newManager(t, k, clock, func(c *certs.Config) {
				c.ConversionCRD, c.ConversionPath = bgpPeerCRD, "/convert"
				c.Log = slog.New(slog.NewTextHandler(&logs[r], &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
		}
		start := make(chan struct{})
		var errs [2]error
		var wg sync.WaitGroup
		for r := range ms {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[r] = ms[r].Sync(ctx)
			}()
		}
		close(start)
		wg.Wait()
		for r := range ms {
			if errs[r] != nil {
				t.Errorf("round %d: replica %d: %v", i, r, errs[r])
			}
			if strings.Contains(logs[r].String(), "level=ERROR") {
				t.Errorf("round %d: replica %d logged an error:\n%s", i, r, logs[r].String())
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		b := certs.FromData(getSecret(t, k).Data)
		if d := certs.Decide(b, clock.Now(), names); d.Action != certs.Keep {
			t.Fatalf("round %d: the secret's bundle is not valid: %s", i, d.Reason)
		}
		for r, dir := range dirs {
			cert, key := readFiles(t, dir)
			if !bytes.Equal(cert, b.Cert) || !bytes.Equal(key, b.Key) {
				t.Fatalf("round %d: replica %d serves another certificate than the secret's", i, r)
			}
		}
		if got := getVWC(t, k).Webhooks[0].ClientConfig.CABundle; !bytes.Equal(got, b.CABundle) {
			t.Fatalf("round %d: the webhook's CA bundle differs from the secret's", i)
		}
		if _, got := getConversion(t, k); got.Webhook == nil || !bytes.Equal(got.Webhook.ClientConfig.CABundle, b.CABundle) {
			t.Fatalf("round %d: the CRD conversion's CA bundle differs from the secret's", i)
		}
	}
}

// afterFirstSecretRead runs between once, right after the first read of a
// Secret: another replica acting between this one's read and its writes.
type afterFirstSecretRead struct {
	certs.Kube
	between func()
}

func (k *afterFirstSecretRead) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	err := k.Kube.Get(ctx, key, obj, opts...)
	if _, ok := obj.(*corev1.Secret); ok && k.between != nil {
		f := k.between
		k.between = nil
		f()
	}
	return err
}

// TestStaleReplicaDoesNotUndoRotation: replica B reads the Secret, finds
// the certificate valid, and before it injects the CA bundle replica A
// renews the CA. B must not put its stale bundle back into the webhook
// configuration or the CRD conversion: the API server would no longer
// trust A's new certificate.
func TestStaleReplicaDoesNotUndoRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test API server")
	}
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	k := env.Client
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testNS}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: testSecret}},
		webhookConfig(),
	} {
		if err := k.Create(ctx, o); err != nil {
			t.Fatalf("creating %T: %v", o, err)
		}
	}
	conv := func(c *certs.Config) { c.ConversionCRD, c.ConversionPath = bgpPeerCRD, "/convert" }
	// A's clock is past the CA's renewal time, B's is not.
	clockA, clockB := newFakeClock(t0), newFakeClock(t0)
	a, _ := newManager(t, k, clockA, conv)
	if _, err := a.Sync(ctx); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	old := certs.FromData(getSecret(t, k).Data)
	clockA.Set(t0.Add(validity.CA * 3 / 4))
	kb := &afterFirstSecretRead{Kube: k, between: func() {
		if _, err := a.Sync(ctx); err != nil {
			t.Errorf("replica A renewing the CA: %v", err)
		}
	}}
	b, dirB := newManager(t, kb, clockB, conv)
	if _, err := b.Sync(ctx); err != nil {
		t.Fatalf("replica B: %v", err)
	}
	renewed := certs.FromData(getSecret(t, k).Data)
	if bytes.Equal(renewed.CAKey, old.CAKey) {
		t.Fatal("replica A did not renew the CA")
	}
	if got := getVWC(t, k).Webhooks[0].ClientConfig.CABundle; !bytes.Equal(got, renewed.CABundle) {
		t.Errorf("the webhook's CA bundle is not the renewed one (stale: %v)", bytes.Equal(got, old.CABundle))
	}
	if _, got := getConversion(t, k); got.Webhook == nil || !bytes.Equal(got.Webhook.ClientConfig.CABundle, renewed.CABundle) {
		t.Error("the CRD conversion's CA bundle is not the renewed one")
	}
	// B serves the certificate it read, which the renewed bundle still
	// trusts (the previous CA stays in it).
	cert, _ := readFiles(t, dirB)
	if err := verify(t, cert, renewed.CABundle, names[0], clockB.Now()); err != nil {
		t.Errorf("replica B's certificate is not trusted by the renewed bundle: %v", err)
	}
}
