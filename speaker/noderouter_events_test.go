package speaker

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/noderouter"
)

func TestFRRConfigurationProblems(t *testing.T) {
	field := config.FieldError{Kind: noderouter.KindFRRConfiguration, Name: "ns/a", Field: "spec.nodeSelector", Reason: "bad"}
	conflict := &noderouter.ConflictError{
		A:     noderouter.Origin{Kind: "BGPPeer", Name: "router"},
		B:     noderouter.Origin{Kind: noderouter.KindFRRConfiguration, Name: "ns/b", Path: "spec.bgp.routers[0].neighbors[0]"},
		Field: "asn", Subject: "neighbor 192.0.2.1", Reason: "differ",
	}
	both := &noderouter.ConflictError{
		A:     noderouter.Origin{Kind: noderouter.KindFRRConfiguration, Name: "ns/c"},
		B:     noderouter.Origin{Kind: noderouter.KindFRRConfiguration, Name: "ns/b"},
		Field: "port", Subject: "neighbor 192.0.2.1", Reason: "differ",
	}
	tests := []struct {
		name string
		err  error
		want []objectProblem
	}{
		{name: "none"},
		{name: "not about an FRRConfiguration", err: config.FieldError{Kind: "BGPPeer", Name: "router", Field: "spec.peerASN", Reason: "bad"}},
		{
			name: "wrapped and joined, repeated",
			err:  conversionError{fmt.Errorf("merging: %w", errors.Join(field, conflict, both, field))},
			want: []objectProblem{
				{"ns/a", field.Error()},
				{"ns/b", conflict.Error()},
				{"ns/b", both.Error()},
				{"ns/c", both.Error()},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := frrConfigurationProblems(tt.err)
			if d := cmp.Diff(tt.want, got, cmp.AllowUnexported(objectProblem{})); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
