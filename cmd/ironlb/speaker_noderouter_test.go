package main

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSpeakerAlwaysBlockFlag parses --always-block as frr-k8s's flag:
// CIDRs, comma-separated.
func TestSpeakerAlwaysBlockFlag(t *testing.T) {
	base := []string{"--node-name=n1", "--memberlist-insecure"}
	tests := []struct {
		name    string
		value   string
		want    []netip.Prefix
		wantErr string
	}{
		{name: "unset blocks nothing"},
		{name: "one", value: "198.51.100.0/24", want: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}},
		{
			name:  "several, spaces, host bits, a duplicate, sorted",
			value: " 2001:db8::/32, 203.0.113.7/24,198.51.100.0/24,203.0.113.0/24,",
			want:  []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32")},
		},
		{name: "not a CIDR", value: "198.51.100.0/24,198.51.100.1", wantErr: `-always-block: "198.51.100.1" is not a CIDR`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := base
			if tt.value != "" {
				args = append(args[:len(args):len(args)], "--always-block="+tt.value)
			}
			c, ok := parseSpeakerFlagsCase(t, args, tt.wantErr)
			if !ok {
				return
			}
			if diff := cmp.Diff(tt.want, c.alwaysBlock, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("always-block (-want +got):\n%s", diff)
			}
		})
	}
}
