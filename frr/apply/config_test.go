package apply

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want []string // flatten()
	}{
		{
			name: "indented without exits",
			text: "router bgp 1\n neighbor 192.0.2.2 remote-as 2\n address-family ipv4 unicast\n  network 198.51.100.1/32\n address-family ipv6 unicast\n  network 2001:db8::1/128\nip prefix-list a seq 5 permit 198.51.100.0/24\n",
			want: []string{
				"ip prefix-list a seq 5 permit 198.51.100.0/24",
				"router bgp 1 > address-family ipv4 unicast > network 198.51.100.1/32",
				"router bgp 1 > address-family ipv6 unicast > network 2001:db8::1/128",
				"router bgp 1 > neighbor 192.0.2.2 remote-as 2",
			},
		},
		{
			name: "flat with exits",
			text: "router bgp 1\nneighbor 192.0.2.2 remote-as 2\naddress-family ipv4 unicast\nnetwork 198.51.100.1/32\nexit-address-family\nbgp router-id 192.0.2.1\nexit\nroute-map rm permit 10\nset local-preference 5\nexit\n",
			want: []string{
				"route-map rm permit 10 > set local-preference 5",
				"router bgp 1 > address-family ipv4 unicast > network 198.51.100.1/32",
				"router bgp 1 > bgp router-id 192.0.2.1",
				"router bgp 1 > neighbor 192.0.2.2 remote-as 2",
			},
		},
		{
			name: "flat, top-level line ends the context",
			text: "route-map rm permit 10\nset local-preference 5\nip prefix-list a seq 5 permit 198.51.100.0/24\n",
			want: []string{
				"ip prefix-list a seq 5 permit 198.51.100.0/24",
				"route-map rm permit 10 > set local-preference 5",
			},
		},
		{
			name: "bang in first column ends the context",
			text: "route-map rm permit 10\nset local-preference 5\n!\nhostname x\n",
			want: []string{"hostname x", "route-map rm permit 10 > set local-preference 5"},
		},
		{
			name: "show running-config output",
			text: "% The route-map 'x' does not exist.\nBuilding configuration...\n\nCurrent configuration:\n!\nfrr version 8.4.4\nfrr defaults traditional\n!\nrouter bgp 1\n neighbor 192.0.2.2 remote-as 2\n !\n address-family ipv4 unicast\n  network 198.51.100.1/32\n exit-address-family\nexit\n!\nend\n",
			want: []string{
				"frr defaults traditional", "frr version 8.4.4",
				"router bgp 1 > address-family ipv4 unicast > network 198.51.100.1/32",
				"router bgp 1 > neighbor 192.0.2.2 remote-as 2",
			},
		},
		{
			name: "bfd peer profile line vs bfd profile",
			text: "bfd\n peer 192.0.2.2\n  profile p\n exit\n profile p\n  detect-multiplier 5\n exit\nexit\n",
			want: []string{"bfd > peer 192.0.2.2 > profile p", "bfd > profile p > detect-multiplier 5"},
		},
		{
			name: "normalization",
			text: "router bgp 1\n\tneighbor   2001:DB8:0:0::2   remote-as 2\n address-family ipv6\n  network 2001:db8:0::1/128\n",
			want: []string{
				"router bgp 1 > address-family ipv6 unicast > network 2001:db8::1/128",
				"router bgp 1 > neighbor 2001:db8::2 remote-as 2",
			},
		},
		{
			name: "duplicates merge",
			text: "ip prefix-list a seq 5 permit 198.51.100.0/24\nroute-map rm permit 10\n set tag 1\nexit\nip prefix-list a seq 5 permit 198.51.100.0/24\nroute-map rm permit 10\n set tag 1\n set weight 2\nexit\n",
			want: []string{"ip prefix-list a seq 5 permit 198.51.100.0/24", "route-map rm permit 10 > set tag 1", "route-map rm permit 10 > set weight 2"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := flatten(Parse([]byte(tc.text)))
			if diff := cmp.Diff(tc.want, withVersion(tc.text, got)); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

// withVersion adds back the lines flatten leaves out, for the one case
// that checks they are parsed as top-level lines.
func withVersion(text string, got []string) []string {
	if !strings.Contains(text, "frr version") {
		return got
	}
	out := []string{"frr defaults traditional", "frr version 8.4.4"}
	return append(out, got...)
}

func TestParseBytesRoundTrip(t *testing.T) {
	c := Parse([]byte(base))
	again := Parse(c.Bytes())
	if diff := cmp.Diff(flatten(c), flatten(again)); diff != "" {
		t.Errorf("Parse(Bytes()) differs (-want +got):\n%s", diff)
	}
}

func TestVerify(t *testing.T) {
	shown := Parse([]byte(`hostname vm
ip prefix-list pl seq 5 permit 198.51.100.0/24
router bgp 1
 neighbor 192.0.2.2 remote-as 2
 address-family ipv4 unicast
  network 198.51.100.1/32
 exit-address-family
exit
bfd
 profile p
 exit
exit
`))
	bgp := []string{"router bgp 1"}
	af := []string{"router bgp 1", "address-family ipv4 unicast"}
	for _, tc := range []struct {
		name   string
		checks []Check
		want   []Check
	}{
		{name: "present and absent", checks: []Check{
			{Context: af, Line: "network 198.51.100.1/32", Present: true},
			{Context: af, Line: "network 198.51.100.2/32", Present: false},
			{Context: bgp, Line: "neighbor 192.0.2.2 remote-as 2", Present: true},
		}},
		{name: "missing and still present", checks: []Check{
			{Context: af, Line: "network 198.51.100.2/32", Present: true},
			{Context: bgp, Line: "neighbor 192.0.2.2 remote-as 2", Present: false},
		}, want: []Check{
			{Context: af, Line: "network 198.51.100.2/32", Present: true},
			{Context: bgp, Line: "neighbor 192.0.2.2 remote-as 2", Present: false},
		}},
		{name: "missing context", checks: []Check{
			{Context: []string{"router bgp 2"}, Line: "bgp router-id 192.0.2.1", Present: true},
			{Context: []string{"router bgp 2"}, Line: "bgp router-id 192.0.2.1", Present: false},
		}, want: []Check{
			{Context: []string{"router bgp 2"}, Line: "bgp router-id 192.0.2.1", Present: true},
		}},
		{name: "prefix-list without seq", checks: []Check{
			{Line: "ip prefix-list pl permit 198.51.100.0/24", Present: true},
			{Line: "ip prefix-list pl permit 203.0.113.0/24", Present: false},
		}},
		{name: "removed prefix-list without seq still there", checks: []Check{
			{Line: "ip prefix-list pl permit 198.51.100.0/24", Present: false},
		}, want: []Check{
			{Line: "ip prefix-list pl permit 198.51.100.0/24", Present: false},
		}},
		{name: "defaults FRR does not print", checks: []Check{
			{Line: "hostname node1", Present: true},
			{Context: af, Line: "neighbor 192.0.2.2 activate", Present: true},
			{Context: []string{"bfd", "profile p"}, Line: "receive-interval 300", Present: true},
			{Context: bgp, Line: "neighbor 192.0.2.2 port 179", Present: true},
		}},
		{name: "non-default bfd value", checks: []Check{
			{Context: []string{"bfd", "profile p"}, Line: "receive-interval 100", Present: true},
		}, want: []Check{
			{Context: []string{"bfd", "profile p"}, Line: "receive-interval 100", Present: true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Verify(shown, tc.checks)); diff != "" {
				t.Errorf("Verify (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"neighbor 192.0.2.2 remote-as 2", "neighbor 192.0.2.2 remote-as 2"},
		{"router bgp 1\n neighbor 192.0.2.2 password s3cret\nexit", "router bgp 1\n neighbor 192.0.2.2 password <redacted>\nexit"},
		{"line 3: % Unknown command: neighbor x password a b c", "line 3: % Unknown command: neighbor x password <redacted>"},
		{"password", "password <redacted>"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSplitLines(t *testing.T) {
	for _, tc := range []struct {
		text string
		max  int
		want []string
	}{
		{"", 10, nil},
		{"a\nb\n", 10, []string{"a\nb"}},
		{"aaaa\nbbbb\ncccc\n", 10, []string{"aaaa\nbbbb", "cccc"}},
		{"aaaaaaaaaaaa\nb\n", 5, []string{"aaaaaaaaaaaa", "b"}},
	} {
		if diff := cmp.Diff(tc.want, splitLines([]byte(tc.text), tc.max)); diff != "" {
			t.Errorf("splitLines(%q, %d) (-want +got):\n%s", tc.text, tc.max, diff)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(base))
	f.Add([]byte("router bgp 1\nexit-address-family\nexit\nexit\n!\n  !\nend\n"))
	f.Add([]byte("bfd\n peer 2001:DB8::1\n  profile p\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		c := Parse(text)
		// Rendering and parsing again keeps every line.
		if diff := cmp.Diff(flatten(c), flatten(Parse(c.Bytes()))); diff != "" {
			t.Errorf("Parse(Bytes()) differs (-want +got):\n%s", diff)
		}
		// Diff from nothing and back never panics and yields a script.
		_ = Diff(nil, c)
		_ = Diff(c, Parse(nil))
	})
}

func TestIsVersionDefault(t *testing.T) {
	for _, tc := range []struct {
		context []string
		line    string
		want    bool
	}{
		{[]string{"router bgp 64512"}, "no bgp enforce-first-as", true},
		{[]string{"router bgp 64530 vrf blue"}, "no bgp enforce-first-as", true},
		{[]string{"router bgp 64512"}, "bgp enforce-first-as", false},
		{[]string{"router bgp 64512"}, "no bgp ebgp-requires-policy", false},
		{[]string{"router bgp 64512", "address-family ipv4 unicast"}, "no bgp enforce-first-as", false},
		{nil, "no bgp enforce-first-as", false},
	} {
		if got := IsVersionDefault(tc.context, tc.line); got != tc.want {
			t.Errorf("IsVersionDefault(%q, %q) = %v, want %v", tc.context, tc.line, got, tc.want)
		}
	}
}
