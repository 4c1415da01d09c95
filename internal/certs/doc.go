// Package certs gives ironlb's validating webhook a serving certificate
// without cert-manager.
//
// The controller keeps a self-signed CA and a serving certificate for the
// webhook Service's DNS names in one Secret, shared by its replicas. Every
// replica runs a Manager, which:
//
//   - reads the Secret and decides (Decide, pure) whether to keep it, issue
//     a new serving certificate, or start a new CA;
//   - writes the result back with optimistic locking, so replicas that
//     race agree on one outcome;
//   - injects the CA bundle into the ValidatingWebhookConfiguration, and
//     points a CRD's conversion (BGPPeer's) at the webhook Service with it;
//   - writes tls.crt and tls.key into the folder that controller-runtime's
//     webhook server watches and reloads.
//
// When cert-manager issues the certificate instead, a ConversionSync keeps
// the CRD's conversion pointed at the webhook with cert-manager's ca.crt.
//
// Certificates are renewed when two thirds of their lifetime has passed. A
// new CA is trusted alongside the previous one until that one expires, so
// replicas still serving a certificate from the old CA keep working.
package certs
