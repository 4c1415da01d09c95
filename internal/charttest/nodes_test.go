package charttest

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestSpeakerNodeFlags renders the speaker's node and Layer 2 values and
// checks the flags they give; the defaults give none of them.
func TestSpeakerNodeFlags(t *testing.T) {
	tests := []struct {
		name string
		set  []string
		want []string
	}{
		{name: "defaults"},
		{name: "ignore the exclude label", set: []string{"--set", "speaker.ignoreExcludeLB=true"}, want: []string{"--ignore-exclude-lb"}},
		{name: "drain on cordon", set: []string{"--set", "speaker.drainOnCordon=true"}, want: []string{"--drain-on-cordon"}},
		{
			name: "both",
			set:  []string{"--set", "speaker.ignoreExcludeLB=true", "--set", "speaker.drainOnCordon=true"},
			want: []string{"--ignore-exclude-lb", "--drain-on-cordon"},
		},
	}
	ours := []string{"--ignore-exclude-lb", "--drain-on-cordon"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := render(t, cases()[0], tc.set...)
			args := container(t, podSpec(t, b, "DaemonSet", "ironlb-speaker"), "speaker").Args
			got := slices.DeleteFunc(slices.Clone(args), func(a string) bool { return !slices.Contains(ours, a) })
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("speaker flags (-want +got):\n%s", diff)
			}
		})
	}
}
