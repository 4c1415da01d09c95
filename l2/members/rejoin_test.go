package members

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestRejoinTargets(t *testing.T) {
	live := []netip.AddrPort{
		netip.MustParseAddrPort("192.0.2.11:7946"), // this member
		netip.MustParseAddrPort("192.0.2.12:7946"),
		netip.MustParseAddrPort("[2001:db8::13]:7946"),
	}
	tests := []struct {
		name  string
		join  []string
		alone bool
		live  []netip.AddrPort
		want  []string
	}{
		{name: "nothing to join", alone: true},
		{name: "alone: everyone, hosts too", join: []string{"192.0.2.12:7946", "speaker-0:7946"}, alone: true, live: live[:1],
			want: []string{"192.0.2.12:7946", "speaker-0:7946"}},
		{name: "everyone live: nobody", join: []string{"192.0.2.11:7946", "192.0.2.12:7946", "[2001:db8::13]:7946"}, live: live},
		{name: "the other half of a split: those not live", join: []string{"192.0.2.12:7946", "192.0.2.14:7946", "192.0.2.15:7946"}, live: live,
			want: []string{"192.0.2.14:7946", "192.0.2.15:7946"}},
		{name: "same IP, another port: not live", join: []string{"192.0.2.12:7947"}, live: live, want: []string{"192.0.2.12:7947"}},
		{name: "no port: the member's own", join: []string{"192.0.2.12", "192.0.2.14"}, live: live, want: []string{"192.0.2.14"}},
		{name: "IPv4-mapped IPv6 is IPv4", join: []string{"[::ffff:192.0.2.12]:7946", "[::ffff:192.0.2.14]:7946"}, live: live,
			want: []string{"[::ffff:192.0.2.14]:7946"}},
		{name: "hosts only while alone", join: []string{"speaker-0:7946", "192.0.2.14:7946"}, live: live, want: []string{"192.0.2.14:7946"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rejoinTargets(tt.join, tt.alone, tt.live, 7946)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rejoinTargets (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSplitClustersMerge: two clusters of two members each, as the two
// halves of a healed partition that each declared the other dead: none
// of the four is alone. Once each half's join list names the other, they
// merge by themselves.
func TestSplitClustersMerge(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	a1 := start(t, "a1", "127.0.0.1", key)
	a2 := start(t, "a2", "127.0.0.2", key, a1)
	b1 := start(t, "b1", "127.0.0.3", key)
	b2 := start(t, "b2", "127.0.0.4", key, b1)
	eventually(t, "a1 sees a2", viewIs(a1, View{Live: []string{"a1", "a2"}}))
	eventually(t, "b1 sees b2", viewIs(b1, View{Live: []string{"b1", "b2"}}))

	// As the speaker does with the speakers it lists: every member's
	// list names the three others.
	all := []*member{a1, a2, b1, b2}
	for _, m := range all {
		var join []string
		for _, o := range all {
			if o != m {
				join = append(join, o.Addr().String())
			}
		}
		m.SetJoin(join)
	}
	want := View{Live: []string{"a1", "a2", "b1", "b2"}}
	for _, m := range all {
		eventually(t, m.cfg.Node+" sees all four", viewIs(m, want))
	}
	if l := grep(a1.logs.String()+b1.logs.String(), "joined members not seen live"); l == "" {
		t.Errorf("no member logged the merge:\n%s", a1.logs.String())
	}
}
