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
//   - injects the CA bundle into the ValidatingWebhookConfiguration;
//   - writes tls.crt and tls.key into the folder that controller-runtime's
//     webhook server watches and reloads.
//
// Certificates are renewed when two thirds of their lifetime has passed. A
// new CA is trusted alongside the previous one until that one expires, so
// replicas still serving a certificate from the old CA keep working.
package certs
