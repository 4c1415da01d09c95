package ipam

import (
	"math"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		input   []Pool
		wantErr string
	}{
		{name: "no pools"},
		{name: "valid", input: []Pool{mkPool("a", true, "192.0.2.0/24", "2001:db8::/64"), mkPool("b", false, "198.51.100.0/24")}},
		{name: "pool without ranges", input: []Pool{{Name: "a"}}},
		{name: "no name", input: []Pool{mkPool("", false, "192.0.2.0/24")}, wantErr: "pool 0 has no name"},
		{name: "duplicate name", input: []Pool{mkPool("a", false, "192.0.2.0/25"), mkPool("a", false, "192.0.2.128/25")},
			wantErr: `pool "a": duplicate name`},
		{name: "overlap within a pool", input: []Pool{mkPool("a", false, "192.0.2.0/24", "192.0.2.100-192.0.3.5")},
			wantErr: `pool "a": ranges 192.0.2.0/24 and 192.0.2.100-192.0.3.5 overlap`},
		{name: "overlap between pools", input: []Pool{mkPool("a", false, "2001:db8::/48"), mkPool("b", false, "2001:db8::/64")},
			wantErr: `pools "a" and "b" overlap: 2001:db8::/48 and 2001:db8::/64`},
		{name: "reversed range", input: []Pool{{Name: "a", Ranges: []Range{mkRange("192.0.2.9", "192.0.2.1")}}},
			wantErr: `pool "a": range 192.0.2.9-192.0.2.1: first address is after last address`},
		{name: "mixed range", input: []Pool{{Name: "a", Ranges: []Range{mkRange("192.0.2.9", "2001:db8::1")}}},
			wantErr: `pool "a": range 192.0.2.9-2001:db8::1: first and last address are of different families`},
		{name: "zero range", input: []Pool{{Name: "a", Ranges: []Range{{}}}},
			wantErr: `pool "a": range invalid IP-invalid IP: missing address`},
		{name: "zone", input: []Pool{{Name: "a", Ranges: []Range{mkRange("fe80::1%eth0", "fe80::2%eth0")}}},
			wantErr: `pool "a": range fe80::1%eth0-fe80::2%eth0: addresses with zones are not allowed`},
		{name: "ipv4-mapped", input: []Pool{{Name: "a", Ranges: []Range{mkRange("::ffff:192.0.2.1", "::ffff:192.0.2.2")}}},
			wantErr: `pool "a": range ::ffff:192.0.2.1-::ffff:192.0.2.2: IPv4-mapped IPv6 addresses are not allowed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.input)
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Errorf("New error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPoolOf(t *testing.T) {
	a := newAllocator(t,
		mkPool("a", true, "192.0.2.0/24", "2001:db8::/64"),
		mkPool("b", false, "198.51.100.10-198.51.100.20"),
	)
	type found struct {
		Pool string
		OK   bool
	}
	tests := []struct {
		name  string
		input string
		want  found
	}{
		{name: "ipv4", input: "192.0.2.77", want: found{"a", true}},
		{name: "buggy address is still in the pool", input: "192.0.2.255", want: found{"a", true}},
		{name: "range start", input: "198.51.100.10", want: found{"b", true}},
		{name: "range end", input: "198.51.100.20", want: found{"b", true}},
		{name: "after range", input: "198.51.100.21", want: found{}},
		{name: "before everything", input: "0.0.0.1", want: found{}},
		{name: "ipv6", input: "2001:db8::ffff:ffff:ffff:ffff", want: found{"a", true}},
		{name: "ipv6 outside", input: "2001:db8:0:1::", want: found{}},
		{name: "ipv4-mapped", input: "::ffff:192.0.2.77", want: found{}},
		{name: "zoned", input: "2001:db8::1%eth0", want: found{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool, ok := a.PoolOf(netip.MustParseAddr(tt.input))
			if diff := cmp.Diff(tt.want, found{pool, ok}); diff != "" {
				t.Errorf("PoolOf(%s) (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}

func TestUsage(t *testing.T) {
	pools := []Pool{
		mkPool("buggy", true, "192.0.2.0/24", "192.0.3.255-192.0.4.0", "2001:db8::/120"),
		mkPool("plain", false, "198.51.100.0/24", "2001:db8:1::/64"),
		mkPool("huge", false, "3000::/4"),
		mkPool("all", false, "8000::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0.0.0.0/1"),
	}
	dual := func(key, pool string) Request {
		return Request{Key: key, Pools: []string{pool}, Families: []Family{IPv4, IPv6}, Policy: RequireDualStack}
	}
	tests := []struct {
		name   string
		before []Request
		input  string
		want   Usage
		wantOK bool
	}{
		{name: "unknown pool", input: "nope"},
		{name: "buggy addresses are not available", input: "buggy", wantOK: true,
			want: Usage{IPv4: FamilyUsage{Available: 254}, IPv6: FamilyUsage{Available: 256}}},
		{name: "assigned counts addresses", input: "buggy", wantOK: true,
			before: []Request{dual("ns/1", "buggy"), dual("ns/2", "buggy"), v6("ns/3", "buggy")},
			want:   Usage{IPv4: FamilyUsage{Assigned: 2, Available: 252}, IPv6: FamilyUsage{Assigned: 3, Available: 253}}},
		{name: "a shared address counts once", input: "plain", wantOK: true,
			before: []Request{
				shared(v4("ns/1", "plain"), "k", "b", tcp(80)),
				shared(v4("ns/2", "plain"), "k", "b", tcp(443)),
			},
			want: Usage{IPv4: FamilyUsage{Assigned: 1, Available: 255}, IPv6: FamilyUsage{Available: math.MaxInt64}}},
		{name: "a /4 of IPv6 saturates", input: "huge", wantOK: true, before: []Request{v6("ns/1", "huge")},
			want: Usage{IPv6: FamilyUsage{Assigned: 1, Available: math.MaxInt64}}},
		{name: "half of each family", input: "all", wantOK: true, before: []Request{dual("ns/1", "all")},
			want: Usage{IPv4: FamilyUsage{Assigned: 1, Available: 1<<31 - 1}, IPv6: FamilyUsage{Assigned: 1, Available: math.MaxInt64}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAllocator(t, pools...)
			for _, r := range tt.before {
				mustAllocate(t, a, r)
			}
			got, ok := a.Usage(tt.input)
			if ok != tt.wantOK {
				t.Fatalf("Usage(%q) ok = %v, want %v", tt.input, ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Usage(%q) (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}
