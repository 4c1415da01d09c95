package announcer

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ironlb/ironlb/l2/iface"
)

func TestDropExcluded(t *testing.T) {
	links := func(names ...string) []iface.Link {
		var out []iface.Link
		for _, n := range names {
			out = append(out, iface.Link{Name: n})
		}
		return out
	}
	res := func(exprs ...string) []*regexp.Regexp {
		var out []*regexp.Regexp
		for _, e := range exprs {
			out = append(out, regexp.MustCompile(e))
		}
		return out
	}
	tests := []struct {
		name  string
		links []iface.Link
		res   []*regexp.Regexp
		want  []iface.Link
	}{
		{name: "no expressions", links: links("eth0", "eth1"), want: links("eth0", "eth1")},
		{name: "anchored", links: links("eth0", "eth1", "veth1"), res: res("^eth1$"), want: links("eth0", "veth1")},
		{name: "unanchored, as in MetalLB", links: links("eth0", "eth1", "veth1"), res: res("eth1"), want: links("eth0")},
		{name: "several", links: links("eth0", "bond0", "ens3", "vlan10"), res: res("^bond", `^vlan\d+$`), want: links("eth0", "ens3")},
		{name: "all dropped", links: links("eth0"), res: res("."), want: nil},
		{name: "no links", res: res("."), want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]iface.Link(nil), tc.links...)
			got := DropExcluded(tc.links, tc.res)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("DropExcluded() (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(in, tc.links, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("DropExcluded() changed its input (-before +after):\n%s", diff)
			}
		})
	}
}
