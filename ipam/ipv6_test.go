package ipam

import (
	"math"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIPv6LargeRanges(t *testing.T) {
	tests := []struct {
		name    string
		ranges  []string
		assign  []string // addresses assigned before allocating
		release []int    // indexes of allocations released before the last round
		n       int      // allocations in the first round
		want    []string // the first round, then one more allocation per released index
		wantErr string
	}{
		{name: "/64 starts at its first address", ranges: []string{"2001:db8::/64"}, n: 3,
			want: []string{"2001:db8::", "2001:db8::1", "2001:db8::2"}},
		{name: "/64 reuses the lowest freed address", ranges: []string{"2001:db8::/64"}, n: 4, release: []int{2, 1},
			want: []string{"2001:db8::", "2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::1", "2001:db8::2"}},
		{name: "/48", ranges: []string{"2001:db8:1::/48"}, n: 2,
			want: []string{"2001:db8:1::", "2001:db8:1::1"}},
		{name: "/48 around an assigned address far away", ranges: []string{"2001:db8:1::/48"}, assign: []string{"2001:db8:1:ffff::5", "2001:db8:1::1"}, n: 2,
			want: []string{"2001:db8:1::", "2001:db8:1::2"}},
		{name: "all of IPv6", ranges: []string{"::/0"}, n: 2, want: []string{"::", "::1"}},
		{name: "carry into the high 64 bits", ranges: []string{"2001:db8::ffff:ffff:ffff:fffe-2001:db8:0:1::1"}, n: 5,
			want:    []string{"2001:db8::ffff:ffff:ffff:fffe", "2001:db8::ffff:ffff:ffff:ffff", "2001:db8:0:1::", "2001:db8:0:1::1"},
			wantErr: `no available IPs in pool "p"`},
		{name: "top of the address space", ranges: []string{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127"}, n: 3,
			want:    []string{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
			wantErr: `no available IPs in pool "p"`},
		{name: "top of the address space, last address assigned", ranges: []string{"::/0"},
			assign: []string{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, n: 1, want: []string{"::"}},
		{name: "bottom of the address space", ranges: []string{"::/127"}, n: 3,
			want: []string{"::", "::1"}, wantErr: `no available IPs in pool "p"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAllocator(t, mkPool("p", true, tt.ranges...))
			for i, ip := range tt.assign {
				if err := a.Assign("ns/assigned-"+strconv.Itoa(i), addrs(ip), Sharing{}, nil); err != nil {
					t.Fatal(err)
				}
			}
			got, err := fill(t, a, IPv6, tt.n)
			for _, i := range tt.release {
				a.Release(keyOf(i))
			}
			for range tt.release {
				ips, _, err := a.Allocate(v6("ns/again-"+strconv.Itoa(len(got)), "p"))
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ips[0].String())
			}
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("allocated (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIPv6TopRangeUsage(t *testing.T) {
	a := newAllocator(t, mkPool("p", false, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127", "::/127"))
	if _, err := fill(t, a, IPv6, 4); err != nil {
		t.Fatal(err)
	}
	got, _ := a.Usage("p")
	if diff := cmp.Diff(Usage{IPv6: FamilyUsage{Assigned: 4}}, got); diff != "" {
		t.Errorf("Usage (-want +got):\n%s", diff)
	}
	a.Release(keyOf(3))
	got, _ = a.Usage("p")
	if diff := cmp.Diff(Usage{IPv6: FamilyUsage{Assigned: 3, Available: 1}}, got); diff != "" {
		t.Errorf("Usage after Release (-want +got):\n%s", diff)
	}
	full, _ := New([]Pool{mkPool("all", false, "::/0")})
	got, _ = full.Usage("all")
	if diff := cmp.Diff(Usage{IPv6: FamilyUsage{Available: math.MaxInt64}}, got); diff != "" {
		t.Errorf("Usage of ::/0 (-want +got):\n%s", diff)
	}
}
