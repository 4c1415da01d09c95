package ipam

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// allocCase runs before, then releases release, then allocates input.
type allocCase struct {
	name    string
	pools   []Pool
	before  []Request
	release []string
	input   Request
	want    result
	wantErr string
}

func runAllocCases(t *testing.T, tests []allocCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAllocator(t, tt.pools...)
			for _, r := range tt.before {
				mustAllocate(t, a, r)
			}
			for _, k := range tt.release {
				a.Release(k)
			}
			ips, pool, err := a.Allocate(tt.input)
			if diff := cmp.Diff(tt.wantErr, errString(err)); diff != "" {
				t.Fatalf("Allocate error (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, toResult(ips, pool)); diff != "" {
				t.Errorf("Allocate (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			held, heldPool := a.Holding(tt.input.Key)
			if diff := cmp.Diff(tt.want, toResult(held, heldPool)); diff != "" {
				t.Errorf("Holding after Allocate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAllocateFirstFit(t *testing.T) {
	two := []Pool{
		mkPool("a", false, "192.0.2.8/30", "192.0.2.0-192.0.2.1"),
		mkPool("b", false, "198.51.100.0/24", "2001:db8::/64"),
	}
	runAllocCases(t, []allocCase{
		{name: "lowest address of the lowest range", pools: two, input: v4("ns/s", "a", "b"),
			want: result{IPs: []string{"192.0.2.0"}, Pool: "a"}},
		{name: "caller's pool order wins over address order", pools: two, input: v4("ns/s", "b", "a"),
			want: result{IPs: []string{"198.51.100.0"}, Pool: "b"}},
		{name: "next range when the first is full", pools: two,
			before: []Request{v4("ns/1", "a"), v4("ns/2", "a")}, input: v4("ns/s", "a", "b"),
			want: result{IPs: []string{"192.0.2.8"}, Pool: "a"}},
		{name: "next pool when the first is full", pools: two,
			before: []Request{v4("ns/1", "a"), v4("ns/2", "a"), v4("ns/3", "a"), v4("ns/4", "a"), v4("ns/5", "a"), v4("ns/6", "a")},
			input:  v4("ns/s", "a", "b"),
			want:   result{IPs: []string{"198.51.100.0"}, Pool: "b"}},
		{name: "all full", pools: two,
			before:  []Request{v4("ns/1", "a"), v4("ns/2", "a"), v4("ns/3", "a"), v4("ns/4", "a"), v4("ns/5", "a"), v4("ns/6", "a")},
			input:   v4("ns/s", "a"),
			wantErr: `no available IPs in pool "a"`},
		{name: "no pool has the family", pools: []Pool{mkPool("a", false, "192.0.2.0/30"), mkPool("b", false, "198.51.100.0/30")},
			input: v6("ns/s", "a", "b"), wantErr: `no available IPs in pools "a", "b"`},
		{name: "no candidate pools", pools: two, input: v4("ns/s"), wantErr: "no available IPs: no pools to allocate from"},
		{name: "repeated pool names count once", pools: two, input: v6("ns/s", "a", "a"), wantErr: `no available IPs in pool "a"`},
		{name: "unknown pool", pools: two, input: v4("ns/s", "c"), wantErr: `unknown pool "c"`},
		{name: "ipv6 from a dual pool", pools: two, input: v6("ns/s", "a", "b"),
			want: result{IPs: []string{"2001:db8::"}, Pool: "b"}},
		{name: "no key", pools: two, input: v4("", "a"), wantErr: "request has no key"},
		{name: "no family", pools: two, input: Request{Key: "ns/s", Pools: []string{"a"}}, wantErr: "request has no IP family"},
		{name: "bad policy", pools: two, input: Request{Key: "ns/s", Pools: []string{"a"}, Families: []Family{IPv4}, Policy: 9},
			wantErr: "request has invalid policy Policy(9)"},
		{name: "bad family", pools: two, input: Request{Key: "ns/s", Pools: []string{"a"}, Families: []Family{0}},
			wantErr: "request has invalid IP family Family(0)"},
		{name: "family twice", pools: two, input: Request{Key: "ns/s", Pools: []string{"a"}, Families: []Family{IPv4, IPv4}, Policy: RequireDualStack},
			wantErr: "request lists IP family IPv4 twice"},
	})
}

func TestAllocateReleaseReuse(t *testing.T) {
	p := []Pool{mkPool("a", false, "192.0.2.0/29")}
	five := []Request{v4("ns/1", "a"), v4("ns/2", "a"), v4("ns/3", "a"), v4("ns/4", "a"), v4("ns/5", "a")}
	runAllocCases(t, []allocCase{
		{name: "after the used run", pools: p, before: five, input: v4("ns/s", "a"),
			want: result{IPs: []string{"192.0.2.5"}, Pool: "a"}},
		{name: "lowest freed address", pools: p, before: five, release: []string{"ns/4", "ns/2"}, input: v4("ns/s", "a"),
			want: result{IPs: []string{"192.0.2.1"}, Pool: "a"}},
		{name: "first address freed", pools: p, before: five, release: []string{"ns/1"}, input: v4("ns/s", "a"),
			want: result{IPs: []string{"192.0.2.0"}, Pool: "a"}},
		{name: "release is idempotent", pools: p, before: five, release: []string{"ns/3", "ns/3", "ns/none"}, input: v4("ns/s", "a"),
			want: result{IPs: []string{"192.0.2.2"}, Pool: "a"}},
		{name: "releasing everything starts over", pools: p, before: five, release: []string{"ns/1", "ns/2", "ns/3", "ns/4", "ns/5"},
			input: v4("ns/s", "a"), want: result{IPs: []string{"192.0.2.0"}, Pool: "a"}},
		{name: "held IPs are kept", pools: p, before: five, release: []string{"ns/1"}, input: v4("ns/3", "a"),
			want: result{IPs: []string{"192.0.2.2"}, Pool: "a"}},
	})
}

func TestAllocateDualStack(t *testing.T) {
	v4only := mkPool("v4", false, "192.0.2.0/31")
	v6only := mkPool("v6", false, "2001:db8:6::/127")
	dual := mkPool("dual", false, "198.51.100.0/31", "2001:db8:d::/127")
	req := func(key string, policy Policy, fams []Family, pools ...string) Request {
		return Request{Key: key, Pools: pools, Families: fams, Policy: policy}
	}
	v4v6 := []Family{IPv4, IPv6}
	v6v4 := []Family{IPv6, IPv4}
	all := []Pool{v4only, v6only, dual}
	runAllocCases(t, []allocCase{
		{name: "single stack takes the first family", pools: all, input: req("ns/s", SingleStack, v6v4, "dual"),
			want: result{IPs: []string{"2001:db8:d::"}, Pool: "dual"}},
		{name: "prefer: both from a later pool beats one from an earlier", pools: all,
			input: req("ns/s", PreferDualStack, v4v6, "v4", "v6", "dual"),
			want:  result{IPs: []string{"198.51.100.0", "2001:db8:d::"}, Pool: "dual"}},
		{name: "prefer: family order is the caller's", pools: all,
			input: req("ns/s", PreferDualStack, v6v4, "dual"),
			want:  result{IPs: []string{"2001:db8:d::", "198.51.100.0"}, Pool: "dual"}},
		{name: "prefer: primary alone when no pool gives both", pools: all,
			input: req("ns/s", PreferDualStack, v4v6, "v6", "v4"),
			want:  result{IPs: []string{"192.0.2.0"}, Pool: "v4"}},
		{name: "prefer: other family when no pool gives the primary", pools: all,
			input: req("ns/s", PreferDualStack, v4v6, "v6"),
			want:  result{IPs: []string{"2001:db8:6::"}, Pool: "v6"}},
		{name: "prefer: primary alone when the dual pool's v6 is full", pools: all,
			before: []Request{v6("ns/1", "dual"), v6("ns/2", "dual")},
			input:  req("ns/s", PreferDualStack, v4v6, "dual"),
			want:   result{IPs: []string{"198.51.100.0"}, Pool: "dual"}},
		{name: "prefer with one family listed is single stack", pools: all,
			input: req("ns/s", PreferDualStack, []Family{IPv6}, "dual"),
			want:  result{IPs: []string{"2001:db8:d::"}, Pool: "dual"}},
		{name: "require: both from one pool", pools: all,
			input: req("ns/s", RequireDualStack, v6v4, "v4", "v6", "dual"),
			want:  result{IPs: []string{"2001:db8:d::", "198.51.100.0"}, Pool: "dual"}},
		{name: "require: never split across pools", pools: all,
			input:   req("ns/s", RequireDualStack, v4v6, "v4", "v6"),
			wantErr: `no available IPs in pools "v4", "v6"`},
		{name: "require: fails when one family is full", pools: all,
			before:  []Request{v6("ns/1", "dual"), v6("ns/2", "dual")},
			input:   req("ns/s", RequireDualStack, v4v6, "dual"),
			wantErr: `no available IPs in pool "dual"`},
		{name: "held single IP satisfies prefer", pools: all,
			before: []Request{req("ns/s", PreferDualStack, v4v6, "v4")},
			input:  req("ns/s", PreferDualStack, v4v6, "v4", "dual"),
			want:   result{IPs: []string{"192.0.2.0"}, Pool: "v4"}},
		{name: "held pair is returned in the new family order", pools: all,
			before: []Request{req("ns/s", RequireDualStack, v4v6, "dual")},
			input:  req("ns/s", PreferDualStack, v6v4, "dual"),
			want:   result{IPs: []string{"2001:db8:d::", "198.51.100.0"}, Pool: "dual"}},
		{name: "held single IP does not satisfy require: moves", pools: all,
			before: []Request{v4("ns/s", "dual")},
			input:  req("ns/s", RequireDualStack, v4v6, "dual"),
			want:   result{IPs: []string{"198.51.100.0", "2001:db8:d::"}, Pool: "dual"}},
		{name: "held IPs in a pool no longer allowed: moves", pools: all,
			before: []Request{v4("ns/s", "v4")},
			input:  v4("ns/s", "dual"),
			want:   result{IPs: []string{"198.51.100.0"}, Pool: "dual"}},
		{name: "held pair does not satisfy single stack: shrinks to the lowest", pools: all,
			before: []Request{v4("ns/1", "dual"), req("ns/s", RequireDualStack, v4v6, "dual")},
			input:  v6("ns/s", "dual"),
			want:   result{IPs: []string{"2001:db8:d::"}, Pool: "dual"}},
	})
}

func TestAllocateKeepsOldHoldingOnFailure(t *testing.T) {
	a := newAllocator(t, mkPool("a", false, "192.0.2.0/32"), mkPool("b", false, "198.51.100.0/32"))
	mustAllocate(t, a, v4("ns/s", "a"))
	mustAllocate(t, a, v4("ns/other", "b"))
	_, _, err := a.Allocate(v4("ns/s", "b"))
	if diff := cmp.Diff(`no available IPs in pool "b"`, errString(err)); diff != "" {
		t.Fatalf("Allocate error (-want +got):\n%s", diff)
	}
	want := result{IPs: []string{"192.0.2.0"}, Pool: "a"}
	if diff := cmp.Diff(want, toResult(a.Holding("ns/s"))); diff != "" {
		t.Errorf("Holding (-want +got):\n%s", diff)
	}
	if _, _, err := a.Allocate(v4("ns/third", "a")); err == nil {
		t.Errorf("Allocate from pool a succeeded, want the old holding to keep its IP")
	}
}
