package ipam

import (
	"math"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestU128(t *testing.T) {
	top := u128{hi: math.MaxUint64, lo: math.MaxUint64}
	tests := []struct {
		name  string
		input u128
		want  u128
	}{
		{name: "inc carries into hi", input: u128{lo: math.MaxUint64}.inc(), want: u128{hi: 1}},
		{name: "dec borrows from hi", input: u128{hi: 1}.dec(), want: u128{lo: math.MaxUint64}},
		{name: "sub across halves", input: u128{hi: 2, lo: 1}.sub(u128{hi: 1, lo: 2}), want: u128{lo: math.MaxUint64}},
		{name: "add across halves", input: u128{hi: 1, lo: math.MaxUint64}.add(u128{lo: 2}), want: u128{hi: 2, lo: 1}},
		{name: "max wraps", input: top.inc(), want: u128{}},
		{name: "ipv6 address", input: u128FromAddr(netip.MustParseAddr("2001:db8::ffff:ffff:ffff:fffe")),
			want: u128{hi: 0x20010db800000000, lo: 0xfffffffffffffffe}},
		{name: "ipv4 address", input: u128FromAddr(netip.MustParseAddr("192.0.2.1")), want: u128{lo: 0xc0000201}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.input, cmp.AllowUnexported(u128{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestU128Addr(t *testing.T) {
	for _, s := range []string{"::", "::1", "2001:db8::ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0.0.0.0", "255.255.255.255", "192.0.2.1"} {
		a := netip.MustParseAddr(s)
		if got := addrOf(a.Is4(), u128FromAddr(a)); got != a {
			t.Errorf("round trip of %s = %s", a, got)
		}
	}
}

func TestBuggyRank(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  uint64
	}{
		{name: ".0 ranks like the .1 after it", input: "0.0.0.0", want: 0},
		{name: ".1", input: "0.0.0.1", want: 0},
		{name: ".254", input: "0.0.0.254", want: 253},
		{name: ".255 ranks like the next .1", input: "0.0.0.255", want: 254},
		{name: "next /24", input: "0.0.1.1", want: 254},
		{name: "top", input: "255.255.255.254", want: 1<<24*254 - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, buggyRank(u128FromAddr(netip.MustParseAddr(tt.input)).lo)); diff != "" {
				t.Errorf("buggyRank(%s) (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}
