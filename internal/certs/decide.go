package certs

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"time"
)

// Action is what a Decision asks for.
type Action int

const (
	// Keep leaves the Secret as it is.
	Keep Action = iota
	// IssueServing issues a new serving certificate from the current CA.
	IssueServing
	// IssueAll starts a new CA and issues a serving certificate from it;
	// the previous CA stays in the bundle until it expires.
	IssueAll
)

func (a Action) String() string {
	switch a {
	case IssueServing:
		return "IssueServing"
	case IssueAll:
		return "IssueAll"
	}
	return "Keep"
}

// Decision is Decide's verdict on a Bundle.
type Decision struct {
	Action Action
	// Reason says why, for the log.
	Reason string
	// RenewAt is when the kept certificates are due for renewal: the
	// earlier of the CA's and the serving certificate's. Set for Keep.
	RenewAt time.Time
}

// renewAt is when two thirds of c's lifetime have passed.
func renewAt(c *x509.Certificate) time.Time {
	life := c.NotAfter.Sub(c.NotBefore)
	return c.NotBefore.Add(life / 3 * 2)
}

// Decide says whether b can serve dnsNames at now or what to issue.
func Decide(b Bundle, now time.Time, dnsNames []string) Decision {
	p, err := parse(b)
	if err != nil {
		if b.Equal(Bundle{}) {
			return Decision{Action: IssueAll, Reason: "no certificate yet"}
		}
		return Decision{Action: IssueAll, Reason: fmt.Sprintf("unreadable: %v", err)}
	}
	ca := p.cas[0]
	if !ca.IsCA || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		return Decision{Action: IssueAll, Reason: "the CA certificate cannot sign certificates"}
	}
	if !keyMatches(ca, p.caKey) {
		return Decision{Action: IssueAll, Reason: "the CA key does not match the CA certificate"}
	}
	if !now.Before(renewAt(ca)) {
		return Decision{Action: IssueAll, Reason: fmt.Sprintf("the CA is due for renewal (expires %s)", ca.NotAfter.UTC().Format(time.RFC3339))}
	}
	switch {
	case !keyMatches(p.cert, p.key):
		return Decision{Action: IssueServing, Reason: "the serving key does not match the serving certificate"}
	case p.cert.CheckSignatureFrom(ca) != nil:
		return Decision{Action: IssueServing, Reason: "the serving certificate is not signed by the current CA"}
	case !sameNames(p.cert.DNSNames, dnsNames):
		return Decision{Action: IssueServing, Reason: fmt.Sprintf("the serving certificate is for %q, want %q", p.cert.DNSNames, dnsNames)}
	case !now.Before(renewAt(p.cert)):
		return Decision{Action: IssueServing, Reason: fmt.Sprintf("the serving certificate is due for renewal (expires %s)", p.cert.NotAfter.UTC().Format(time.RFC3339))}
	}
	next := renewAt(p.cert)
	if r := renewAt(ca); r.Before(next) {
		next = r
	}
	return Decision{Action: Keep, Reason: "valid", RenewAt: next}
}

func sameNames(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// Issue carries out d on b and returns the new bundle (b itself for Keep).
func Issue(b Bundle, d Decision, now time.Time, v Validity, dnsNames []string) (Bundle, error) {
	switch d.Action {
	case Keep:
		return b, nil
	case IssueServing:
		p, err := parse(b)
		if err != nil {
			return Bundle{}, fmt.Errorf("reading current CA: %w", err)
		}
		cert, key, err := newServing(now, v, p.cas[0], p.caKey, dnsNames)
		if err != nil {
			return Bundle{}, err
		}
		return Bundle{CABundle: encodeCerts(unexpired(p.cas, now, p.cas[0])), CAKey: b.CAKey, Cert: cert, Key: key}, nil
	case IssueAll:
		ca, caKey, err := newCA(now, v)
		if err != nil {
			return Bundle{}, err
		}
		caKeyPEM, err := encodeKey(caKey)
		if err != nil {
			return Bundle{}, err
		}
		cert, key, err := newServing(now, v, ca, caKey, dnsNames)
		if err != nil {
			return Bundle{}, err
		}
		// An unreadable old bundle is dropped: nothing signed by it can be
		// verified anyway.
		old, _ := parseCerts(b.CABundle)
		trusted := append([]*x509.Certificate{ca}, unexpired(old, now, nil)...)
		return Bundle{CABundle: encodeCerts(trusted), CAKey: caKeyPEM, Cert: cert, Key: key}, nil
	}
	return Bundle{}, fmt.Errorf("unknown action %d", d.Action)
}

// unexpired returns the CAs of cas still valid at now; keep is kept
// regardless, first.
func unexpired(cas []*x509.Certificate, now time.Time, keep *x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	if keep != nil {
		out = append(out, keep)
	}
	for _, c := range cas {
		if c == keep || !now.Before(c.NotAfter) || !c.IsCA {
			continue
		}
		if slices.ContainsFunc(out, func(o *x509.Certificate) bool { return o.Equal(c) }) {
			continue
		}
		out = append(out, c)
	}
	return out
}

func encodeCerts(cs []*x509.Certificate) []byte {
	var out []byte
	for _, c := range cs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}
