package lab

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"slices"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

func parseCert(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("no PEM block in %q", data)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatalf("parsing certificate: %v", err)
	}
	return c
}

func TestPKI(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ips := []net.IP{net.ParseIP(ControlPlaneIPv4), net.ParseIP("127.0.0.1")}
	m, err := newPKI(now, 24*time.Hour, ips, []string{"localhost"})
	if err != nil {
		t.Fatalf("newPKI: %v", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(parseCert(t, m.caCert))

	serving := parseCert(t, m.servingCert)
	for _, host := range []string{ControlPlaneIPv4, "127.0.0.1", "localhost"} {
		_, err := serving.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err != nil {
			t.Errorf("serving certificate for %s: %v", host, err)
		}
	}
	if _, err := serving.Verify(x509.VerifyOptions{DNSName: "192.0.2.1", Roots: roots, CurrentTime: now}); err == nil {
		t.Errorf("serving certificate verifies for 192.0.2.1, which it does not name")
	}

	admin := parseCert(t, m.adminCert)
	if _, err := admin.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin certificate: %v", err)
	}
	if !slices.Equal(admin.Subject.Organization, []string{"system:masters"}) {
		t.Errorf("admin organization = %q, want system:masters", admin.Subject.Organization)
	}
	if _, err := admin.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now.Add(25 * time.Hour)}); err == nil {
		t.Errorf("admin certificate verifies after validFor")
	}

	kc, err := m.kubeconfig("https://192.0.2.254:6443")
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		t.Fatalf("loading kubeconfig: %v", err)
	}
	if cfg.Host != "https://192.0.2.254:6443" || len(cfg.CAData) == 0 || len(cfg.CertData) == 0 || len(cfg.KeyData) == 0 {
		t.Errorf("kubeconfig: host %q, CA %d bytes, cert %d bytes, key %d bytes", cfg.Host, len(cfg.CAData), len(cfg.CertData), len(cfg.KeyData))
	}
}
