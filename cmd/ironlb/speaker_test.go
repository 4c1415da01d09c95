package main

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSpeakerMemberlistPodsFlag(t *testing.T) {
	base := []string{"--node-name=n1", "--memberlist-insecure"}
	tests := []struct {
		name string
		args []string
		// want is the selector the memberlist gets; "" for none (the
		// Nodes' InternalIPs).
		want    string
		wantErr string
	}{
		{name: "unset: the Nodes", args: base},
		{name: "empty: the Nodes", args: slices.Concat(base, []string{"--memberlist-pods="})},
		{name: "blank: the Nodes", args: slices.Concat(base, []string{"--memberlist-pods= "})},
		{
			name: "the chart's selector",
			args: slices.Concat(base, []string{"--memberlist-pods=app.kubernetes.io/component=speaker,app.kubernetes.io/instance=ironlb,app.kubernetes.io/name=ironlb"}),
			want: "app.kubernetes.io/component=speaker,app.kubernetes.io/instance=ironlb,app.kubernetes.io/name=ironlb",
		},
		{name: "set-based", args: slices.Concat(base, []string{"--memberlist-pods=component in (speaker),!legacy"}), want: "component in (speaker),!legacy"},
		{name: "invalid", args: slices.Concat(base, []string{"--memberlist-pods=app==="}), wantErr: `-memberlist-pods "app===" is not a label selector`},
		{name: "invalid key", args: slices.Concat(base, []string{"--memberlist-pods=-bad-=x"}), wantErr: "-memberlist-pods"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseSpeakerFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				var ee *exitError
				if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want an exit code 2 error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ml := c.l2.config(slog.New(slog.DiscardHandler)).Memberlist
			got := ""
			if ml.Pods != nil {
				got = ml.Pods.String()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("memberlist pod selector (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSpeakerMemberlistPodsFlagExitCode runs the command: a bad selector
// ends it with exit code 2 and a message naming the flag, before any
// connection to the API server.
func TestSpeakerMemberlistPodsFlagExitCode(t *testing.T) {
	var stderr bytes.Buffer
	code := dispatch(t.Context(), []string{"speaker", "--node-name=n1", "--memberlist-insecure", "--memberlist-pods=a in b"}, nil, io.Discard, &stderr)
	if code != 2 || !strings.Contains(stderr.String(), "-memberlist-pods") {
		t.Errorf("exit code %d, stderr %q; want 2 and a message naming -memberlist-pods", code, stderr.String())
	}
}
