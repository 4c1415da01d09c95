package main

import (
	"crypto/tls"
	"flag"

	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// metricsFlags are the flags of the metrics endpoint's HTTPS, the same on
// the controller and the speaker. MetalLB v0.16 serves its metrics over
// HTTPS with authentication and authorization only; ironlb keeps plain
// HTTP by default and does the same with --metrics-secure.
type metricsFlags struct {
	secure bool
	// certDir holds tls.crt and tls.key (MetalLB's --metrics-cert-dir);
	// empty: a self-signed certificate made at start.
	certDir string
}

func (m *metricsFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&m.secure, "metrics-secure", false, "serve the metrics over HTTPS, to clients with a bearer token allowed to get the /metrics non-resource URL (TokenReview and SubjectAccessReview)")
	fs.StringVar(&m.certDir, "metrics-cert-dir", "", "folder with tls.crt and tls.key for the HTTPS metrics endpoint (with -metrics-secure; empty: a self-signed certificate)")
}

// options returns the metrics server's options for the address.
func (m metricsFlags) options(addr string) metricsserver.Options {
	o := metricsserver.Options{BindAddress: addr}
	if !m.secure {
		return o
	}
	o.SecureServing = true
	o.FilterProvider = filters.WithAuthenticationAndAuthorization
	o.CertDir = m.certDir
	// HTTP/1.1 only: no exposure to HTTP/2's stream attacks (CVE-2023-44487).
	o.TLSOpts = []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }}
	return o
}
