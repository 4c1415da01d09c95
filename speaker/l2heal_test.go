package speaker

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ironlb/ironlb/l2/members"
	"github.com/ironlb/ironlb/state"
)

func TestJoined(t *testing.T) {
	view := func(live ...string) *members.View { return &members.View{Live: live} }
	tests := []struct {
		name      string
		prev, cur *members.View
		want      []string
	}{
		{name: "first view", prev: nil, cur: view("n1", "n2", "n3")},
		{name: "nothing changed", prev: view("n1", "n2", "n3"), cur: view("n1", "n2", "n3")},
		{name: "a member failed", prev: view("n1", "n2", "n3"), cur: view("n1", "n2")},
		{name: "the isolated node sees the others back", prev: view("n1"), cur: view("n1", "n2", "n3"), want: []string{"n2", "n3"}},
		{name: "the other half sees it back", prev: view("n2", "n3"), cur: view("n1", "n2", "n3"), want: []string{"n1"}},
		{name: "a new node", prev: view("n1", "n2"), cur: view("n1", "n2", "n9"), want: []string{"n9"}},
		{name: "one back while another fails", prev: view("n1", "n2"), cur: view("n1", "n3"), want: []string{"n3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, joined(tt.prev, *tt.cur)); diff != "" {
				t.Errorf("joined (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHealedElsewhere(t *testing.T) {
	meta := func(heals uint64) []byte { return nodeMeta{Any: true, Heals: heals}.encode() }
	view := func(metas map[string][]byte) *members.View {
		v := &members.View{Meta: metas}
		for n := range metas {
			v.Live = append(v.Live, n)
		}
		return v
	}
	tests := []struct {
		name      string
		prev, cur *members.View
		want      []string
	}{
		{name: "first view", prev: nil, cur: view(map[string][]byte{"n1": meta(0), "n3": meta(4)})},
		{name: "nothing changed", prev: view(map[string][]byte{"n1": meta(0), "n3": meta(4)}), cur: view(map[string][]byte{"n1": meta(0), "n3": meta(4)})},
		{name: "n3 saw a member come back", prev: view(map[string][]byte{"n1": meta(0), "n3": meta(4)}), cur: view(map[string][]byte{"n1": meta(0), "n3": meta(5)}), want: []string{"n3"}},
		{name: "two saw it", prev: view(map[string][]byte{"n1": meta(0), "n2": meta(1), "n3": meta(4)}), cur: view(map[string][]byte{"n1": meta(0), "n2": meta(2), "n3": meta(5)}), want: []string{"n2", "n3"}},
		{name: "a restarted member counts from zero again", prev: view(map[string][]byte{"n3": meta(4)}), cur: view(map[string][]byte{"n3": meta(0)})},
		{name: "a member that joins is not counted here", prev: view(map[string][]byte{"n1": meta(0)}), cur: view(map[string][]byte{"n1": meta(0), "n3": meta(7)})},
		{name: "an older speaker publishes no count", prev: view(map[string][]byte{"n3": []byte(`{"any":true}`)}), cur: view(map[string][]byte{"n3": []byte(`{"any":true,"links":["eth0"]}`)})},
		{name: "unreadable metadata is ignored", prev: view(map[string][]byte{"n3": []byte(`{`)}), cur: view(map[string][]byte{"n3": meta(9)})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, healedElsewhere(tt.prev, *tt.cur)); diff != "" {
				t.Errorf("healedElsewhere (-want +got):\n%s", diff)
			}
		})
	}
}

// TestJoinCount: the member source counts the views in which members
// joined or came back, and the reconciler acts once per count.
func TestJoinCount(t *testing.T) {
	s := &memberSource{log: slog.New(slog.DiscardHandler), onChange: func() {}, live: prometheus.NewGauge(prometheus.GaugeOpts{Name: "live"})}
	var counts []uint64
	for _, live := range [][]string{{"n1", "n2", "n3"}, {"n1"}, {"n1"}, {"n1", "n2"}, {"n1", "n2", "n3"}, {"n1", "n2", "n3"}} {
		s.changed(members.View{Live: live})
		counts = append(counts, s.joinCount())
	}
	if diff := cmp.Diff([]uint64{0, 0, 0, 1, 2, 2}, counts); diff != "" {
		t.Errorf("join counts after each view (-want +got):\n%s", diff)
	}
}

// TestReannounceCount: a node that saw nobody come back still announces
// again when another member's published count of joins goes up (it
// was declared dead there, and may have had a stand-in), but does not
// publish that as a join of its own.
func TestReannounceCount(t *testing.T) {
	s := &memberSource{log: slog.New(slog.DiscardHandler), onChange: func() {}, live: prometheus.NewGauge(prometheus.GaugeOpts{Name: "live"})}
	live := []string{"n1", "n2", "n3"}
	view := func(heals3 uint64) members.View {
		return members.View{Live: live, Meta: map[string][]byte{"n2": nodeMeta{Any: true}.encode(), "n3": nodeMeta{Any: true, Heals: heals3}.encode()}}
	}
	var joins, reannounces []uint64
	for _, v := range []members.View{view(0), view(0), view(1), view(1), view(2)} {
		s.changed(v)
		joins = append(joins, s.joinCount())
		reannounces = append(reannounces, s.reannounceCount())
	}
	if diff := cmp.Diff([]uint64{0, 0, 0, 0, 0}, joins); diff != "" {
		t.Errorf("join counts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint64{0, 0, 1, 1, 2}, reannounces); diff != "" {
		t.Errorf("re-announce counts (-want +got):\n%s", diff)
	}
}

func TestNodesChanged(t *testing.T) {
	s := &memberSource{refresh: make(chan struct{}, 1)}
	nodes := func(names ...string) []state.Node {
		var out []state.Node
		for _, n := range names {
			out = append(out, state.Node{Name: n})
		}
		return out
	}
	steps := []struct {
		nodes []state.Node
		want  bool
	}{
		{nodes("n1", "n2"), false}, // the first look: the list of the start is fresh
		{nodes("n2", "n1"), false},
		{nodes("n1", "n2", "n3"), true},
		{nodes("n1", "n2", "n3"), false},
		{nodes("n1", "n3"), true},
	}
	for i, st := range steps {
		s.nodesChanged(st.nodes)
		got := false
		select {
		case <-s.refresh:
			got = true
		default:
		}
		if got != st.want {
			t.Errorf("step %d: refresh asked = %v, want %v", i, got, st.want)
		}
	}
}

// TestMemberSourceRefreshesJoin: a Node that comes after the start is
// joined once the reconciler sees the Nodes change.
func TestMemberSourceRefreshesJoin(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	reader := fake.NewClientBuilder().WithObjects(labNode("n1", "127.0.0.1")).Build()
	logs := &lockedBuffer{}
	poked := make(chan struct{}, 16)
	s := &memberSource{
		cfg:    MemberlistConfig{Insecure: true, Profile: members.FastLAN(), JoinRefresh: time.Hour}, // port 0: a free one
		reader: reader, node: "n1",
		log:      slog.New(slog.NewTextHandler(logs, nil)),
		onChange: func() { poked <- struct{}{} },
		live:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "live"}),
		metaSet:  make(chan struct{}),
		refresh:  make(chan struct{}, 1),
	}
	if err := s.SetMeta(nodeMeta{Any: true}.encode()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start = %v", err)
		}
	})
	select {
	case <-poked: // started, with the Nodes of then
	case <-time.After(20 * time.Second):
		t.Fatal("no view")
	}
	s.nodesChanged([]state.Node{{Name: "n1"}})
	if err := reader.Create(ctx, labNode("n2", "127.0.0.2")); err != nil {
		t.Fatal(err)
	}
	s.nodesChanged([]state.Node{{Name: "n1"}, {Name: "n2"}})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), `msg="members to join changed" node=n1 join=[127.0.0.2:0]`) {
		if time.Now().After(deadline) {
			t.Fatalf("the join list did not change to n2's address; logs:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
