package speaker

import (
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ironlb/ironlb/l2/members"
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
