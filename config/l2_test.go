package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/api/v1beta1"
)

func TestL2Advertisements(t *testing.T) {
	adv := func(name string, spec v1beta1.L2AdvertisementSpec) v1beta1.L2Advertisement {
		return v1beta1.L2Advertisement{ObjectMeta: meta(name), Spec: spec}
	}
	east := mkPool("east", "192.0.2.0/24")
	east.Labels = map[string]string{"zone": "east"}
	pools := []v1beta1.IPAddressPool{east, mkPool("west", "198.51.100.0/24")}
	tests := []struct {
		name    string
		in      []v1beta1.L2Advertisement
		want    []L2Advertisement
		wantErr []FieldError
	}{
		{
			name: "defaults: every pool, every node, every interface",
			in:   []v1beta1.L2Advertisement{adv("b", v1beta1.L2AdvertisementSpec{}), adv("a", v1beta1.L2AdvertisementSpec{})},
			want: []L2Advertisement{{Name: "a", Pools: []string{"east", "west"}}, {Name: "b", Pools: []string{"east", "west"}}},
		},
		{
			name: "pools, nodes and interfaces",
			in: []v1beta1.L2Advertisement{adv("a", v1beta1.L2AdvertisementSpec{
				IPAddressPoolSelectors: []metav1.LabelSelector{labelSel("zone", "east")},
				NodeSelectors:          []metav1.LabelSelector{labelSel("role", "edge")},
				Interfaces:             []string{"eth1", "bond0", "eth1"},
			})},
			want: []L2Advertisement{{
				Name: "a", Pools: []string{"east"},
				NodeSelectors: []labels.Selector{mustSelector(t, "role=edge")},
				Interfaces:    []string{"bond0", "eth1"},
			}},
		},
		{
			name: "explicit pools",
			in:   []v1beta1.L2Advertisement{adv("a", v1beta1.L2AdvertisementSpec{IPAddressPools: []string{"west"}})},
			want: []L2Advertisement{{Name: "a", Pools: []string{"west"}}},
		},
		{
			name: "errors",
			in: []v1beta1.L2Advertisement{adv("a", v1beta1.L2AdvertisementSpec{
				IPAddressPools: []string{"north"},
				NodeSelectors:  []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: metav1.LabelSelectorOpIn}}}},
				Interfaces:     []string{"eth0", "", "a/b", "averyveryverylongname"},
			})},
			wantErr: []FieldError{
				{Kind: KindL2Advertisement, Name: "a", Field: "spec.interfaces[1]", Reason: "must not be empty"},
				{Kind: KindL2Advertisement, Name: "a", Field: "spec.interfaces[2]", Reason: `"a/b" contains whitespace, a control character or '/'`},
				{Kind: KindL2Advertisement, Name: "a", Field: "spec.interfaces[3]", Reason: `"averyveryverylongname" is longer than 15 bytes`},
				{Kind: KindL2Advertisement, Name: "a", Field: "spec.ipAddressPools[0]", Reason: `no IPAddressPool is named "north"`},
				{Kind: KindL2Advertisement, Name: "a", Field: "spec.nodeSelectors[0]", Reason: "invalid label selector: "},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Build(Objects{Pools: pools, L2Advertisements: tt.in, Namespace: testNS})
			checkErrs(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, m.L2Advertisements, cmpOpts); diff != "" {
				t.Errorf("L2Advertisements mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
