package speaker

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/internal/testenv"
)

// TestNodeStateWriter writes a node's FRRNodeState to a real API server:
// created when missing, written only on change, the running config from
// the poller kept next to what the reconciles say, and made again after
// someone deleted it once the writer reads it back.
func TestNodeStateWriter(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	c := env.Client
	clock := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	counting := &countingClient{Client: c}
	w := &nodeStateWriter{client: counting, reader: c, node: "n1", fullEvery: time.Minute, now: func() time.Time { return clock }}
	get := func() frrk8s.FRRNodeStateStatus {
		t.Helper()
		var st frrk8s.FRRNodeState
		if err := c.Get(ctx, client.ObjectKey{Name: "n1"}, &st); err != nil {
			t.Fatal(err)
		}
		return st.Status
	}
	// The poller's running config before any reconcile: nothing written.
	if err := w.setRunning(ctx, "frr version 8.4.4\n"); err != nil {
		t.Fatal(err)
	}
	if counting.writes != 0 {
		t.Errorf("%d writes before a reconcile said anything", counting.writes)
	}
	s := routerState{desired: "router bgp 64512\n", conversion: "success", reload: "success"}
	if err := w.write(ctx, s); err != nil {
		t.Fatal(err)
	}
	want := frrk8s.FRRNodeStateStatus{DesiredConfig: s.desired, RunningConfig: "frr version 8.4.4\n", LastConversionResult: "success", LastReloadResult: "success"}
	if d := cmp.Diff(want, get()); d != "" {
		t.Fatalf("status (-want +got):\n%s", d)
	}
	writes := counting.writes
	if err := w.write(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := w.setRunning(ctx, "frr version 8.4.4\n"); err != nil {
		t.Fatal(err)
	}
	if counting.writes != writes {
		t.Errorf("%d writes of an unchanged state", counting.writes-writes)
	}
	s.conversion = "failed: conflict"
	if err := w.write(ctx, s); err != nil {
		t.Fatal(err)
	}
	want.LastConversionResult = "failed: conflict"
	if d := cmp.Diff(want, get()); d != "" {
		t.Fatalf("status (-want +got):\n%s", d)
	}

	if err := c.Delete(ctx, &frrk8s.FRRNodeState{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Minute)
	if err := w.setRunning(ctx, "frr version 8.4.4\n"); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, get()); d != "" {
		t.Fatalf("status after the object was deleted (-want +got):\n%s", d)
	}
}

func TestStateConfig(t *testing.T) {
	line := "  network 198.51.100.1/32\n"
	long := strings.Repeat(line, maxStateConfig/len(line)+10)
	kept := (maxStateConfig / len(line)) * len(line)
	tests := []struct {
		name, in, want string
	}{
		{name: "short, password redacted", in: "router bgp 1\n neighbor 192.0.2.1 password s3cret\n", want: "router bgp 1\n neighbor 192.0.2.1 password <redacted>\n"},
		{name: "long, cut at a line", in: long, want: long[:kept] + fmt.Sprintf("! ... %d more bytes not shown\n", len(long)-kept)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stateConfig([]byte(tt.in)); got != tt.want {
				t.Errorf("got %d bytes ending %q, want %d ending %q", len(got), got[max(0, len(got)-60):], len(tt.want), tt.want[max(0, len(tt.want)-60):])
			}
		})
	}
}
