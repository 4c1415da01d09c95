package speaker

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ironlb/ironlb/frr"
)

func TestChangedPeers(t *testing.T) {
	sp := func(key string, peers ...string) frr.ServicePeers {
		return frr.ServicePeers{Service: key, Peers: peers}
	}
	ref := func(ns, name string) serviceRef { return serviceRef{Namespace: ns, Name: name} }
	for _, tc := range []struct {
		name          string
		before, after []frr.ServicePeers
		only          []serviceRef
		want          map[serviceRef][]string
	}{
		{"both empty", nil, nil, []serviceRef{}, map[serviceRef][]string{}},
		{"same", []frr.ServicePeers{sp("a/x", "p")}, []frr.ServicePeers{sp("a/x", "p")}, []serviceRef{}, map[serviceRef][]string{}},
		{
			"added before, between and after",
			[]frr.ServicePeers{sp("b/x", "p"), sp("d/x", "p")},
			[]frr.ServicePeers{sp("a/x", "p"), sp("b/x", "p"), sp("c/x", "q"), sp("d/x", "p"), sp("e/x", "p")},
			[]serviceRef{ref("a", "x"), ref("c", "x"), ref("e", "x")},
			map[serviceRef][]string{ref("a", "x"): {"p"}, ref("c", "x"): {"q"}, ref("e", "x"): {"p"}},
		},
		{
			"removed first and last",
			[]frr.ServicePeers{sp("a/x", "p"), sp("b/x", "p"), sp("c/x", "p")},
			[]frr.ServicePeers{sp("b/x", "p")},
			[]serviceRef{ref("a", "x"), ref("c", "x")},
			map[serviceRef][]string{},
		},
		{
			"peers changed",
			[]frr.ServicePeers{sp("a/x", "p"), sp("a/y", "p", "q")},
			[]frr.ServicePeers{sp("a/x", "p", "q"), sp("a/y", "q")},
			[]serviceRef{ref("a", "x"), ref("a", "y")},
			map[serviceRef][]string{ref("a", "x"): {"p", "q"}, ref("a", "y"): {"q"}},
		},
		{"all removed", []frr.ServicePeers{sp("a/x", "p")}, []frr.ServicePeers{}, []serviceRef{ref("a", "x")}, map[serviceRef][]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			only, want := changedPeers(tc.before, tc.after)
			if diff := cmp.Diff(tc.only, only, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Services looked at (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, want, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("peers (-want +got):\n%s", diff)
			}
		})
	}
}
