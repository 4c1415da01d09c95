package noderouter

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/config"
)

// The passwords of passwordSecrets. frr-k8s reads every Secret a
// neighbor names before it merges, and compares the passwords
// themselves: a password in one configuration and a passwordSecret
// holding the same value in another are one session. The merge does the
// same with the passwords Options.Passwords gives it; the caller reads
// the Secrets (SecretUses says which, SecretPassword what they hold).

// SecretUse is a passwordSecret an FRRConfiguration names.
type SecretUse struct {
	// Key is the Secret's "namespace/name"; the namespace defaults to
	// the FRRConfiguration's.
	Key string
	// Field is the path of the passwordSecret in the object:
	// spec.bgp.routers[0].neighbors[1].passwordSecret.
	Field string
}

// SecretUses returns the passwordSecrets the configuration's neighbors
// name, in the order of the spec.
func SecretUses(c *frrk8s.FRRConfiguration) []SecretUse {
	var out []SecretUse
	for i, r := range c.Spec.BGP.Routers {
		for j, n := range r.Neighbors {
			if n.PasswordSecret.Name == "" {
				continue
			}
			out = append(out, SecretUse{
				Key:   cmpOr(n.PasswordSecret.Namespace, c.Namespace) + "/" + n.PasswordSecret.Name,
				Field: fmt.Sprintf("spec.bgp.routers[%d].neighbors[%d].passwordSecret", i, j),
			})
		}
	}
	return out
}

// BasicAuthPasswordKey is the key of the password in a passwordSecret.
const BasicAuthPasswordKey = corev1.BasicAuthPasswordKey

// SecretPassword returns the password a passwordSecret holds: frr-k8s
// wants a Secret of type kubernetes.io/basic-auth with the key
// "password". Its errors never show the password.
func SecretPassword(sec *corev1.Secret) (config.Password, error) {
	key := sec.Namespace + "/" + sec.Name
	if sec.Type != corev1.SecretTypeBasicAuth {
		return config.Password{}, fmt.Errorf("Secret %q is of type %q, want %q", key, sec.Type, corev1.SecretTypeBasicAuth)
	}
	pw, ok := sec.Data[BasicAuthPasswordKey]
	if !ok {
		return config.Password{}, fmt.Errorf("Secret %q has no %q key", key, BasicAuthPasswordKey)
	}
	return config.NewPassword(string(pw)), nil
}

// withPasswords returns p with every passwordSecret that pw holds
// replaced by its password; p itself when there is none. It copies only
// the routers and neighbor lists it changes.
func withPasswords(p *Model, pw map[string]config.Password) *Model {
	if len(pw) == 0 {
		return p
	}
	var out *Model
	for i := range p.Routers {
		var ns []Neighbor
		for j := range p.Routers[i].Neighbors {
			n := &p.Routers[i].Neighbors[j]
			v, ok := pw[n.PasswordSecret]
			if n.PasswordSecret == "" || !ok {
				continue
			}
			if out == nil {
				c := *p
				c.Routers = slices.Clone(p.Routers)
				out = &c
			}
			if ns == nil {
				ns = slices.Clone(p.Routers[i].Neighbors)
				out.Routers[i].Neighbors = ns
			}
			ns[j].Password, ns[j].PasswordSecret = v, ""
		}
	}
	if out == nil {
		return p
	}
	return out
}
