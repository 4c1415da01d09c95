package apply

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// describeSteps writes steps as "DAEMONS: COMMAND", with " +resync" on
// an exit back to the config node.
func describeSteps(steps []step) []string {
	var out []string
	for _, s := range steps {
		l := strings.Join(s.to.names(), ",") + ": " + s.cmd
		if s.resync {
			l += " +resync"
		}
		out = append(out, l)
	}
	return out
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name    string
		script  string
		want    []string
		wantErr bool // unsupported: the script goes to the fallback
	}{
		{
			name: "one added service",
			script: "router bgp 64512\n address-family ipv6 unicast\n  network 2001:db8::1/128 route-map ironlb-adv-adv\n" +
				" exit-address-family\nexit\n",
			want: []string{
				"bgpd: router bgp 64512",
				"bgpd: address-family ipv6 unicast",
				"bgpd: network 2001:db8::1/128 route-map ironlb-adv-adv",
				"bgpd: exit-address-family",
				"bgpd: exit +resync",
			},
		},
		{
			name: "route-map entry with lines of one and of both daemons",
			script: "route-map ironlb-adv-a permit 1\n set tag 1\n set community 64512:1 additive\n" +
				" no set local-preference 100\n match source-protocol bgp\nexit\nno route-map old permit 2\n",
			want: []string{
				"zebra,bgpd: route-map ironlb-adv-a permit 1",
				"zebra,bgpd: set tag 1",
				"bgpd: set community 64512:1 additive",
				"bgpd: no set local-preference 100",
				"zebra: match source-protocol bgp",
				"zebra,bgpd: exit +resync",
				"zebra,bgpd: no route-map old permit 2",
			},
		},
		{
			name: "lists",
			script: "ip prefix-list pl seq 1 permit 198.51.100.0/24\nno ipv6 prefix-list pl6 seq 1 permit 2001:db8::/32\n" +
				"bgp community-list standard cl seq 5 permit 64512:100\nno bgp as-path access-list al seq 5 permit ^$\n",
			want: []string{
				"zebra,bgpd,bfdd: ip prefix-list pl seq 1 permit 198.51.100.0/24",
				"zebra,bgpd,bfdd: no ipv6 prefix-list pl6 seq 1 permit 2001:db8::/32",
				"bgpd: bgp community-list standard cl seq 5 permit 64512:100",
				"bgpd: no bgp as-path access-list al seq 5 permit ^$",
			},
		},
		{
			name:   "bfd with nested contexts",
			script: "bfd\n peer 192.0.2.2\n  profile p1\n exit\n profile p1\n  detect-multiplier 5\n exit\n no profile p2\nexit\nno bfd\n",
			want: []string{
				"bfdd: bfd",
				"bfdd: peer 192.0.2.2",
				"bfdd: profile p1",
				"bfdd: exit",
				"bfdd: profile p1",
				"bfdd: detect-multiplier 5",
				"bfdd: exit",
				"bfdd: no profile p2",
				"bfdd: exit +resync",
				"bfdd: no bfd",
			},
		},
		{
			name:   "removed router and blank lines, comments and extra blanks",
			script: "!\n\nno   router bgp 64530 vrf blue\n",
			want:   []string{"bgpd: no   router bgp 64530 vrf blue"},
		},
		{
			name:   "empty",
			script: "",
		},
		{name: "unknown route-map command", script: "route-map a permit 1\n set src 192.0.2.1\n set ipv6 next-hop local fe80::1\nexit\n", wantErr: true},
		{name: "vrf", script: "vrf blue\n ip nht resolve-via-default\nexit-vrf\n", wantErr: true},
		{name: "top-level line of zebra", script: "ip nht resolve-via-default\n", wantErr: true},
		{name: "hostname", script: "hostname node2\n", wantErr: true},
		{name: "interface", script: "interface eth0\n ip address 192.0.2.1/24\nexit\n", wantErr: true},
		{name: "context not left", script: "router bgp 64512\n neighbor 192.0.2.2 remote-as 64513\n", wantErr: true},
		{name: "exit at the top", script: "exit\n", wantErr: true},
		{name: "exit-address-family outside an address family", script: "router bgp 1\nexit-address-family\nexit\n", wantErr: true},
		{name: "end", script: "router bgp 1\nend\n", wantErr: true},
		{name: "nested context plan does not know", script: "router bgp 1\n vnc defaults\n exit-vnc\nexit\n", wantErr: true},
		{name: "NUL byte", script: "router bgp 1\x00\nexit\n", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, err := plan([]byte(tc.script))
			var u *unsupportedError
			if tc.wantErr {
				if !errors.As(err, &u) {
					t.Fatalf("plan = %v, %v; want an *unsupportedError", describeSteps(steps), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, describeSteps(steps)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPlanAcceptsDiffOutput runs plan over deltas between configs like
// the Diff tests': a script Diff writes for such configs must not need
// the fallback.
func TestPlanAcceptsDiffOutput(t *testing.T) {
	old := Parse([]byte(base))
	for _, desired := range []string{
		withNetwork,
		edit(t, "set local-preference 100", "set local-preference 200", "    receive-interval 300\n", "    receive-interval 100\n"),
		edit(t, "route-map 192.0.2.2-in deny 20\nexit\n", ""),
		edit(t, "bgp community-list standard cl seq 5 permit 64512:100\n", "bgp community-list standard cl seq 6 permit 64512:101\n"),
		edit(t, "  neighbor 192.0.2.2 timers 30 90\n", "  neighbor 192.0.2.3 remote-as 64514\n"),
	} {
		d := Diff(old, Parse([]byte(desired)))
		if _, err := plan(d.Script); err != nil {
			t.Errorf("plan of\n%s: %v", d.Script, err)
		}
	}
}

// FuzzPlan checks plan's promises on any script: no panic, and a plan
// it accepts sends every line of the script, in order, to known daemons,
// and resyncs only on an exit.
func FuzzPlan(f *testing.F) {
	f.Add([]byte("router bgp 64512\n address-family ipv4 unicast\n  network 198.51.100.1/32\n exit-address-family\nexit\n"))
	f.Add([]byte("route-map a permit 1\n set tag 1\n no set community 1:1\nexit\nno ip prefix-list p seq 1 permit 198.51.100.0/24\n"))
	f.Add([]byte("bfd\n profile p\n exit\n peer 192.0.2.1\n  profile p\n exit\nexit\n"))
	f.Add([]byte("exit\nend\n"))
	f.Fuzz(func(t *testing.T, script []byte) {
		steps, err := plan(script)
		if err != nil {
			return
		}
		var lines []string
		for l := range strings.Lines(string(script)) {
			if l = strings.TrimSpace(l); l != "" && l[0] != '!' {
				lines = append(lines, l)
			}
		}
		var cmds []string
		for _, s := range steps {
			if s.to == 0 || s.to&^(zebra|bgpd|staticd|bfdd) != 0 || s.to.forMgmtd()&zebra != 0 {
				t.Fatalf("step %q goes to %b", s.cmd, s.to)
			}
			if s.resync && s.cmd != "exit" {
				t.Fatalf("resync after %q", s.cmd)
			}
			cmds = append(cmds, s.cmd)
		}
		if diff := cmp.Diff(lines, cmds); diff != "" {
			t.Fatalf("steps are not the script's lines (-want +got):\n%s", diff)
		}
	})
}

// TestForMgmtd: with mgmtd running (FRR 10), what vtysh 8.4 sent to
// zebra goes to mgmtd instead, in vtysh 10's order (mgmtd first).
func TestForMgmtd(t *testing.T) {
	for _, tc := range []struct {
		in   daemonSet
		want []string
	}{
		{routeMaps, []string{"mgmtd", "bgpd"}},
		{prefixLists, []string{"mgmtd", "bgpd", "bfdd"}},
		{zebra, []string{"mgmtd"}},
		{bgpd, []string{"bgpd"}},
		{bfdd, []string{"bfdd"}},
	} {
		if got := tc.in.forMgmtd().names(); !slices.Equal(got, tc.want) {
			t.Errorf("%v.forMgmtd() = %v, want %v", tc.in.names(), got, tc.want)
		}
	}
}
