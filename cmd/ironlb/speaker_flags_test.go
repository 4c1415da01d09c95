package main

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/state"
)

// TestSpeakerNodeOptionFlags parses the flags that say how the exclude
// label and cordons bear on announcing.
func TestSpeakerNodeOptionFlags(t *testing.T) {
	base := []string{"--node-name=n1", "--memberlist-insecure"}
	tests := []struct {
		name    string
		args    []string
		want    state.NodeOptions
		wantErr string
	}{
		{name: "defaults: the label counts, a cordon changes nothing", args: base},
		{name: "ignore the exclude label", args: slices.Concat(base, []string{"--ignore-exclude-lb"}), want: state.NodeOptions{IgnoreExcludeLabel: true}},
		{name: "drain on cordon", args: slices.Concat(base, []string{"--drain-on-cordon"}), want: state.NodeOptions{DrainOnCordon: true}},
		{
			name: "both, spelled out",
			args: slices.Concat(base, []string{"--ignore-exclude-lb=true", "--drain-on-cordon=true"}),
			want: state.NodeOptions{IgnoreExcludeLabel: true, DrainOnCordon: true},
		},
		{name: "explicitly off", args: slices.Concat(base, []string{"--ignore-exclude-lb=false", "--drain-on-cordon=false"})},
		{name: "not a bool", args: slices.Concat(base, []string{"--drain-on-cordon=sometimes"}), wantErr: "drain-on-cordon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseSpeakerFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, c.nodeOptions); diff != "" {
				t.Errorf("node options (-want +got):\n%s", diff)
			}
		})
	}
}
