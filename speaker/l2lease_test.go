package speaker

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ironlb/ironlb/l2/election"
	"github.com/ironlb/ironlb/state"
)

func TestL2LeaseHelpers(t *testing.T) {
	ips := func(s ...string) []netip.Addr {
		var out []netip.Addr
		for _, x := range s {
			out = append(out, netip.MustParseAddr(x))
		}
		return out
	}
	c := &state.Cluster{Services: []state.Service{ // sorted by key
		{Namespace: "a", Name: "dual", IPs: ips("192.0.2.20", "2001:db8::20")},
		{Namespace: "a", Name: "shared1", IPs: ips("192.0.2.30")},
		{Namespace: "a", Name: "shared2", IPs: ips("::ffff:192.0.2.30")},
		{Namespace: "b", Name: "bgp-only", IPs: ips("192.0.2.40")},
		{Namespace: "b", Name: "web", IPs: ips("192.0.2.10")},
	}}
	res := election.Result{Services: []election.ServiceOwner{
		{Namespace: "a", Name: "dual", Node: "n1"},
		{Namespace: "a", Name: "gone", Node: "n1"},
		{Namespace: "a", Name: "shared1", Node: "n2"},
		{Namespace: "a", Name: "shared2", Node: "n2"},
		{Namespace: "b", Name: "web", Node: ""},
	}}
	t.Run("l2ServiceIPs: every Layer 2 Service's IPs, unmapped, sorted, once", func(t *testing.T) {
		want := ips("192.0.2.10", "192.0.2.20", "192.0.2.30", "2001:db8::20")
		if diff := cmp.Diff(want, l2ServiceIPs(c, res), cmpopts.EquateComparable(netip.Addr{})); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if got := l2ServiceIPs(c, election.Result{}); got == nil || len(got) != 0 {
			t.Errorf("no Layer 2 Service: %v, want an empty, non-nil list (nil would mean unknown)", got)
		}
	})
	tests := []struct {
		name     string
		owned    map[serviceRef]bool
		answered []netip.Addr
		want     map[serviceRef]bool
	}{
		{name: "nothing answered", owned: map[serviceRef]bool{{"a", "dual"}: true}, want: map[serviceRef]bool{}},
		{
			name: "one IP of a dual-stack Service is enough", owned: map[serviceRef]bool{{"a", "dual"}: true},
			answered: ips("2001:db8::20"), want: map[serviceRef]bool{{"a", "dual"}: true},
		},
		{
			name: "a mapped IP matches", owned: map[serviceRef]bool{{"a", "shared2"}: true, {"a", "shared1"}: true},
			answered: ips("192.0.2.30"), want: map[serviceRef]bool{{"a", "shared2"}: true, {"a", "shared1"}: true},
		},
		{
			name: "a Service the cluster no longer has is dropped", owned: map[serviceRef]bool{{"a", "gone"}: true, {"b", "web"}: true},
			answered: ips("192.0.2.10"), want: map[serviceRef]bool{{"b", "web"}: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, answeredServices(c, tt.owned, tt.answered)); diff != "" {
				t.Errorf("answeredServices (-want +got):\n%s", diff)
			}
		})
	}
}
