package lab

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Files of the lab's PKI, in the state folder's pki/.
const (
	caCertFile     = "ca.crt"
	servingCert    = "apiserver.crt"
	servingKey     = "apiserver.key"
	adminCert      = "admin.crt"
	adminKey       = "admin.key"
	saSigningKey   = "sa.key"
	saVerifyingKey = "sa.pub"
)

// pkiMaterial is the lab's certificates and keys, PEM encoded.
type pkiMaterial struct {
	caCert      []byte
	servingCert []byte
	servingKey  []byte
	adminCert   []byte
	adminKey    []byte
	saKey       []byte
	saPub       []byte
}

// newPKI makes a CA, the API server's serving certificate for the given
// addresses and names, an admin client certificate (system:masters) and
// the service account key pair. Certificates are valid from now-1h for
// validFor.
func newPKI(now time.Time, validFor time.Duration, ips []net.IP, names []string) (*pkiMaterial, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "ironlb-lab-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, caParsed, err := signCert(caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("signing CA certificate: %w", err)
	}
	m := &pkiMaterial{caCert: pemBlock("CERTIFICATE", caDER)}

	leaf := func(tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		tmpl.NotBefore = now.Add(-time.Hour)
		tmpl.NotAfter = now.Add(validFor)
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		der, _, err := signCert(tmpl, caParsed, &key.PublicKey, caKey)
		if err != nil {
			return nil, nil, err
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			return nil, nil, err
		}
		return pemBlock("CERTIFICATE", der), pemBlock("EC PRIVATE KEY", keyDER), nil
	}
	m.servingCert, m.servingKey, err = leaf(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: ips,
		DNSNames:    names,
	})
	if err != nil {
		return nil, fmt.Errorf("making serving certificate: %w", err)
	}
	m.adminCert, m.adminKey, err = leaf(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "lab-admin", Organization: []string{"system:masters"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, fmt.Errorf("making admin certificate: %w", err)
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating service account key: %w", err)
	}
	saKeyDER, err := x509.MarshalECPrivateKey(saKey)
	if err != nil {
		return nil, fmt.Errorf("encoding service account key: %w", err)
	}
	saPubDER, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encoding service account public key: %w", err)
	}
	m.saKey = pemBlock("EC PRIVATE KEY", saKeyDER)
	m.saPub = pemBlock("PUBLIC KEY", saPubDER)
	return m, nil
}

func signCert(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) ([]byte, *x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, nil, err
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	return der, parsed, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// write stores the material in dir, keys readable by root only.
func (m *pkiMaterial) write(dir string) error {
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{caCertFile, m.caCert, 0o644},
		{servingCert, m.servingCert, 0o644},
		{servingKey, m.servingKey, 0o600},
		{adminCert, m.adminCert, 0o644},
		{adminKey, m.adminKey, 0o600},
		{saSigningKey, m.saKey, 0o600},
		{saVerifyingKey, m.saPub, 0o644},
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("writing pki: %w", err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return fmt.Errorf("writing pki: %w", err)
		}
	}
	return nil
}

// kubeconfig returns a kubeconfig for server with the admin credentials
// embedded.
func (m *pkiMaterial) kubeconfig(server string) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["ironlb-lab"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: m.caCert}
	cfg.AuthInfos["lab-admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: m.adminCert, ClientKeyData: m.adminKey}
	cfg.Contexts["ironlb-lab"] = &clientcmdapi.Context{Cluster: "ironlb-lab", AuthInfo: "lab-admin"}
	cfg.CurrentContext = "ironlb-lab"
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding kubeconfig: %w", err)
	}
	return data, nil
}
