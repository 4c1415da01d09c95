package speaker

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/frr/vtyshjson"
	"github.com/ironlb/ironlb/internal/testenv"
)

func TestSessionStatesFrom(t *testing.T) {
	tests := []struct {
		name string
		in   agent.Status
		want map[sessionKey]frrk8s.BGPSessionStateStatus
	}{
		{name: "no session", want: map[sessionKey]frrk8s.BGPSessionStateStatus{}},
		{
			name: "IPv4, IPv6, unnumbered, another VRF, with and without BFD",
			in: agent.Status{
				Sessions: []vtyshjson.BGPNeighbor{
					{Address: "192.0.2.1", VRF: "default", State: "Established"},
					{Address: "2001:db8::1", VRF: "default", State: "Active"},
					{Address: "ul-rtr", VRF: "default", State: "Established"},
					{Address: "203.0.113.2", VRF: "red", State: "Connect"},
				},
				BFDPeers: []vtyshjson.BFDPeer{
					{Peer: "192.0.2.1", VRF: "default", Status: "up"},
					{Peer: "fe80::1", Interface: "ul-rtr", VRF: "default", Status: "down"},
					// the same address in another VRF is another session
					{Peer: "203.0.113.2", VRF: "default", Status: "up"},
				},
			},
			want: map[sessionKey]frrk8s.BGPSessionStateStatus{
				{"", "192.0.2.1"}: {BGPStatus: "Established", BFDStatus: "up", Node: "n1", Peer: "192.0.2.1"},
				{"", "2001-0db8-0000-0000-0000-0000-0000-0001"}: {BGPStatus: "Active", BFDStatus: "N/A", Node: "n1", Peer: "2001-0db8-0000-0000-0000-0000-0000-0001"},
				{"", "ul-rtr"}:         {BGPStatus: "Established", BFDStatus: "down", Node: "n1", Peer: "ul-rtr"},
				{"red", "203.0.113.2"}: {BGPStatus: "Connect", BFDStatus: "N/A", Node: "n1", Peer: "203.0.113.2", VRF: "red"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sessionStatesFrom(tt.in, "n1")
			if d := cmp.Diff(tt.want, got, cmp.AllowUnexported(sessionKey{})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestSessionStatesWrite writes BGPSessionStates to a real API server:
// created with frr-k8s's labels and names, updated when a session
// changes, deleted when it is gone, and no write when nothing changed. A
// new writer (a restarted speaker) adopts the objects and removes
// duplicates.
func TestSessionStatesWrite(t *testing.T) {
	const ns = "metallb-system"
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	c := env.Client
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	// Another node's object is never touched.
	other := &frrk8s.BGPSessionState{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "n2-x", Labels: map[string]string{frrk8s.LabelNode: "n2", frrk8s.LabelPeer: "192.0.2.1", frrk8s.LabelVRF: ""}}}
	if err := c.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	counting := &countingClient{Client: c}
	clock := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	podA := &metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: "speaker-a", UID: "uid-a"}
	podB := &metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: "speaker-b", UID: "uid-b"}
	w := &sessionStates{client: counting, reader: c, ns: ns, node: "n1", owner: podA, fullEvery: time.Minute, now: now}
	list := func() map[sessionKey]frrk8s.BGPSessionStateStatus {
		t.Helper()
		var l frrk8s.BGPSessionStateList
		if err := c.List(ctx, &l, client.InNamespace(ns), client.MatchingLabels{frrk8s.LabelNode: "n1"}); err != nil {
			t.Fatal(err)
		}
		out := map[sessionKey]frrk8s.BGPSessionStateStatus{}
		for _, o := range l.Items {
			k := sessionKey{o.Labels[frrk8s.LabelVRF], o.Labels[frrk8s.LabelPeer]}
			if _, dup := out[k]; dup {
				t.Errorf("two objects for %+v", k)
			}
			if len(o.Name) <= len("n1-") || o.Name[:3] != "n1-" {
				t.Errorf("object %s is not named after the node", o.Name)
			}
			out[k] = o.Status
		}
		return out
	}
	check := func(want map[sessionKey]frrk8s.BGPSessionStateStatus) {
		t.Helper()
		if err := w.write(ctx, want); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, list(), cmp.AllowUnexported(sessionKey{})); d != "" {
			t.Fatalf("objects (-want +got):\n%s", d)
		}
	}
	v4 := sessionKey{"", "192.0.2.1"}
	red := sessionKey{"red", "203.0.113.2"}
	st := func(k sessionKey, bgp string) frrk8s.BGPSessionStateStatus {
		return frrk8s.BGPSessionStateStatus{BGPStatus: bgp, BFDStatus: "N/A", Node: "n1", Peer: k.peer, VRF: k.vrf}
	}
	check(map[sessionKey]frrk8s.BGPSessionStateStatus{v4: st(v4, "Active"), red: st(red, "Connect")})
	check(map[sessionKey]frrk8s.BGPSessionStateStatus{v4: st(v4, "Established"), red: st(red, "Connect")})
	writes := counting.writes
	check(map[sessionKey]frrk8s.BGPSessionStateStatus{v4: st(v4, "Established"), red: st(red, "Connect")})
	if counting.writes != writes {
		t.Errorf("%d writes for unchanged sessions, want none", counting.writes-writes)
	}
	check(map[sessionKey]frrk8s.BGPSessionStateStatus{v4: st(v4, "Established")})

	// Someone deletes the object: the next full pass makes it again.
	if err := c.DeleteAllOf(ctx, &frrk8s.BGPSessionState{}, client.InNamespace(ns), client.MatchingLabels{frrk8s.LabelNode: "n1"}); err != nil {
		t.Fatal(err)
	}
	if err := w.write(ctx, map[sessionKey]frrk8s.BGPSessionStateStatus{v4: st(v4, "Established")}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute)
	check(map[sessionKey]frrk8s.BGPSessionStateStatus{v4: st(v4, "Established")})

	// A restarted speaker (another Pod) finds its object and a duplicate
	// of it, keeps one and owns it too (the garbage collector would
	// delete it with the old Pod otherwise).
	dup := &frrk8s.BGPSessionState{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "n1-", Labels: map[string]string{frrk8s.LabelNode: "n1", frrk8s.LabelPeer: "192.0.2.1", frrk8s.LabelVRF: ""}}}
	if err := c.Create(ctx, dup); err != nil {
		t.Fatal(err)
	}
	w = &sessionStates{client: c, reader: c, ns: ns, node: "n1", owner: podB, fullEvery: time.Minute, now: now}
	check(map[sessionKey]frrk8s.BGPSessionStateStatus{v4: st(v4, "Idle")})
	var owned frrk8s.BGPSessionStateList
	if err := c.List(ctx, &owned, client.InNamespace(ns), client.MatchingLabels{frrk8s.LabelNode: "n1"}); err != nil {
		t.Fatal(err)
	}
	// Which of the two is kept depends on the generated names; the one
	// the first speaker made has both owners.
	if len(owned.Items) != 1 || !slices.ContainsFunc(owned.Items[0].OwnerReferences, func(r metav1.OwnerReference) bool { return r.UID == "uid-b" }) {
		t.Errorf("objects %+v, want one, owned by the new speaker Pod", owned.Items)
	}
	check(map[sessionKey]frrk8s.BGPSessionStateStatus{})
	var all frrk8s.BGPSessionStateList
	if err := c.List(ctx, &all, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(all.Items) != 1 || all.Items[0].Name != "n2-x" {
		names := []string{}
		for _, o := range all.Items {
			names = append(names, o.Name)
		}
		slices.Sort(names)
		t.Errorf("objects left %v, want only n2-x", names)
	}
}

// countingClient counts the writes that go through it.
type countingClient struct {
	client.Client
	writes int
}

func (c *countingClient) Create(ctx context.Context, o client.Object, opts ...client.CreateOption) error {
	c.writes++
	return c.Client.Create(ctx, o, opts...)
}

func (c *countingClient) Delete(ctx context.Context, o client.Object, opts ...client.DeleteOption) error {
	c.writes++
	return c.Client.Delete(ctx, o, opts...)
}

func (c *countingClient) Status() client.SubResourceWriter {
	c.writes++
	return c.Client.Status()
}
