package ipam

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mkRange(first, last string) Range {
	return Range{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last)}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    Range
		wantErr string
	}{
		{name: "ipv4 cidr", input: "192.0.2.0/24", want: mkRange("192.0.2.0", "192.0.2.255")},
		{name: "ipv4 host route", input: "192.0.2.7/32", want: mkRange("192.0.2.7", "192.0.2.7")},
		{name: "all of ipv4", input: "0.0.0.0/0", want: mkRange("0.0.0.0", "255.255.255.255")},
		{name: "ipv4 range", input: "192.0.2.10-192.0.2.20", want: mkRange("192.0.2.10", "192.0.2.20")},
		{name: "ipv4 range with spaces", input: " 192.0.2.10 - 192.0.2.20 ", want: mkRange("192.0.2.10", "192.0.2.20")},
		{name: "single address range", input: "192.0.2.10-192.0.2.10", want: mkRange("192.0.2.10", "192.0.2.10")},
		{name: "ipv6 cidr", input: "2001:db8::/64", want: mkRange("2001:db8::", "2001:db8::ffff:ffff:ffff:ffff")},
		{name: "ipv6 /48", input: "2001:db8:1::/48", want: mkRange("2001:db8:1::", "2001:db8:1:ffff:ffff:ffff:ffff:ffff")},
		{name: "all of ipv6", input: "::/0", want: mkRange("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")},
		{name: "ipv6 range with spaces", input: "2001:db8::1 - 2001:db8::5", want: mkRange("2001:db8::1", "2001:db8::5")},
		{name: "empty", input: "", wantErr: "empty range"},
		{name: "blank", input: "  ", wantErr: "empty range"},
		{name: "bare address", input: "192.0.2.1", wantErr: "want a CIDR or a first-last range"},
		{name: "host bits set", input: "192.0.2.1/24", wantErr: "host bits set (did you mean 192.0.2.0/24?)"},
		{name: "ipv6 host bits set", input: "2001:db8::1/64", wantErr: "host bits set (did you mean 2001:db8::/64?)"},
		{name: "bad prefix length", input: "192.0.2.0/33", wantErr: `range "192.0.2.0/33"`},
		{name: "garbage", input: "pool", wantErr: "want a CIDR or a first-last range"},
		{name: "mixed families", input: "192.0.2.1-2001:db8::1", wantErr: "different families"},
		{name: "first after last", input: "192.0.2.20-192.0.2.10", wantErr: "first address is after last address"},
		{name: "missing last", input: "192.0.2.20-", wantErr: "want both a first and a last address"},
		{name: "missing first", input: "-192.0.2.20", wantErr: "want both a first and a last address"},
		{name: "two dashes", input: "192.0.2.1-192.0.2.2-192.0.2.3", wantErr: "last address"},
		{name: "zone", input: "fe80::1%eth0-fe80::2%eth0", wantErr: "first address has a zone"},
		{name: "zone in prefix", input: "fe80::%eth0/64", wantErr: `range "fe80::%eth0/64"`},
		{name: "4in6 range", input: "::ffff:192.0.2.1-::ffff:192.0.2.9", wantErr: "IPv4-mapped"},
		{name: "4in6 prefix", input: "::ffff:192.0.2.0/120", wantErr: "IPv4-mapped"},
		{name: "cidr and range", input: "192.0.2.0/24-192.0.3.0", wantErr: "first address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRange(tt.input)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseRange(%q) error = %v, want it to contain %q", tt.input, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRange(%q): %v", tt.input, err)
			}
			if diff := cmp.Diff(tt.want, got, addrComparer); diff != "" {
				t.Errorf("ParseRange(%q) (-want +got):\n%s", tt.input, diff)
			}
		})
	}
}

func TestRangeString(t *testing.T) {
	tests := []struct {
		name  string
		input Range
		want  string
	}{
		{name: "ipv4 prefix", input: mkRange("192.0.2.0", "192.0.2.255"), want: "192.0.2.0/24"},
		{name: "ipv4 single", input: mkRange("192.0.2.9", "192.0.2.9"), want: "192.0.2.9/32"},
		{name: "ipv4 unaligned", input: mkRange("192.0.2.1", "192.0.2.255"), want: "192.0.2.1-192.0.2.255"},
		{name: "ipv4 not a power of two", input: mkRange("192.0.2.0", "192.0.2.2"), want: "192.0.2.0-192.0.2.2"},
		{name: "all of ipv4", input: mkRange("0.0.0.0", "255.255.255.255"), want: "0.0.0.0/0"},
		{name: "ipv6 /64", input: mkRange("2001:db8::", "2001:db8::ffff:ffff:ffff:ffff"), want: "2001:db8::/64"},
		{name: "all of ipv6", input: mkRange("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), want: "::/0"},
		{name: "ipv6 range", input: mkRange("2001:db8::1", "2001:db8::5"), want: "2001:db8::1-2001:db8::5"},
		{name: "zero", input: Range{}, want: "invalid IP-invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.input.String()); diff != "" {
				t.Errorf("String() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOverlaps(t *testing.T) {
	nr := func(name, s string) NamedRange {
		r, err := ParseRange(s)
		if err != nil {
			t.Fatal(err)
		}
		return NamedRange{Name: name, Range: r}
	}
	type pair struct{ A, B string }
	tests := []struct {
		name  string
		input []NamedRange
		want  *pair
	}{
		{name: "none", input: nil},
		{name: "disjoint", input: []NamedRange{nr("a", "192.0.2.0/25"), nr("b", "192.0.2.128/25"), nr("c", "2001:db8::/64")}},
		{name: "touching end", input: []NamedRange{nr("a", "192.0.2.0-192.0.2.10"), nr("b", "192.0.2.10-192.0.2.20")},
			want: &pair{"a 192.0.2.0-192.0.2.10", "b 192.0.2.10-192.0.2.20"}},
		{name: "contained, reported in input order", input: []NamedRange{nr("inner", "192.0.2.64/26"), nr("outer", "192.0.2.0/24")},
			want: &pair{"inner 192.0.2.64/26", "outer 192.0.2.0/24"}},
		{name: "lowest overlap wins", input: []NamedRange{
			nr("a", "10.0.0.0/8"), nr("b", "10.1.0.0/16"),
			nr("c", "192.0.2.0/24"), nr("d", "192.0.2.0/28"),
			nr("e", "2001:db8::/32"), nr("f", "2001:db8::/64"),
		}, want: &pair{"a 10.0.0.0/8", "b 10.1.0.0/16"}},
		{name: "long range reaches past short ones", input: []NamedRange{
			nr("a", "192.0.2.0-192.0.2.200"), nr("b", "192.0.2.1/32"), nr("c", "192.0.2.100/32"),
		}, want: &pair{"a 192.0.2.0-192.0.2.200", "b 192.0.2.1/32"}},
		{name: "families never overlap", input: []NamedRange{nr("a", "0.0.0.0/0"), nr("b", "::/0")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b, ok := Overlaps(tt.input)
			var got *pair
			if ok {
				got = &pair{a.Name + " " + a.Range.String(), b.Name + " " + b.Range.String()}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Overlaps (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseRange(f *testing.F) {
	for _, seed := range []string{
		"192.0.2.0/24",
		"192.0.2.10-192.0.2.20",
		" 2001:db8::1 - 2001:db8::5 ",
		"2001:db8::/64",
		"::/0",
		"0.0.0.0/0",
		"192.0.2.1/24",                  // host bits set
		"::ffff:192.0.2.0/120",          // IPv4-mapped prefix
		"::ffff:1.2.3.4-::ffff:1.2.3.5", // IPv4-mapped range
		"fe80::1%eth0-fe80::2%eth0",     // zones
		"192.0.2.1-2001:db8::1",         // mixed families
		"192.0.2.9-192.0.2.1",           // reversed
		"1.2.3.4-",
		"-",
		"",
		"255.255.255.255-255.255.255.255",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ParseRange(%q): empty error", s)
			}
			return
		}
		if err := r.validate(); err != nil {
			t.Fatalf("ParseRange(%q) = %v, which is invalid: %v", s, r, err)
		}
		if !r.Contains(r.First) || !r.Contains(r.Last) {
			t.Fatalf("ParseRange(%q) = %v does not contain its ends", s, r)
		}
		again, err := ParseRange(r.String())
		if err != nil {
			t.Fatalf("ParseRange(%q) = %v, and reparsing %q: %v", s, r, r.String(), err)
		}
		if again != r {
			t.Fatalf("ParseRange(%q) = %v, reparsed as %v", s, r, again)
		}
		if p, ok := r.prefix(); ok && rangeOfPrefix(p) != r {
			t.Fatalf("range %v as prefix %v is %v", r, p, rangeOfPrefix(p))
		}
	})
}
