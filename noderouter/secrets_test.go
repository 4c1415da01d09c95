package noderouter

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/config"
)

func TestSecretUses(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want []SecretUse
	}{
		{name: "none", spec: routerWith("password: x")},
		{
			name: "namespace defaults to the object's",
			spec: "bgp:\n  routers:\n  - asn: 1\n    neighbors:\n    - {address: 192.0.2.1, asn: 2}\n    - {address: 192.0.2.2, asn: 2, passwordSecret: {name: a}}\n  - asn: 1\n    vrf: red\n    neighbors:\n    - {address: 192.0.2.3, asn: 2, passwordSecret: {name: b, namespace: other}}",
			want: []SecretUse{
				{Key: "ns/a", Field: "spec.bgp.routers[0].neighbors[1].passwordSecret"},
				{Key: "other/b", Field: "spec.bgp.routers[1].neighbors[0].passwordSecret"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := frrConfig(t, "ns/x", tc.spec)
			if diff := cmp.Diff(tc.want, SecretUses(&c)); diff != "" {
				t.Errorf("SecretUses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSecretPassword(t *testing.T) {
	secret := func(typ corev1.SecretType, data map[string][]byte) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "bgp"}, Type: typ, Data: data}
	}
	tests := []struct {
		name    string
		sec     *corev1.Secret
		want    string
		wantErr string
	}{
		{name: "basic-auth", sec: secret(corev1.SecretTypeBasicAuth, map[string][]byte{"password": []byte("s3cret")}), want: "s3cret"},
		{name: "other type", sec: secret(corev1.SecretTypeOpaque, map[string][]byte{"password": []byte("s3cret")}), wantErr: `Secret "ns/bgp" is of type "Opaque", want "kubernetes.io/basic-auth"`},
		{name: "no key", sec: secret(corev1.SecretTypeBasicAuth, map[string][]byte{"username": []byte("u")}), wantErr: `Secret "ns/bgp" has no "password" key`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SecretPassword(tc.sec)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Reveal() != tc.want {
				t.Errorf("password %q, want %q", got.Reveal(), tc.want)
			}
		})
	}
}

// TestMergeResolvesWithoutWritingPieces: the passwords Merge fills in
// go into the merged model, never into the pieces it is given.
func TestMergeResolvesWithoutWritingPieces(t *testing.T) {
	c := frrConfig(t, "ns/a", routerWith("passwordSecret: {name: bgp}"))
	p, err := FromFRRConfiguration(&c)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Merge(Options{Passwords: map[string]config.Password{"ns/bgp": config.NewPassword("s3cret")}}, p)
	if err != nil {
		t.Fatal(err)
	}
	if n := m.Routers[0].Neighbors[0]; n.Password.Reveal() != "s3cret" || n.PasswordSecret != "" {
		t.Errorf("merged neighbor has password %q and Secret %q, want the password only", n.Password.Reveal(), n.PasswordSecret)
	}
	if n := p.Routers[0].Neighbors[0]; n.Password.IsSet() || n.PasswordSecret != "ns/bgp" {
		t.Errorf("piece changed: password set %v, Secret %q", n.Password.IsSet(), n.PasswordSecret)
	}
}
