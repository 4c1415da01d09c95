package ipam

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func addrs(ss ...string) []netip.Addr {
	var ips []netip.Addr
	for _, s := range ss {
		ips = append(ips, netip.MustParseAddr(s))
	}
	return ips
}

func TestAssign(t *testing.T) {
	pools := []Pool{
		mkPool("a", true, "192.0.2.0/24", "2001:db8:a::/64"),
		mkPool("b", false, "198.51.100.0/24", "2001:db8:b::/64"),
	}
	type input struct {
		key     string
		ips     []netip.Addr
		sharing Sharing
		allowed []string
	}
	web := Sharing{Key: "k", Backend: "backend", Ports: []Port{tcp(80), udp(53)}}
	tests := []struct {
		name    string
		before  []Request
		input   input
		want    result
		wantErr *AssignError
		wantMsg string
	}{
		{name: "free IP", input: input{key: "ns/s", ips: addrs("192.0.2.7")},
			want: result{IPs: []string{"192.0.2.7"}, Pool: "a"}},
		{name: "dual stack pair in given order", input: input{key: "ns/s", ips: addrs("2001:db8:b::9", "198.51.100.9"), allowed: []string{"b"}},
			want: result{IPs: []string{"2001:db8:b::9", "198.51.100.9"}, Pool: "b"}},
		{name: "buggy address allowed without the option", input: input{key: "ns/s", ips: addrs("198.51.100.0")},
			want: result{IPs: []string{"198.51.100.0"}, Pool: "b"}},
		{name: "same IP again", before: []Request{v4("ns/s", "a")}, input: input{key: "ns/s", ips: addrs("192.0.2.1")},
			want: result{IPs: []string{"192.0.2.1"}, Pool: "a"}},
		{name: "compatible shared IP",
			before: []Request{shared(v4("ns/web", "a"), "k", "backend", tcp(80))},
			input:  input{key: "ns/s", ips: addrs("192.0.2.1"), sharing: Sharing{Key: "k", Backend: "backend", Ports: []Port{tcp(443)}}},
			want:   result{IPs: []string{"192.0.2.1"}, Pool: "a"}},
		{name: "not in any pool", input: input{key: "ns/s", ips: addrs("203.0.113.1")},
			wantErr: &AssignError{IP: netip.MustParseAddr("203.0.113.1"), Reason: ReasonNotInAnyPool},
			wantMsg: "203.0.113.1 is not in any pool"},
		{name: "pool not allowed", input: input{key: "ns/s", ips: addrs("192.0.2.7"), allowed: []string{"b"}},
			wantErr: &AssignError{IP: netip.MustParseAddr("192.0.2.7"), Reason: ReasonPoolNotAllowed, Pool: "a"},
			wantMsg: `192.0.2.7 is in pool "a", which this service may not use`},
		{name: "empty allowed list allows nothing", input: input{key: "ns/s", ips: addrs("192.0.2.7"), allowed: []string{}},
			wantErr: &AssignError{IP: netip.MustParseAddr("192.0.2.7"), Reason: ReasonPoolNotAllowed, Pool: "a"},
			wantMsg: `192.0.2.7 is in pool "a", which this service may not use`},
		{name: "buggy IP", input: input{key: "ns/s", ips: addrs("192.0.2.255")},
			wantErr: &AssignError{IP: netip.MustParseAddr("192.0.2.255"), Reason: ReasonBuggyIP, Pool: "a"},
			wantMsg: `192.0.2.255 is in pool "a", which avoids IPs ending in .0 or .255`},
		{name: "in use, not shareable", before: []Request{v4("ns/other", "a")},
			input:   input{key: "ns/s", ips: addrs("192.0.2.1"), sharing: web},
			wantErr: &AssignError{IP: netip.MustParseAddr("192.0.2.1"), Reason: ReasonNotShareable, Pool: "a", Holder: "ns/other"},
			wantMsg: "192.0.2.1 is already in use by ns/other (not shareable)"},
		{name: "in use, ports overlap",
			before: []Request{
				shared(v4("ns/dns", "a"), "k", "backend", udp(53)),
				shared(v4("ns/web", "a"), "k", "backend", tcp(80)),
			},
			input: input{key: "ns/s", ips: addrs("192.0.2.1"), sharing: web},
			wantErr: &AssignError{IP: netip.MustParseAddr("192.0.2.1"), Reason: ReasonPortsOverlap, Pool: "a",
				Holder: "ns/web", Ports: []Port{tcp(80), udp(53)}},
			wantMsg: "192.0.2.1 is already in use by ns/web (ports overlap: TCP/80, UDP/53)"},
		{name: "in use, different backend", before: []Request{shared(v4("ns/other", "a"), "k", "elsewhere", tcp(443))},
			input:   input{key: "ns/s", ips: addrs("192.0.2.1"), sharing: web},
			wantErr: &AssignError{IP: netip.MustParseAddr("192.0.2.1"), Reason: ReasonBackendMismatch, Pool: "a", Holder: "ns/other"},
			wantMsg: "192.0.2.1 is already in use by ns/other (different backend)"},
		{name: "in use, different sharing key", before: []Request{shared(v4("ns/other", "a"), "j", "backend", tcp(443))},
			input:   input{key: "ns/s", ips: addrs("192.0.2.1"), sharing: web},
			wantErr: &AssignError{IP: netip.MustParseAddr("192.0.2.1"), Reason: ReasonSharingKeyMismatch, Pool: "a", Holder: "ns/other"},
			wantMsg: "192.0.2.1 is already in use by ns/other (different sharing key)"},
		{name: "different pools", input: input{key: "ns/s", ips: addrs("192.0.2.1", "2001:db8:b::1")},
			wantErr: &AssignError{IP: netip.MustParseAddr("2001:db8:b::1"), Reason: ReasonInvalid, Pool: "b",
				Detail: `192.0.2.1 and 2001:db8:b::1 are in different pools "a" and "b"`},
			wantMsg: `invalid IPs: 192.0.2.1 and 2001:db8:b::1 are in different pools "a" and "b"`},
		{name: "two of a family", input: input{key: "ns/s", ips: addrs("192.0.2.1", "192.0.2.2")},
			wantErr: &AssignError{IP: netip.MustParseAddr("192.0.2.2"), Reason: ReasonInvalid, Detail: "two IPv4 addresses, 192.0.2.1 and 192.0.2.2"},
			wantMsg: "invalid IPs: two IPv4 addresses, 192.0.2.1 and 192.0.2.2"},
		{name: "no IPs", input: input{key: "ns/s"},
			wantErr: &AssignError{Reason: ReasonInvalid, Detail: "no IPs"}, wantMsg: "invalid IPs: no IPs"},
		{name: "three IPs", input: input{key: "ns/s", ips: addrs("192.0.2.1", "2001:db8:a::1", "192.0.2.2")},
			wantErr: &AssignError{Reason: ReasonInvalid, Detail: "3 IPs, want at most 2"}, wantMsg: "invalid IPs: 3 IPs, want at most 2"},
		{name: "no key", input: input{ips: addrs("192.0.2.1")},
			wantErr: &AssignError{Reason: ReasonInvalid, Detail: "empty service key"}, wantMsg: "invalid IPs: empty service key"},
		{name: "zero address", input: input{key: "ns/s", ips: []netip.Addr{{}}},
			wantErr: &AssignError{Reason: ReasonInvalid, Detail: "missing IP"}, wantMsg: "invalid IPs: missing IP"},
		{name: "zone", input: input{key: "ns/s", ips: addrs("2001:db8:a::1%eth0")},
			wantErr: &AssignError{IP: netip.MustParseAddr("2001:db8:a::1%eth0"), Reason: ReasonInvalid, Detail: "2001:db8:a::1%eth0 has a zone"},
			wantMsg: "invalid IPs: 2001:db8:a::1%eth0 has a zone"},
		{name: "ipv4-mapped", input: input{key: "ns/s", ips: addrs("::ffff:192.0.2.1")},
			wantErr: &AssignError{IP: netip.MustParseAddr("::ffff:192.0.2.1"), Reason: ReasonInvalid, Detail: "::ffff:192.0.2.1 is an IPv4-mapped IPv6 address"},
			wantMsg: "invalid IPs: ::ffff:192.0.2.1 is an IPv4-mapped IPv6 address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAllocator(t, pools...)
			for _, r := range tt.before {
				mustAllocate(t, a, r)
			}
			err := a.Assign(tt.input.key, tt.input.ips, tt.input.sharing, tt.input.allowed)
			var got *AssignError
			if err != nil && !errors.As(err, &got) {
				t.Fatalf("Assign error %v is not an *AssignError", err)
			}
			if diff := cmp.Diff(tt.wantErr, got, addrComparer); diff != "" {
				t.Fatalf("Assign error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantMsg, errString(err)); diff != "" {
				t.Errorf("Assign error message (-want +got):\n%s", diff)
			}
			if err == nil {
				if diff := cmp.Diff(tt.want, toResult(a.Holding(tt.input.key))); diff != "" {
					t.Errorf("Holding (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestAssignReplaces(t *testing.T) {
	a := newAllocator(t, mkPool("a", false, "192.0.2.0/29"))
	if err := a.Assign("ns/s", addrs("192.0.2.3"), Sharing{}, nil); err != nil {
		t.Fatal(err)
	}
	mustAllocate(t, a, v4("ns/other", "a"))

	// A failed Assign keeps the old holding.
	if err := a.Assign("ns/s", addrs("192.0.2.0"), Sharing{}, nil); err == nil {
		t.Fatal("Assign of an IP in use succeeded")
	}
	if diff := cmp.Diff(result{IPs: []string{"192.0.2.3"}, Pool: "a"}, toResult(a.Holding("ns/s"))); diff != "" {
		t.Errorf("Holding after failed Assign (-want +got):\n%s", diff)
	}

	// A successful one frees the old IP.
	if err := a.Assign("ns/s", addrs("192.0.2.5"), Sharing{}, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(result{IPs: []string{"192.0.2.5"}, Pool: "a"}, toResult(a.Holding("ns/s"))); diff != "" {
		t.Errorf("Holding after Assign (-want +got):\n%s", diff)
	}
	got := []result{mustAllocate(t, a, v4("ns/x", "a")), mustAllocate(t, a, v4("ns/y", "a")), mustAllocate(t, a, v4("ns/z", "a"))}
	want := []result{
		{IPs: []string{"192.0.2.1"}, Pool: "a"},
		{IPs: []string{"192.0.2.2"}, Pool: "a"},
		{IPs: []string{"192.0.2.3"}, Pool: "a"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Allocate after Assign (-want +got):\n%s", diff)
	}
}
