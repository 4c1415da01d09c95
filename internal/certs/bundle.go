package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Keys of the Secret's data.
const (
	// KeyCABundle holds every CA the webhook's clients should trust: the
	// current CA first, then the previous one until it expires.
	KeyCABundle = "ca.crt"
	// KeyCAKey holds the current CA's private key.
	KeyCAKey = "ca.key"
	// KeyCert and KeyKey hold the serving certificate and its key; the file
	// names in the certificate folder are the same.
	KeyCert = "tls.crt"
	KeyKey  = "tls.key"
)

// clockSkew is how far back a certificate's validity starts, so that a
// client whose clock is a little behind accepts it.
const clockSkew = time.Hour

// Bundle is the PEM-encoded content of the Secret.
type Bundle struct {
	CABundle []byte
	CAKey    []byte
	Cert     []byte
	Key      []byte
}

// FromData reads a Bundle from a Secret's data; missing keys stay empty.
func FromData(data map[string][]byte) Bundle {
	return Bundle{CABundle: data[KeyCABundle], CAKey: data[KeyCAKey], Cert: data[KeyCert], Key: data[KeyKey]}
}

// Data returns the Secret data holding b.
func (b Bundle) Data() map[string][]byte {
	return map[string][]byte{KeyCABundle: b.CABundle, KeyCAKey: b.CAKey, KeyCert: b.Cert, KeyKey: b.Key}
}

// Equal reports whether two bundles hold the same bytes.
func (b Bundle) Equal(o Bundle) bool {
	return bytes.Equal(b.CABundle, o.CABundle) && bytes.Equal(b.CAKey, o.CAKey) && bytes.Equal(b.Cert, o.Cert) && bytes.Equal(b.Key, o.Key)
}

// parsed is a Bundle decoded and checked for internal consistency.
type parsed struct {
	cas    []*x509.Certificate // cas[0] is the current CA
	caKey  crypto.Signer
	cert   *x509.Certificate
	key    crypto.Signer
	bundle Bundle
}

// parse decodes b. It fails when a part is missing or does not decode; it
// does not judge validity periods or names (Decide does).
func parse(b Bundle) (*parsed, error) {
	var missing []string
	for _, f := range []struct {
		key string
		v   []byte
	}{{KeyCABundle, b.CABundle}, {KeyCAKey, b.CAKey}, {KeyCert, b.Cert}, {KeyKey, b.Key}} {
		if len(f.v) == 0 {
			missing = append(missing, f.key)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("missing %q", missing)
	}
	p := &parsed{bundle: b}
	var err error
	if p.cas, err = parseCerts(b.CABundle); err != nil {
		return nil, fmt.Errorf("%s: %w", KeyCABundle, err)
	}
	certs, err := parseCerts(b.Cert)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", KeyCert, err)
	}
	p.cert = certs[0]
	if p.caKey, err = parseKey(b.CAKey); err != nil {
		return nil, fmt.Errorf("%s: %w", KeyCAKey, err)
	}
	if p.key, err = parseKey(b.Key); err != nil {
		return nil, fmt.Errorf("%s: %w", KeyKey, err)
	}
	return p, nil
}

func parseCerts(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("unexpected PEM block %q", blk.Type)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return out, nil
}

func parseKey(data []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(data)
	if blk == nil {
		return nil, errors.New("no PEM key")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key of type %T cannot sign", k)
	}
	return s, nil
}

// keyMatches reports whether key is the private half of cert's public key.
func keyMatches(cert *x509.Certificate, key crypto.Signer) bool {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(cert.PublicKey)
}

// Validity is how long issued certificates last.
type Validity struct {
	CA      time.Duration
	Serving time.Duration
}

// newCA makes a self-signed CA valid from now for v.CA.
func newCA(now time.Time, v Validity) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating CA key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "ironlb webhook CA", Organization: []string{"ironlb"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(v.CA),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("signing CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing CA certificate: %w", err)
	}
	return cert, key, nil
}

// newServing issues a serving certificate for dnsNames from the CA, valid
// from now for v.Serving but never beyond the CA.
func newServing(now time.Time, v Validity, ca *x509.Certificate, caKey crypto.Signer, dnsNames []string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating serving key: %w", err)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	notAfter := now.Add(v.Serving)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: dnsNames[0], Organization: []string{"ironlb"}},
		DNSNames:     dnsNames,
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("signing serving certificate: %w", err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, nil
}

func serialNumber() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generating serial number: %w", err)
	}
	return n, nil
}

func encodeKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("encoding key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// DNSNames are the names the API server may use for the webhook Service:
// it dials service.namespace.svc; the others cover clients that use a
// shorter or the fully qualified name.
func DNSNames(service, namespace string) []string {
	return []string{
		service + "." + namespace + ".svc",
		service + "." + namespace + ".svc.cluster.local",
		service + "." + namespace,
		service,
	}
}
