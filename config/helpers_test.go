package config

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/ipam"
)

// testNS is the namespace ironlb runs in, in these tests.
const testNS = "ironlb-system"

// cmpOpts compare model values: selectors by their text, addresses by
// value (Password has an Equal method).
var cmpOpts = cmp.Options{
	cmp.Comparer(func(a, b labels.Selector) bool { return a.String() == b.String() }),
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmpopts.EquateEmpty(),
}

func ptr[T any](v T) *T { return &v }

func meta(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name, Namespace: testNS} }

func mkPool(name string, addrs ...string) v1beta1.IPAddressPool {
	return v1beta1.IPAddressPool{ObjectMeta: meta(name), Spec: v1beta1.IPAddressPoolSpec{Addresses: addrs}}
}

func mkPeer(name, addr string, myASN, peerASN uint32) v1beta2.BGPPeer {
	return v1beta2.BGPPeer{ObjectMeta: meta(name), Spec: v1beta2.BGPPeerSpec{MyASN: myASN, ASN: peerASN, Address: addr}}
}

func mkSecret(ns, name string, typ corev1.SecretType, data map[string]string) corev1.Secret {
	s := corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Type: typ, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	return s
}

func mustRange(t testing.TB, s string) ipam.Range {
	t.Helper()
	r, err := ipam.ParseRange(s)
	if err != nil {
		t.Fatalf("ParseRange(%q): %v", s, err)
	}
	return r
}

func ranges(t testing.TB, ss ...string) []ipam.Range {
	t.Helper()
	var out []ipam.Range
	for _, s := range ss {
		out = append(out, mustRange(t, s))
	}
	return out
}

func mustSelector(t testing.TB, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatalf("labels.Parse(%q): %v", s, err)
	}
	return sel
}

// labelSel builds a metav1.LabelSelector matching these labels.
func labelSel(kv ...string) metav1.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return metav1.LabelSelector{MatchLabels: m}
}

// checkErrs compares the FieldErrors of err with want. A wanted Reason
// need only be a substring of the reason found, so that tests do not
// pin the wording of errors from other packages.
func checkErrs(t *testing.T, err error, want []FieldError) {
	t.Helper()
	got := Errors(err)
	if err != nil && len(got) == 0 {
		t.Fatalf("error %v holds no FieldError", err)
	}
	for i := range got {
		if i < len(want) && want[i].Reason != "" && strings.Contains(got[i].Reason, want[i].Reason) {
			got[i].Reason = want[i].Reason
		}
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
}
