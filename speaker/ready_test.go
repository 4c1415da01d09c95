package speaker

import (
	"testing"
	"time"

	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/frr/apply"
	"github.com/ironlb/ironlb/frr/vtyshjson"
)

func TestReadyGate(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)
	applied := &agent.Record{At: t0}
	failed := &agent.Record{At: t0, Result: apply.Result{Failure: &apply.Failure{Message: "bad"}}}
	up := vtyshjson.BGPNeighbor{Address: "192.0.2.1", State: "Established"}
	down := vtyshjson.BGPNeighbor{Address: "192.0.2.2", State: "Active"}
	type read struct {
		st agent.Status
		at time.Duration // after t0
	}
	tests := []struct {
		name    string
		reads   []read
		want    bool
		wantWhy string
	}{
		{name: "nothing read", want: false, wantWhy: "FRR's state not read yet"},
		{name: "no config applied", reads: []read{{st: agent.Status{Sessions: []vtyshjson.BGPNeighbor{up}}}}, want: false, wantWhy: "no config applied to FRR yet"},
		{name: "apply failed", reads: []read{{st: agent.Status{LastApply: failed}}}, want: false, wantWhy: "the last apply to FRR failed"},
		{name: "a session not up", reads: []read{{st: agent.Status{LastApply: applied, Sessions: []vtyshjson.BGPNeighbor{up, down}}}}, want: false, wantWhy: "BGP session with 192.0.2.2 is Active"},
		{name: "every session up", reads: []read{{st: agent.Status{LastApply: applied, Sessions: []vtyshjson.BGPNeighbor{up}}}}, want: true},
		{name: "applied, no peer for this node", reads: []read{{st: agent.Status{LastApply: applied}}}, want: true},
		{name: "a session down past the wait", reads: []read{
			{st: agent.Status{LastApply: applied, Sessions: []vtyshjson.BGPNeighbor{down}}},
			{st: agent.Status{LastApply: applied, Sessions: []vtyshjson.BGPNeighbor{down}}, at: time.Minute},
		}, want: true},
		{name: "a session down just before the wait", reads: []read{
			{st: agent.Status{LastApply: applied, Sessions: []vtyshjson.BGPNeighbor{down}}},
			{st: agent.Status{LastApply: applied, Sessions: []vtyshjson.BGPNeighbor{down}}, at: time.Minute - time.Second},
		}, want: false, wantWhy: "BGP session with 192.0.2.2 is Active"},
		{name: "ready stays ready", reads: []read{
			{st: agent.Status{LastApply: applied, Sessions: []vtyshjson.BGPNeighbor{up}}},
			{st: agent.Status{LastApply: applied, Sessions: []vtyshjson.BGPNeighbor{down}}, at: time.Second},
		}, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &readyGate{wait: time.Minute}
			for _, r := range tt.reads {
				g.observe(r.st, t0.Add(r.at))
			}
			if got := g.isReady(); got != tt.want {
				t.Errorf("isReady = %v, want %v", got, tt.want)
			}
			err := g.check(nil)
			switch {
			case tt.want && err != nil:
				t.Errorf("check = %v, want nil", err)
			case !tt.want && (err == nil || err.Error() != tt.wantWhy):
				t.Errorf("check = %v, want %q", err, tt.wantWhy)
			}
		})
	}
}
