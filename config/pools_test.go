package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/api/v1beta1"
)

func TestPools(t *testing.T) {
	withSA := func(p v1beta1.IPAddressPool, sa v1beta1.ServiceAllocation) v1beta1.IPAddressPool {
		p.Spec.ServiceAllocation = &sa
		return p
	}
	tests := []struct {
		name    string
		in      []v1beta1.IPAddressPool
		want    []Pool
		wantErr []FieldError
	}{
		{
			name: "defaults, sorted pools and ranges",
			in: []v1beta1.IPAddressPool{
				mkPool("b", "2001:db8::/120", "192.0.2.128/25", "192.0.2.10 - 192.0.2.20"),
				mkPool("a", "198.51.100.0/24"),
			},
			want: []Pool{
				{Name: "a", AutoAssign: true, Ranges: ranges(t, "198.51.100.0/24")},
				{Name: "b", AutoAssign: true, Ranges: ranges(t, "192.0.2.10-192.0.2.20", "192.0.2.128/25", "2001:db8::/120")},
			},
		},
		{
			name: "flags and labels",
			in: []v1beta1.IPAddressPool{func() v1beta1.IPAddressPool {
				p := mkPool("a", "192.0.2.0/24")
				p.Labels = map[string]string{"zone": "east"}
				p.Spec.AutoAssign = ptr(false)
				p.Spec.AvoidBuggyIPs = true
				return p
			}()},
			want: []Pool{{Name: "a", Labels: labels.Set{"zone": "east"}, Ranges: ranges(t, "192.0.2.0/24"), AutoAssign: false, AvoidBuggyIPs: true}},
		},
		{
			name: "explicit autoAssign true",
			in: []v1beta1.IPAddressPool{func() v1beta1.IPAddressPool {
				p := mkPool("a", "192.0.2.0/24")
				p.Spec.AutoAssign = ptr(true)
				return p
			}()},
			want: []Pool{{Name: "a", Ranges: ranges(t, "192.0.2.0/24"), AutoAssign: true}},
		},
		{
			name: "service allocation",
			in: []v1beta1.IPAddressPool{withSA(mkPool("a", "192.0.2.0/24"), v1beta1.ServiceAllocation{
				Priority:           5,
				Namespaces:         []string{"web", "db"},
				NamespaceSelectors: []metav1.LabelSelector{labelSel("team", "blue")},
				ServiceSelectors:   []metav1.LabelSelector{labelSel("tier", "front")},
			})},
			want: []Pool{{Name: "a", Ranges: ranges(t, "192.0.2.0/24"), AutoAssign: true, ServiceAllocation: &ServiceAllocation{
				Priority:           5,
				Namespaces:         []string{"db", "web"},
				NamespaceSelectors: []labels.Selector{mustSelector(t, "team=blue")},
				ServiceSelectors:   []labels.Selector{mustSelector(t, "tier=front")},
			}}},
		},
		{
			name: "empty service allocation",
			in:   []v1beta1.IPAddressPool{withSA(mkPool("a", "192.0.2.0/24"), v1beta1.ServiceAllocation{})},
			want: []Pool{{Name: "a", Ranges: ranges(t, "192.0.2.0/24"), AutoAssign: true, ServiceAllocation: &ServiceAllocation{}}},
		},
		{
			name: "bad addresses",
			in:   []v1beta1.IPAddressPool{mkPool("pool-a", "192.0.2.0/24", "192.0.2.0/33", "198.51.100.1/24", "10.0.0.5-10.0.0.1", "10.0.0.1-2001:db8::1", "bogus")},
			wantErr: []FieldError{
				{Kind: KindIPAddressPool, Name: "pool-a", Field: "spec.addresses[1]", Reason: `"192.0.2.0/33" is not a valid CIDR or range: `},
				{Kind: KindIPAddressPool, Name: "pool-a", Field: "spec.addresses[2]", Reason: `"198.51.100.1/24" is not a valid CIDR or range: `},
				{Kind: KindIPAddressPool, Name: "pool-a", Field: "spec.addresses[3]", Reason: `"10.0.0.5-10.0.0.1" is not a valid CIDR or range: `},
				{Kind: KindIPAddressPool, Name: "pool-a", Field: "spec.addresses[4]", Reason: `"10.0.0.1-2001:db8::1" is not a valid CIDR or range: `},
				{Kind: KindIPAddressPool, Name: "pool-a", Field: "spec.addresses[5]", Reason: `"bogus" is not a valid CIDR or range: `},
			},
		},
		{
			name: "no addresses",
			in:   []v1beta1.IPAddressPool{mkPool("a")},
			wantErr: []FieldError{
				{Kind: KindIPAddressPool, Name: "a", Field: "spec.addresses", Reason: "must list at least one CIDR or range"},
			},
		},
		{
			name: "bad service allocation",
			in: []v1beta1.IPAddressPool{withSA(mkPool("a", "192.0.2.0/24"), v1beta1.ServiceAllocation{
				Priority:           -1,
				Namespaces:         []string{"web", "", "web"},
				NamespaceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"bad key!": "x"}}},
				ServiceSelectors:   []metav1.LabelSelector{labelSel("ok", "yes"), {MatchLabels: map[string]string{"k": "bad value!"}}},
			})},
			wantErr: []FieldError{
				{Kind: KindIPAddressPool, Name: "a", Field: "spec.serviceAllocation.priority", Reason: "-1 is negative; use 0 for no priority"},
				{Kind: KindIPAddressPool, Name: "a", Field: "spec.serviceAllocation.namespaces[1]", Reason: "must not be empty"},
				{Kind: KindIPAddressPool, Name: "a", Field: "spec.serviceAllocation.namespaces[2]", Reason: `"web" is listed twice`},
				{Kind: KindIPAddressPool, Name: "a", Field: "spec.serviceAllocation.namespaceSelectors[0]", Reason: "invalid label selector: "},
				{Kind: KindIPAddressPool, Name: "a", Field: "spec.serviceAllocation.serviceSelectors[1]", Reason: "invalid label selector: "},
			},
		},
		{
			name: "overlapping pools",
			in: []v1beta1.IPAddressPool{
				mkPool("b", "192.0.2.128/25"),
				mkPool("a", "192.0.2.0/24"),
				mkPool("c", "192.0.2.200-192.0.2.210", "2001:db8::/64"),
				mkPool("d", "2001:db8::ff-2001:db8::1ff"),
			},
			wantErr: []FieldError{
				{Kind: KindIPAddressPool, Name: "b", Field: "spec.addresses[0]", Reason: `"192.0.2.128/25" overlaps "192.0.2.0/24" (spec.addresses[0] of IPAddressPool "a")`},
				{Kind: KindIPAddressPool, Name: "c", Field: "spec.addresses[0]", Reason: `"192.0.2.200-192.0.2.210" overlaps "192.0.2.0/24" (spec.addresses[0] of IPAddressPool "a")`},
				{Kind: KindIPAddressPool, Name: "d", Field: "spec.addresses[0]", Reason: `"2001:db8::ff-2001:db8::1ff" overlaps "2001:db8::/64" (spec.addresses[1] of IPAddressPool "c")`},
			},
		},
		{
			name: "overlap within a pool and same first address",
			in:   []v1beta1.IPAddressPool{mkPool("a", "192.0.2.0/24", "192.0.2.0/25")},
			wantErr: []FieldError{
				{Kind: KindIPAddressPool, Name: "a", Field: "spec.addresses[0]", Reason: `"192.0.2.0/24" overlaps "192.0.2.0/25" (spec.addresses[1] of the same pool)`},
			},
		},
		{
			name: "adjacent ranges and different families do not overlap",
			in: []v1beta1.IPAddressPool{
				mkPool("a", "192.0.2.0/25", "::/120"),
				mkPool("b", "192.0.2.128-192.0.2.255", "0.0.0.0/32"),
			},
			want: []Pool{
				{Name: "a", AutoAssign: true, Ranges: ranges(t, "192.0.2.0/25", "::/120")},
				{Name: "b", AutoAssign: true, Ranges: ranges(t, "0.0.0.0/32", "192.0.2.128-192.0.2.255")},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Build(Objects{Pools: tt.in, Namespace: testNS})
			checkErrs(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, m.Pools, cmpOpts); diff != "" {
				t.Errorf("Pools mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWidestPrefix(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{name: "ipv4 cidr", in: "192.0.2.0/24", want: 24},
		{name: "single ipv4", in: "192.0.2.7/32", want: 32},
		{name: "ipv4 range", in: "192.0.2.10-192.0.2.20", want: 30},
		{name: "ipv4 range with a /25 inside", in: "192.0.2.1-192.0.2.255", want: 25},
		{name: "whole ipv4", in: "0.0.0.0/0", want: 0},
		{name: "from zero", in: "0.0.0.0-0.0.0.5", want: 30},
		{name: "to the top", in: "255.255.255.0-255.255.255.255", want: 24},
		{name: "ipv6 cidr", in: "2001:db8::/64", want: 64},
		{name: "whole ipv6", in: "::/0", want: 0},
		{name: "ipv6 range", in: "2001:db8::1-2001:db8::ff", want: 121},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := widestPrefix(mustRange(t, tt.in)); got != tt.want {
				t.Errorf("widestPrefix(%s) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}
