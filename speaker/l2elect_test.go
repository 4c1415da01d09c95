package speaker

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/l2/announcer"
	"github.com/ironlb/ironlb/l2/election"
	"github.com/ironlb/ironlb/l2/members"
	"github.com/ironlb/ironlb/state"
)

// Ranks of 192.0.2.10 by the election's hash: n3, n1, n2.
func l2Cluster(nodes ...state.Node) *state.Cluster {
	return &state.Cluster{
		Model: &config.Model{L2Advertisements: []config.L2Advertisement{{Name: "l2", Pools: []string{"p"}}}},
		Nodes: nodes,
		Services: []state.Service{{
			Namespace: "a", Name: "web", Pool: "p",
			IPs: []netip.Addr{netip.MustParseAddr("192.0.2.10")}, ServingNodes: []string{"n1"},
		}},
	}
}

func readyNode(name string, ready bool) state.Node {
	return state.Node{Name: name, Labels: labels.Set{}, Ready: ready}
}

func metaOf(m nodeMeta) []byte { return m.encode() }

func TestElectL2(t *testing.T) {
	ready := []state.Node{readyNode("n1", true), readyNode("n2", true), readyNode("n3", true)}
	anyLink := nodeMeta{Any: true}
	all := func(m map[string]nodeMeta) map[string][]byte {
		out := map[string][]byte{}
		for n, v := range m {
			out[n] = metaOf(v)
		}
		return out
	}
	ip := netip.MustParseAddr("192.0.2.10")
	owns := func(node string) election.Result {
		return election.Result{
			Nodes:    []election.Assignment{{Node: node, Owned: []election.Target{{IP: ip}}}},
			Services: []election.ServiceOwner{{Namespace: "a", Name: "web", Node: node}},
		}
	}
	tests := []struct {
		name     string
		nodes    []state.Node
		node     string
		self     nodeMeta
		view     *members.View
		want     election.Result
		wantLive []string
	}{
		{
			name:     "without memberlist, the Ready nodes",
			nodes:    []state.Node{readyNode("n1", true), readyNode("n2", true), readyNode("n3", false)},
			node:     "n1",
			self:     anyLink,
			want:     owns("n1"),
			wantLive: []string{"n1", "n2"},
		},
		{
			name:     "the live members with their interfaces",
			nodes:    ready,
			node:     "n1",
			self:     anyLink,
			view:     &members.View{Live: []string{"n1", "n2", "n3"}, Meta: all(map[string]nodeMeta{"n2": anyLink, "n3": anyLink})},
			want:     owns("n3"),
			wantLive: []string{"n1", "n2", "n3"},
		},
		{
			name:     "a member that published nothing yet is no candidate",
			nodes:    ready,
			node:     "n1",
			self:     anyLink,
			view:     &members.View{Live: []string{"n1", "n2", "n3"}, Meta: all(map[string]nodeMeta{"n2": anyLink})},
			want:     owns("n1"),
			wantLive: []string{"n1", "n2", "n3"},
		},
		{
			name:     "a member whose carrier is gone is no candidate",
			nodes:    ready,
			node:     "n2",
			self:     anyLink,
			view:     &members.View{Live: []string{"n1", "n2", "n3"}, Meta: all(map[string]nodeMeta{"n1": anyLink, "n3": {}})},
			want:     owns("n1"),
			wantLive: []string{"n1", "n2", "n3"},
		},
		{
			name:  "a draining member hands over",
			nodes: ready,
			node:  "n1",
			self:  anyLink,
			view:  &members.View{Live: []string{"n1", "n2", "n3"}, Meta: all(map[string]nodeMeta{"n2": anyLink, "n3": {Any: true, Draining: true}})},
			want: election.Result{
				Nodes: []election.Assignment{
					{Node: "n1", Owned: []election.Target{{IP: ip}}},
					{Node: "n3", Handover: []election.Target{{IP: ip}}},
				},
				Services: []election.ServiceOwner{{Namespace: "a", Name: "web", Node: "n1"}},
			},
			wantLive: []string{"n1", "n2", "n3"},
		},
		{
			name:     "this node's own metadata wins over what the view says of it",
			nodes:    ready,
			node:     "n3",
			self:     nodeMeta{},
			view:     &members.View{Live: []string{"n1", "n2", "n3"}, Meta: all(map[string]nodeMeta{"n1": anyLink, "n2": anyLink, "n3": anyLink})},
			want:     owns("n1"),
			wantLive: []string{"n1", "n2", "n3"},
		},
		{
			name:     "refused, this node stays out",
			nodes:    ready,
			node:     "n3",
			self:     anyLink,
			view:     &members.View{Live: []string{"n3"}, Refused: "another key"},
			want:     election.Result{Services: []election.ServiceOwner{{Namespace: "a", Name: "web"}}},
			wantLive: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, live := electL2(l2Inputs{cluster: l2Cluster(tt.nodes...), node: tt.node, self: tt.self, view: tt.view})
			if diff := cmp.Diff(tt.want, got, l2CmpOpts); diff != "" {
				t.Errorf("electL2 result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLive, live, l2CmpOpts); diff != "" {
				t.Errorf("electL2 live (-want +got):\n%s", diff)
			}
		})
	}
}

func TestElectL2DrainingWithoutMemberlist(t *testing.T) {
	c := l2Cluster(readyNode("n1", true), readyNode("n3", true))
	got, _ := electL2(l2Inputs{cluster: c, node: "n3", self: nodeMeta{Any: true, Draining: true}})
	if as := got.For("n3"); len(as.Owned) != 0 || len(as.Handover) != 1 {
		t.Errorf("stopping n3 got %+v, want the IP as a handover", as)
	}
	if c.Nodes[1].Unschedulable {
		t.Error("electL2 changed the cluster it was given")
	}
}

func TestL2StatusWant(t *testing.T) {
	ip := netip.MustParseAddr
	// Sorted by key, as package state builds the list.
	c := &state.Cluster{Services: []state.Service{
		{Namespace: "a", Name: "dual", IPs: []netip.Addr{ip("192.0.2.10"), ip("2001:db8::10")}},
		{Namespace: "a", Name: "other", IPs: []netip.Addr{ip("192.0.2.12")}},
		{Namespace: "a", Name: "pending", IPs: []netip.Addr{ip("192.0.2.11")}},
		{Namespace: "b", Name: "handover", IPs: []netip.Addr{ip("192.0.2.13")}},
		{Namespace: "b", Name: "plain", IPs: []netip.Addr{ip("192.0.2.14")}},
	}}
	// b/gone was deleted since the election.
	owned := map[serviceRef]bool{{"a", "dual"}: true, {"a", "pending"}: true, {"b", "handover"}: true, {"b", "gone"}: true, {"b", "plain"}: true}
	st := []announcer.IPStatus{
		{IP: ip("192.0.2.10"), Interfaces: []string{"eth1"}},
		{IP: ip("2001:db8::10"), Interfaces: []string{"eth0", "eth1"}},
		{IP: ip("192.0.2.11")},
		{IP: ip("192.0.2.12"), Interfaces: []string{"eth0"}},
		{IP: ip("192.0.2.13"), Interfaces: []string{"eth0"}, Handover: true},
		{IP: ip("192.0.2.14"), Interfaces: []string{"eth2"}},
	}
	want := map[serviceRef][]string{{"a", "dual"}: {"eth0", "eth1"}, {"b", "plain"}: {"eth2"}}
	if diff := cmp.Diff(want, l2StatusWant(c, owned, st)); diff != "" {
		t.Errorf("l2StatusWant (-want +got):\n%s", diff)
	}
}

func TestOwnerChanges(t *testing.T) {
	before := map[serviceRef]bool{{"a", "keep"}: true, {"b", "lose"}: true, {"a", "lose"}: true}
	after := map[serviceRef]bool{{"a", "keep"}: true, {"c", "gain"}: true, {"a", "gain"}: true}
	gained, lost := ownerChanges(before, after)
	if diff := cmp.Diff([]serviceRef{{"a", "gain"}, {"c", "gain"}}, gained); diff != "" {
		t.Errorf("gained (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]serviceRef{{"a", "lose"}, {"b", "lose"}}, lost); diff != "" {
		t.Errorf("lost (-want +got):\n%s", diff)
	}
}
