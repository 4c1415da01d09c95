package ipam

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fill allocates n single-stack services from pool "p" and returns their
// addresses; it stops at the first error and returns it.
func fill(t *testing.T, a *Allocator, fam Family, n int) ([]string, error) {
	t.Helper()
	var got []string
	for i := range n {
		r := Request{Key: keyOf(i), Pools: []string{"p"}, Families: []Family{fam}}
		ips, _, err := a.Allocate(r)
		if err != nil {
			return got, err
		}
		got = append(got, ips[0].String())
	}
	return got, nil
}

func TestAvoidBuggyIPs(t *testing.T) {
	tests := []struct {
		name    string
		ranges  []string
		avoid   bool
		n       int
		want    []string
		wantErr string
	}{
		{name: "skips .0 at the start of a /24", ranges: []string{"192.0.2.0/30"}, avoid: true, n: 4,
			want: []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}, wantErr: `no available IPs in pool "p"`},
		{name: "keeps .0 without the option", ranges: []string{"192.0.2.0/30"}, n: 4,
			want: []string{"192.0.2.0", "192.0.2.1", "192.0.2.2", "192.0.2.3"}},
		{name: "skips .255 and .0 across a /24 boundary", ranges: []string{"192.0.2.253-192.0.3.2"}, avoid: true, n: 5,
			want: []string{"192.0.2.253", "192.0.2.254", "192.0.3.1", "192.0.3.2"}, wantErr: `no available IPs in pool "p"`},
		{name: "range of only buggy addresses", ranges: []string{"192.0.2.255-192.0.3.0"}, avoid: true, n: 1,
			wantErr: `no available IPs in pool "p"`},
		{name: "next range when a range is only buggy", ranges: []string{"192.0.2.0/32", "198.51.100.0/31"}, avoid: true, n: 2,
			want: []string{"198.51.100.1"}, wantErr: `no available IPs in pool "p"`},
		{name: "range ending on .255", ranges: []string{"192.0.2.252/30"}, avoid: true, n: 3,
			want: []string{"192.0.2.252", "192.0.2.253", "192.0.2.254"}},
		{name: "whole /24", ranges: []string{"192.0.2.0/24"}, avoid: true, n: 255,
			want: seq("192.0.2.", 1, 254), wantErr: `no available IPs in pool "p"`},
		{name: "top of IPv4", ranges: []string{"255.255.255.252/30"}, avoid: true, n: 4,
			want: []string{"255.255.255.252", "255.255.255.253", "255.255.255.254"}, wantErr: `no available IPs in pool "p"`},
		{name: "ipv6 is never buggy", ranges: []string{"2001:db8::ff/128", "2001:db8::100/128"}, avoid: true, n: 2,
			want: []string{"2001:db8::ff", "2001:db8::100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAllocator(t, mkPool("p", tt.avoid, tt.ranges...))
			fam := IPv4
			if r, _ := ParseRange(tt.ranges[0]); r.Family() == IPv6 {
				fam = IPv6
			}
			got, err := fill(t, a, fam, tt.n)
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("allocated (-want +got):\n%s", diff)
			}
		})
	}
}

// keyOf names the i-th service that fill allocates.
func keyOf(i int) string { return "ns/svc-" + strconv.Itoa(i) }

func seq(prefix string, from, to int) []string {
	var s []string
	for i := from; i <= to; i++ {
		s = append(s, prefix+strconv.Itoa(i))
	}
	return s
}

// TestAvoidBuggyIPsManyFullSubnets fills ten /24s of a /16 and checks the
// next addresses and the reuse of a freed one across the boundaries.
func TestAvoidBuggyIPsManyFullSubnets(t *testing.T) {
	a := newAllocator(t, mkPool("p", true, "10.0.0.0/16"))
	got, err := fill(t, a, IPv4, 2540)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.1", "10.0.0.254", "10.0.1.1", "10.0.9.254"}
	if diff := cmp.Diff(want, []string{got[0], got[253], got[254], got[2539]}); diff != "" {
		t.Errorf("allocated (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		name    string
		release string
		want    string
	}{
		{name: "after ten full /24s", want: "10.0.10.1"},
		{name: "freed .254 before a boundary", release: "ns/svc-253", want: "10.0.0.254"},
		{name: "freed .1 after a boundary", release: "ns/svc-254", want: "10.0.1.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.release != "" {
				a.Release(tt.release)
			}
			key := "ns/new-" + tt.name
			ips, _, err := a.Allocate(v4(key, "p"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ips[0].String()); diff != "" {
				t.Errorf("Allocate (-want +got):\n%s", diff)
			}
		})
	}
}
