package state

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/ipam"
)

// TestStoreLBClass checks which Services the speaker's Store keeps under
// --lb-class: as in MetalLB, only those of exactly that class when it is
// set, only those without a class when it is not.
func TestStoreLBClass(t *testing.T) {
	model := &config.Model{Pools: []config.Pool{{Name: "p", Ranges: []ipam.Range{{First: netip.MustParseAddr("192.0.2.0"), Last: netip.MustParseAddr("192.0.2.255")}}}}}
	classless := lbService("a", "classless", "192.0.2.1")
	ours := lbService("a", "ours", "192.0.2.2")
	ours.Spec.LoadBalancerClass = ptr.To("ironlb.io/lb")
	other := lbService("a", "other", "192.0.2.3")
	other.Spec.LoadBalancerClass = ptr.To("other.io/lb")
	tests := []struct {
		name    string
		lbClass string
		want    []string
	}{
		{name: "flag unset", want: []string{"classless"}},
		{name: "flag set", lbClass: "ironlb.io/lb", want: []string{"ours"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := NewStore(tc.lbClass)
			st.SetService(&classless)
			st.SetService(&ours)
			st.SetService(&other)
			var got []string
			for _, s := range st.Services(model) {
				got = append(got, s.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Services() (-want +got):\n%s", diff)
			}
		})
	}
}
