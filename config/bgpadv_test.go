package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
)

func TestBGPAdvertisements(t *testing.T) {
	adv := func(name string, f func(*v1beta1.BGPAdvertisementSpec)) v1beta1.BGPAdvertisement {
		a := v1beta1.BGPAdvertisement{ObjectMeta: meta(name)}
		if f != nil {
			f(&a.Spec)
		}
		return a
	}
	labelled := func(p v1beta1.IPAddressPool, kv ...string) v1beta1.IPAddressPool {
		p.Labels = labelSel(kv...).MatchLabels
		return p
	}
	pools := []v1beta1.IPAddressPool{
		labelled(mkPool("v4", "192.0.2.0/24"), "zone", "east"),
		labelled(mkPool("v6", "2001:db8::/64"), "zone", "west"),
		labelled(mkPool("mixed", "198.51.100.10-198.51.100.20", "2001:db8:1::/120"), "zone", "east"),
	}
	peers := []v1beta2.BGPPeer{mkPeer("tor1", "192.0.2.254", 64512, 64513), mkPeer("tor2", "192.0.2.253", 64512, 64513)}
	communities := []v1beta1.Community{{ObjectMeta: meta("c"), Spec: v1beta1.CommunitySpec{Communities: []v1beta1.CommunityAlias{
		{Name: "gold", Value: "65000:1"}, {Name: "big", Value: "large:1:2:3"},
	}}}}

	tests := []struct {
		name    string
		in      []v1beta1.BGPAdvertisement
		want    []BGPAdvertisement
		wantErr []FieldError
	}{
		{
			name: "defaults: every pool, every peer",
			in:   []v1beta1.BGPAdvertisement{adv("all", nil)},
			want: []BGPAdvertisement{{Name: "all", AggregationLength: 32, AggregationLengthV6: 128, Pools: []string{"mixed", "v4", "v6"}}},
		},
		{
			name: "everything set",
			in: []v1beta1.BGPAdvertisement{adv("a", func(s *v1beta1.BGPAdvertisementSpec) {
				s.AggregationLength, s.AggregationLengthV6 = ptr(int32(24)), ptr(int32(64))
				s.LocalPref = 100
				s.Communities = []string{"big", "65000:1", "65001:7", "large:0:0:1"}
				s.IPAddressPools = []string{"v4"}
				s.IPAddressPoolSelectors = []metav1.LabelSelector{labelSel("zone", "west")}
				s.NodeSelectors = []metav1.LabelSelector{labelSel("rack", "r1")}
				s.Peers = []string{"tor2", "tor1"}
			})},
			want: []BGPAdvertisement{{
				Name: "a", AggregationLength: 24, AggregationLengthV6: 64, LocalPref: 100,
				Communities: []Community{
					{Global: 65000, Local1: 1}, {Global: 65001, Local1: 7},
					{Large: true, Local2: 1}, {Large: true, Global: 1, Local1: 2, Local2: 3},
				},
				Pools:         []string{"v4", "v6"},
				NodeSelectors: []labels.Selector{mustSelector(t, "rack=r1")},
				Peers:         []string{"tor1", "tor2"},
			}},
		},
		{
			name: "alias and literal with the same value count once",
			in: []v1beta1.BGPAdvertisement{adv("a", func(s *v1beta1.BGPAdvertisementSpec) {
				s.Communities = []string{"gold", "65000:1"}
			})},
			want: []BGPAdvertisement{{Name: "a", AggregationLength: 32, AggregationLengthV6: 128,
				Communities: []Community{{Global: 65000, Local1: 1}}, Pools: []string{"mixed", "v4", "v6"}}},
		},
		{
			name: "pool selector matching nothing selects no pool",
			in: []v1beta1.BGPAdvertisement{adv("a", func(s *v1beta1.BGPAdvertisementSpec) {
				s.IPAddressPoolSelectors = []metav1.LabelSelector{labelSel("zone", "north")}
			})},
			want: []BGPAdvertisement{{Name: "a", AggregationLength: 32, AggregationLengthV6: 128}},
		},
		{
			name: "name and selector picking the same pool",
			in: []v1beta1.BGPAdvertisement{adv("a", func(s *v1beta1.BGPAdvertisementSpec) {
				s.IPAddressPools = []string{"v4"}
				s.IPAddressPoolSelectors = []metav1.LabelSelector{labelSel("zone", "east")}
			})},
			want: []BGPAdvertisement{{Name: "a", AggregationLength: 32, AggregationLengthV6: 128, Pools: []string{"mixed", "v4"}}},
		},
		{
			name: "aggregation as long as the pool's prefix, and a range's widest block",
			in: []v1beta1.BGPAdvertisement{adv("a", func(s *v1beta1.BGPAdvertisementSpec) {
				s.AggregationLength, s.AggregationLengthV6 = ptr(int32(30)), ptr(int32(120))
				s.IPAddressPools = []string{"mixed"}
			})},
			want: []BGPAdvertisement{{Name: "a", AggregationLength: 30, AggregationLengthV6: 120, Pools: []string{"mixed"}}},
		},
		{
			name: "aggregation shorter than a pool's prefix",
			in: []v1beta1.BGPAdvertisement{
				adv("cidr", func(s *v1beta1.BGPAdvertisementSpec) {
					s.AggregationLength, s.AggregationLengthV6 = ptr(int32(16)), ptr(int32(48))
					s.IPAddressPools = []string{"v4", "v6"}
				}),
				adv("range", func(s *v1beta1.BGPAdvertisementSpec) {
					s.AggregationLength = ptr(int32(29))
					s.IPAddressPools = []string{"mixed"}
				}),
			},
			wantErr: []FieldError{
				{Kind: KindBGPAdvertisement, Name: "cidr", Field: "spec.aggregationLength", Reason: `16 is shorter than prefix length 24 of "192.0.2.0/24" (spec.addresses[0] of IPAddressPool "v4"): the aggregated route would cover addresses outside the pool`},
				{Kind: KindBGPAdvertisement, Name: "cidr", Field: "spec.aggregationLengthV6", Reason: `48 is shorter than prefix length 64 of "2001:db8::/64" (spec.addresses[0] of IPAddressPool "v6")`},
				{Kind: KindBGPAdvertisement, Name: "range", Field: "spec.aggregationLength", Reason: `29 is shorter than prefix length 30 of "198.51.100.10-198.51.100.20" (spec.addresses[0] of IPAddressPool "mixed")`},
			},
		},
		{
			name: "aggregation out of range",
			in: []v1beta1.BGPAdvertisement{adv("a", func(s *v1beta1.BGPAdvertisementSpec) {
				s.AggregationLength, s.AggregationLengthV6 = ptr(int32(33)), ptr(int32(-1))
			})},
			wantErr: []FieldError{
				{Kind: KindBGPAdvertisement, Name: "a", Field: "spec.aggregationLength", Reason: "33 is out of range [0, 32]"},
				{Kind: KindBGPAdvertisement, Name: "a", Field: "spec.aggregationLengthV6", Reason: "-1 is out of range [0, 128]"},
			},
		},
		{
			name: "bad communities",
			in: []v1beta1.BGPAdvertisement{adv("adv", func(s *v1beta1.BGPAdvertisementSpec) {
				s.Communities = []string{"gold", "silver", "65536:1", "large:1:2", "gold", ""}
			})},
			wantErr: []FieldError{
				{Kind: KindBGPAdvertisement, Name: "adv", Field: "spec.communities[4]", Reason: `"gold" is listed twice`},
				{Kind: KindBGPAdvertisement, Name: "adv", Field: "spec.communities[5]", Reason: "must not be empty"},
				{Kind: KindBGPAdvertisement, Name: "adv", Field: "spec.communities[1]", Reason: `no Community object defines the alias "silver"`},
				{Kind: KindBGPAdvertisement, Name: "adv", Field: "spec.communities[2]", Reason: `"65536" is not a 16-bit number`},
				{Kind: KindBGPAdvertisement, Name: "adv", Field: "spec.communities[3]", Reason: "want large:a:b:c"},
			},
		},
		{
			name: "service selectors kept in order",
			in: []v1beta1.BGPAdvertisement{adv("a", func(s *v1beta1.BGPAdvertisementSpec) {
				s.ServiceSelectors = []metav1.LabelSelector{labelSel("exposure", "public"), {MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpExists}}}}
				s.AggregationLength, s.AggregationLengthV6 = ptr(int32(32)), ptr(int32(128))
			})},
			want: []BGPAdvertisement{{Name: "a", AggregationLength: 32, AggregationLengthV6: 128, Pools: []string{"mixed", "v4", "v6"},
				ServiceSelectors: []labels.Selector{mustSelector(t, "exposure=public"), mustSelector(t, "tier")}}},
		},
		{
			name: "service selectors with aggregation",
			in: []v1beta1.BGPAdvertisement{
				adv("v4", func(s *v1beta1.BGPAdvertisementSpec) {
					s.ServiceSelectors = []metav1.LabelSelector{labelSel("exposure", "public")}
					s.AggregationLength = ptr(int32(24))
					s.IPAddressPools = []string{"v4"}
				}),
				adv("v6", func(s *v1beta1.BGPAdvertisementSpec) {
					s.ServiceSelectors = []metav1.LabelSelector{labelSel("exposure", "public")}
					s.AggregationLengthV6 = ptr(int32(64))
					s.IPAddressPools = []string{"v6"}
				}),
				// An empty list selects every Service, as no list does.
				adv("z", func(s *v1beta1.BGPAdvertisementSpec) {
					s.ServiceSelectors = []metav1.LabelSelector{}
					s.AggregationLength = ptr(int32(24))
					s.IPAddressPools = []string{"v4"}
				}),
			},
			wantErr: []FieldError{
				{Kind: KindBGPAdvertisement, Name: "v4", Field: "spec.serviceSelectors", Reason: "cannot be combined with aggregationLength 24 and aggregationLengthV6 128: serviceSelectors need one route per address (32 and 128)"},
				{Kind: KindBGPAdvertisement, Name: "v6", Field: "spec.serviceSelectors", Reason: "cannot be combined with aggregationLength 32 and aggregationLengthV6 64: serviceSelectors need one route per address (32 and 128)"},
			},
		},
		{
			name: "invalid service selector",
			in: []v1beta1.BGPAdvertisement{adv("adv", func(s *v1beta1.BGPAdvertisementSpec) {
				s.ServiceSelectors = []metav1.LabelSelector{labelSel("ok", "yes"), {MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: metav1.LabelSelectorOpIn}}}}
			})},
			wantErr: []FieldError{
				{Kind: KindBGPAdvertisement, Name: "adv", Field: "spec.serviceSelectors[1]", Reason: "invalid label selector: "},
			},
		},
		{
			name: "unknown pools and peers",
			in: []v1beta1.BGPAdvertisement{adv("adv", func(s *v1beta1.BGPAdvertisementSpec) {
				s.IPAddressPools = []string{"v4", "nope", "v4"}
				s.Peers = []string{"tor1", "ghost"}
				s.IPAddressPoolSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"bad key!": "x"}}}
			})},
			wantErr: []FieldError{
				{Kind: KindBGPAdvertisement, Name: "adv", Field: "spec.ipAddressPools[2]", Reason: `"v4" is listed twice`},
				{Kind: KindBGPAdvertisement, Name: "adv", Field: "spec.ipAddressPools[1]", Reason: `no IPAddressPool is named "nope"`},
				{Kind: KindBGPAdvertisement, Name: "adv", Field: "spec.ipAddressPoolSelectors[0]", Reason: "invalid label selector: "},
				{Kind: KindBGPAdvertisement, Name: "adv", Field: "spec.peers[1]", Reason: `no BGPPeer is named "ghost"`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Build(Objects{
				Pools: pools, BGPPeers: peers, Communities: communities, BGPAdvertisements: tt.in, Namespace: testNS,
			})
			checkErrs(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, m.BGPAdvertisements, cmpOpts); diff != "" {
				t.Errorf("BGPAdvertisements mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSelectsService(t *testing.T) {
	tests := []struct {
		name   string
		sels   []labels.Selector
		labels labels.Set
		want   bool
	}{
		{name: "no selectors select every Service", labels: labels.Set{"app": "x"}, want: true},
		{name: "no selectors select a Service without labels", want: true},
		{name: "one of several matches", sels: []labels.Selector{mustSelector(t, "exposure=public"), mustSelector(t, "tier=web")}, labels: labels.Set{"tier": "web"}, want: true},
		{name: "none matches", sels: []labels.Selector{mustSelector(t, "exposure=public")}, labels: labels.Set{"exposure": "private"}, want: false},
		{name: "no labels, a selector", sels: []labels.Selector{mustSelector(t, "exposure=public")}, want: false},
		{name: "empty selector matches everything", sels: []labels.Selector{labels.Everything()}, want: true},
		{name: "NotIn matches a Service without the label", sels: []labels.Selector{mustSelector(t, "exposure notin (private)")}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bgp := BGPAdvertisement{ServiceSelectors: tt.sels}
			l2 := L2Advertisement{ServiceSelectors: tt.sels}
			if got := bgp.SelectsService(tt.labels); got != tt.want {
				t.Errorf("BGPAdvertisement.SelectsService(%v) = %v, want %v", tt.labels, got, tt.want)
			}
			if got := l2.SelectsService(tt.labels); got != tt.want {
				t.Errorf("L2Advertisement.SelectsService(%v) = %v, want %v", tt.labels, got, tt.want)
			}
		})
	}
}
