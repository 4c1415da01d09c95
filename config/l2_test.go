package config

import (
	"slices"
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
			name: "service selectors",
			in: []v1beta1.L2Advertisement{adv("a", v1beta1.L2AdvertisementSpec{
				ServiceSelectors: []metav1.LabelSelector{labelSel("exposure", "lan"), {MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpExists}}}},
			})},
			want: []L2Advertisement{{
				Name: "a", Pools: []string{"east", "west"},
				ServiceSelectors: []labels.Selector{mustSelector(t, "exposure=lan"), mustSelector(t, "tier")},
			}},
		},
		{
			name: "invalid service selector",
			in: []v1beta1.L2Advertisement{adv("a", v1beta1.L2AdvertisementSpec{
				ServiceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"bad key!": "x"}}},
			})},
			wantErr: []FieldError{
				{Kind: KindL2Advertisement, Name: "a", Field: "spec.serviceSelectors[0]", Reason: "invalid label selector: "},
			},
		},
		{
			name: "preferred node selectors, in order",
			in: []v1beta1.L2Advertisement{adv("a", v1beta1.L2AdvertisementSpec{
				PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{
					{Weight: 100, Preference: labelSel("zone", "a")},
					{Weight: 30, Preference: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "role", Operator: metav1.LabelSelectorOpIn, Values: []string{"edge", "lb"}}}}},
				},
			})},
			want: []L2Advertisement{{
				Name: "a", Pools: []string{"east", "west"},
				Preferred: []WeightedSelector{
					{Weight: 100, Selector: mustSelector(t, "zone=a")},
					{Weight: 30, Selector: mustSelector(t, "role in (edge,lb)")},
				},
			}},
		},
		{
			name: "preferred node selectors: weights out of bounds, invalid selector",
			in: []v1beta1.L2Advertisement{adv("a", v1beta1.L2AdvertisementSpec{
				PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{
					{Weight: 0, Preference: labelSel("zone", "a")},
					{Weight: 101, Preference: labelSel("zone", "b")},
					{Weight: -5, Preference: labelSel("zone", "c")},
					{Weight: 50, Preference: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: metav1.LabelSelectorOpIn}}}},
					{Weight: 100, Preference: labelSel("zone", "d")},
				},
			})},
			wantErr: []FieldError{
				{Kind: KindL2Advertisement, Name: "a", Field: "spec.preferredNodeSelectors[0].weight", Reason: "must be between 1 and 100, not 0"},
				{Kind: KindL2Advertisement, Name: "a", Field: "spec.preferredNodeSelectors[1].weight", Reason: "must be between 1 and 100, not 101"},
				{Kind: KindL2Advertisement, Name: "a", Field: "spec.preferredNodeSelectors[2].weight", Reason: "must be between 1 and 100, not -5"},
				{Kind: KindL2Advertisement, Name: "a", Field: "spec.preferredNodeSelectors[3].preference", Reason: "invalid label selector: "},
			},
		},
		{
			name: "preferred node selectors: too many terms",
			in: []v1beta1.L2Advertisement{adv("a", v1beta1.L2AdvertisementSpec{
				PreferredNodeSelectors: slices.Repeat([]v1beta1.PreferredNodeSelector{{Weight: 1, Preference: labelSel("zone", "a")}}, 33),
			})},
			wantErr: []FieldError{
				{Kind: KindL2Advertisement, Name: "a", Field: "spec.preferredNodeSelectors", Reason: "has 33 terms, at most 32 are allowed"},
			},
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

func TestL2AdvertisementPreference(t *testing.T) {
	ad := L2Advertisement{
		Name:          "a",
		NodeSelectors: []labels.Selector{mustSelector(t, "role=lb")},
		Preferred: []WeightedSelector{
			{Weight: 60, Selector: mustSelector(t, "zone=primary")},
			{Weight: 50, Selector: mustSelector(t, "gpu=true")},
			{Weight: 5, Selector: mustSelector(t, "zone in (primary,secondary)")},
		},
	}
	tests := []struct {
		name   string
		ad     L2Advertisement
		labels labels.Set
		want   int
	}{
		{name: "no term matches", ad: ad, labels: labels.Set{"role": "lb"}, want: 0},
		{name: "one term", ad: ad, labels: labels.Set{"role": "lb", "zone": "secondary"}, want: 5},
		{name: "weights add up", ad: ad, labels: labels.Set{"role": "lb", "zone": "primary", "gpu": "true"}, want: 115},
		{name: "nodeSelectors are not looked at", ad: ad, labels: labels.Set{"gpu": "true"}, want: 50},
		{name: "no preferred selectors", ad: L2Advertisement{Name: "b"}, labels: labels.Set{"zone": "primary"}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.ad.Preference(tt.labels)); diff != "" {
				t.Errorf("Preference(%v) (-want +got):\n%s", tt.labels, diff)
			}
		})
	}
}

// TestL2AdvertisementPreferenceFromAPI builds the preferences from an
// L2Advertisement and checks them on nodes; an empty selector, which
// cmp cannot tell from a missing one, matches every node.
func TestL2AdvertisementPreferenceFromAPI(t *testing.T) {
	obj := v1beta1.L2Advertisement{ObjectMeta: meta("a"), Spec: v1beta1.L2AdvertisementSpec{
		PreferredNodeSelectors: []v1beta1.PreferredNodeSelector{
			{Weight: 1, Preference: metav1.LabelSelector{}},
			{Weight: 20, Preference: labelSel("zone", "a")},
			{Weight: 40, Preference: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "role", Operator: metav1.LabelSelectorOpExists}}}},
		},
	}}
	m, err := Build(Objects{Pools: []v1beta1.IPAddressPool{mkPool("p", "192.0.2.0/24")}, L2Advertisements: []v1beta1.L2Advertisement{obj}, Namespace: testNS})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	ad := &m.L2Advertisements[0]
	tests := []struct {
		name   string
		labels labels.Set
		want   int
	}{
		{name: "no labels", labels: labels.Set{}, want: 1},
		{name: "zone", labels: labels.Set{"zone": "a"}, want: 21},
		{name: "zone and role", labels: labels.Set{"zone": "a", "role": ""}, want: 61},
		{name: "other zone", labels: labels.Set{"zone": "b"}, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ad.Preference(tt.labels)); diff != "" {
				t.Errorf("Preference(%v) (-want +got):\n%s", tt.labels, diff)
			}
		})
	}
}
