package certs_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/internal/certs"
)

var (
	t0       = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	validity = certs.Validity{CA: 300 * 24 * time.Hour, Serving: 30 * 24 * time.Hour}
	names    = certs.DNSNames("ironlb-webhook", "metallb-system")
)

// issue makes a fresh bundle at now.
func issue(t testing.TB, now time.Time, v certs.Validity, dnsNames []string) certs.Bundle {
	t.Helper()
	b, err := certs.Issue(certs.Bundle{}, certs.Decision{Action: certs.IssueAll}, now, v, dnsNames)
	if err != nil {
		t.Fatalf("issuing: %v", err)
	}
	return b
}

func parseCerts(t testing.TB, data []byte) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			return out
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatalf("parsing certificate: %v", err)
		}
		out = append(out, c)
	}
}

// verify checks that the serving certificate in certPEM is trusted by
// caBundle for name at now, as the API server checks it.
func verify(t testing.TB, certPEM, caBundle []byte, name string, now time.Time) error {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caBundle) {
		t.Fatalf("no CA in bundle")
	}
	leaf := parseCerts(t, certPEM)[0]
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

func TestIssueAll(t *testing.T) {
	b := issue(t, t0, validity, names)
	if _, err := tls.X509KeyPair(b.Cert, b.Key); err != nil {
		t.Fatalf("serving pair: %v", err)
	}
	cas := parseCerts(t, b.CABundle)
	if len(cas) != 1 || !cas[0].IsCA || cas[0].MaxPathLen != 0 || !cas[0].MaxPathLenZero {
		t.Fatalf("CA bundle: want one CA that signs only leaves, got %d certs (IsCA %v)", len(cas), len(cas) > 0 && cas[0].IsCA)
	}
	if _, err := tls.X509KeyPair(b.CABundle, b.CAKey); err != nil {
		t.Fatalf("CA pair: %v", err)
	}
	leaf := parseCerts(t, b.Cert)[0]
	got := struct{ NotBefore, NotAfter, CANotAfter time.Time }{leaf.NotBefore, leaf.NotAfter, cas[0].NotAfter}
	want := struct{ NotBefore, NotAfter, CANotAfter time.Time }{t0.Add(-time.Hour), t0.Add(validity.Serving), t0.Add(validity.CA)}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("validity (-want +got):\n%s", d)
	}
	for _, n := range names {
		if err := verify(t, b.Cert, b.CABundle, n, t0); err != nil {
			t.Errorf("verifying for %s: %v", n, err)
		}
	}
	if err := verify(t, b.Cert, b.CABundle, "other.metallb-system.svc", t0); err == nil {
		t.Errorf("certificate verified for a name it was not issued for")
	}
	if err := verify(t, b.Cert, b.CABundle, names[0], t0.Add(validity.Serving+time.Second)); err == nil {
		t.Errorf("certificate verified after it expired")
	}
}

func TestServingNeverOutlivesCA(t *testing.T) {
	b := issue(t, t0, certs.Validity{CA: 10 * 24 * time.Hour, Serving: 90 * 24 * time.Hour}, names)
	leaf, ca := parseCerts(t, b.Cert)[0], parseCerts(t, b.CABundle)[0]
	if !leaf.NotAfter.Equal(ca.NotAfter) {
		t.Errorf("serving certificate expires %s, CA %s: want equal", leaf.NotAfter, ca.NotAfter)
	}
}

func TestDecide(t *testing.T) {
	base := issue(t, t0, validity, names)
	other := issue(t, t0, validity, names)
	// Renewal is due after two thirds of a lifetime, which starts an hour
	// early for clock skew.
	servingDue := t0.Add(-time.Hour).Add((validity.Serving + time.Hour) / 3 * 2)
	caDue := t0.Add(-time.Hour).Add((validity.CA + time.Hour) / 3 * 2)
	tests := []struct {
		name       string
		bundle     certs.Bundle
		now        time.Time
		names      []string
		want       certs.Action
		wantReason string
		// wantRenewAt is checked for Keep.
		wantRenewAt time.Time
	}{
		{name: "empty", bundle: certs.Bundle{}, now: t0, want: certs.IssueAll, wantReason: "no certificate yet"},
		{name: "garbage", bundle: certs.Bundle{CABundle: []byte("x"), CAKey: []byte("y"), Cert: []byte("z"), Key: []byte("w")}, now: t0, want: certs.IssueAll, wantReason: "unreadable"},
		{name: "part missing", bundle: certs.Bundle{CABundle: base.CABundle, CAKey: base.CAKey, Cert: base.Cert}, now: t0, want: certs.IssueAll, wantReason: "tls.key"},
		{name: "fresh", bundle: base, now: t0, want: certs.Keep, wantRenewAt: servingDue},
		{name: "just before serving renewal", bundle: base, now: servingDue.Add(-time.Second), want: certs.Keep, wantRenewAt: servingDue},
		{name: "serving due", bundle: base, now: servingDue, want: certs.IssueServing, wantReason: "serving certificate is due"},
		{name: "serving expired", bundle: base, now: t0.Add(validity.Serving + time.Hour), want: certs.IssueServing, wantReason: "due"},
		{name: "CA due", bundle: base, now: caDue, want: certs.IssueAll, wantReason: "CA is due"},
		{name: "names changed", bundle: base, now: t0, names: certs.DNSNames("ironlb-webhook", "other"), want: certs.IssueServing, wantReason: "want"},
		{name: "serving key swapped", bundle: certs.Bundle{CABundle: base.CABundle, CAKey: base.CAKey, Cert: base.Cert, Key: other.Key}, now: t0, want: certs.IssueServing, wantReason: "serving key does not match"},
		{name: "CA is a leaf", bundle: certs.Bundle{CABundle: base.Cert, CAKey: base.Key, Cert: base.Cert, Key: base.Key}, now: t0, want: certs.IssueAll, wantReason: "cannot sign"},
		{name: "CA key swapped", bundle: certs.Bundle{CABundle: base.CABundle, CAKey: other.CAKey, Cert: base.Cert, Key: base.Key}, now: t0, want: certs.IssueAll, wantReason: "CA key does not match"},
		{name: "serving from another CA", bundle: certs.Bundle{CABundle: base.CABundle, CAKey: base.CAKey, Cert: other.Cert, Key: other.Key}, now: t0, want: certs.IssueServing, wantReason: "not signed by the current CA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := tt.names
			if n == nil {
				n = names
			}
			got := certs.Decide(tt.bundle, tt.now, n)
			type result struct {
				Action  string
				RenewAt time.Time
			}
			want := result{Action: tt.want.String(), RenewAt: tt.wantRenewAt}
			if d := cmp.Diff(want, result{Action: got.Action.String(), RenewAt: got.RenewAt}); d != "" {
				t.Errorf("Decide (-want +got):\n%s\nreason: %s", d, got.Reason)
			}
			if !strings.Contains(got.Reason, tt.wantReason) {
				t.Errorf("reason %q does not mention %q", got.Reason, tt.wantReason)
			}
			if got.Action == certs.Keep {
				return
			}
			// Whatever Decide asks for, Issue's result is kept.
			next, err := certs.Issue(tt.bundle, got, tt.now, validity, n)
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			if d := certs.Decide(next, tt.now, n); d.Action != certs.Keep {
				t.Errorf("after Issue: %s (%s), want Keep", d.Action, d.Reason)
			}
			if got.Action == certs.IssueServing && string(next.CAKey) != string(tt.bundle.CAKey) {
				t.Errorf("IssueServing changed the CA")
			}
		})
	}
}

// TestCARotationKeepsTrust walks a bundle through a CA renewal: the old
// serving certificate, still served by replicas that have not reloaded,
// stays trusted until the old CA expires, and the old CA then leaves the
// bundle.
func TestCARotationKeepsTrust(t *testing.T) {
	v := certs.Validity{CA: 90 * 24 * time.Hour, Serving: 60 * 24 * time.Hour}
	b1 := issue(t, t0, v, names)
	now := t0
	b := b1
	rotatedAt := time.Time{}
	for range 20 {
		d := certs.Decide(b, now, names)
		if d.Action == certs.Keep {
			now = d.RenewAt
			continue
		}
		next, err := certs.Issue(b, d, now, v, names)
		if err != nil {
			t.Fatalf("Issue at %s: %v", now, err)
		}
		if d.Action == certs.IssueAll && rotatedAt.IsZero() {
			rotatedAt = now
			if got := len(parseCerts(t, next.CABundle)); got != 2 {
				t.Fatalf("after the CA rotation the bundle holds %d CAs, want 2", got)
			}
			if err := verify(t, b1.Cert, next.CABundle, names[0], now); err != nil {
				t.Errorf("the previous serving certificate is no longer trusted right after the CA rotation: %v", err)
			}
		}
		if err := verify(t, next.Cert, next.CABundle, names[0], now); err != nil {
			t.Fatalf("new certificate at %s not trusted: %v", now, err)
		}
		b = next
		if !rotatedAt.IsZero() && now.After(t0.Add(v.CA)) {
			break
		}
	}
	if rotatedAt.IsZero() {
		t.Fatal("the CA was never renewed")
	}
	if got := len(parseCerts(t, b.CABundle)); got != 1 {
		t.Errorf("after the old CA expired the bundle holds %d CAs, want 1", got)
	}
}

func FuzzDecide(f *testing.F) {
	b := issue(f, t0, validity, names)
	f.Add(b.CABundle, b.CAKey, b.Cert, b.Key)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), b.CAKey, b.Cert, b.Key)
	f.Add(b.Cert, b.Key, b.Cert, b.Key)
	f.Fuzz(func(t *testing.T, caBundle, caKey, cert, key []byte) {
		in := certs.Bundle{CABundle: caBundle, CAKey: caKey, Cert: cert, Key: key}
		d := certs.Decide(in, t0, names)
		if d.Action == certs.Keep {
			return
		}
		next, err := certs.Issue(in, d, t0, validity, names)
		if err != nil {
			t.Fatalf("Issue after %s (%s): %v", d.Action, d.Reason, err)
		}
		if d := certs.Decide(next, t0, names); d.Action != certs.Keep {
			t.Fatalf("issued bundle not kept: %s", d.Reason)
		}
	})
}
