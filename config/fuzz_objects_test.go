package config_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/internal/fuzzgen"
)

// FuzzBuildObjects builds generated object sets, every field filled:
// Build may reject them, but never panics, returns a model or errors
// (never both, never neither), names the object of every error, and
// gives the same answer twice.
func FuzzBuildObjects(f *testing.F) {
	for _, seed := range []string{"", "pools", "\x00\x01\x02\x03\x04\x05\x06\x07", strings.Repeat("\xff\x10", 64), strings.Repeat("ironlb", 40)} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o := fuzzgen.Objects(data)
		m, err := config.Build(o)
		if (m == nil) == (err == nil) {
			t.Fatalf("Build returned model %v and error %v", m, err)
		}
		for _, fe := range config.Errors(err) {
			if fe.Kind == "" || fe.Reason == "" {
				t.Fatalf("error without its object or reason: %#v", fe)
			}
		}
		m2, err2 := config.Build(fuzzgen.Objects(data))
		if diff := cmp.Diff(errString(err), errString(err2)); diff != "" {
			t.Fatalf("second Build errors differ (-first +second):\n%s", diff)
		}
		if (m == nil) != (m2 == nil) {
			t.Fatalf("second Build model %v, first %v", m2, m)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestBuildSelectorErrorsStable checks that a selector with several bad
// labels gets the same error on every Build: the map of labels used to
// be walked in random order.
func TestBuildSelectorErrorsStable(t *testing.T) {
	bad := map[string]string{}
	for _, k := range []string{"a b", "c d", "e f", "g h", "i j", "k l", "m n", "o p"} {
		bad[k] = "x"
	}
	o := config.Objects{
		Namespace: fuzzgen.Namespace,
		Pools: []v1beta1.IPAddressPool{{
			ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: fuzzgen.Namespace},
			Spec: v1beta1.IPAddressPoolSpec{
				Addresses:         []string{"192.0.2.0/24"},
				ServiceAllocation: &v1beta1.ServiceAllocation{NamespaceSelectors: []metav1.LabelSelector{{MatchLabels: bad}}},
			},
		}},
		L2Advertisements: []v1beta1.L2Advertisement{{
			ObjectMeta: metav1.ObjectMeta{Name: "l2", Namespace: fuzzgen.Namespace},
			Spec: v1beta1.L2AdvertisementSpec{
				NodeSelectors:          []metav1.LabelSelector{{MatchLabels: bad}},
				PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{{Weight: 1, Preference: metav1.LabelSelector{MatchLabels: bad}}},
			},
		}},
	}
	_, first := config.Build(o)
	if first == nil {
		t.Fatal("Build accepted bad selectors")
	}
	if !strings.Contains(first.Error(), `"a b"`) {
		t.Errorf("errors do not name the first bad key in order:\n%v", first)
	}
	for range 20 {
		if _, err := config.Build(o); err.Error() != first.Error() {
			t.Fatalf("errors changed between builds:\n%v\nthen\n%v", first, err)
		}
	}
}
