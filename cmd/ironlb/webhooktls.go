package main

import "crypto/tls"

// webhookTLSOptions returns the webhook server's TLS settings. HTTP/2 is
// off unless asked for, as in MetalLB (--webhook-http2): an HTTP/2
// server is exposed to the stream-reset floods of CVE-2023-44487, and
// the API server's webhook calls gain nothing from it.
func webhookTLSOptions(http2 bool) []func(*tls.Config) {
	if http2 {
		return nil
	}
	return []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }}
}
