package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/l2/lease"
	"github.com/ironlb/ironlb/speaker"
	"github.com/ironlb/ironlb/state"
)

// parseSpeakerFlagsCase parses args as the speaker's flags for one case
// of a table test. With wantErr set, the parse must fail with an error
// that contains it, and ok is false: the case ends there. Otherwise the
// parse must succeed, and ok is true.
func parseSpeakerFlagsCase(t *testing.T, args []string, wantErr string) (c speakerConfig, ok bool) {
	t.Helper()
	c, err := parseSpeakerFlags(args, io.Discard)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want one containing %q", err, wantErr)
		}
		return c, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return c, true
}

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
			c, ok := parseSpeakerFlagsCase(t, tt.args, tt.wantErr)
			if !ok {
				return
			}
			if diff := cmp.Diff(tt.want, c.nodeOptions); diff != "" {
				t.Errorf("node options (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSpeakerL2Flags parses the Layer 2 knobs MetalLB users set: the
// periodic gratuitous ARP interval and the interfaces never used.
func TestSpeakerL2Flags(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	metallb := file("excludel2.yaml", "announcedInterfacesToExclude: [\"^docker.*\", \"^cbr.*\"]\n")
	bad := file("bad.yaml", "announcedInterfacesToExclude: [\"(\"]\n")
	base := []string{"--node-name=n1", "--memberlist-insecure"}
	type want struct {
		Interval time.Duration
		Excludes []string
	}
	tests := []struct {
		name    string
		args    []string
		want    want
		wantErr string
	}{
		{name: "defaults: no periodic announcements, nothing excluded", args: base},
		{name: "a duration", args: slices.Concat(base, []string{"--gratuitous-arp-interval=30s"}), want: want{Interval: 30 * time.Second}},
		{name: "seconds, as in MetalLB", args: slices.Concat(base, []string{"--gratuitous-arp-interval=60"}), want: want{Interval: time.Minute}},
		{name: "zero seconds: off", args: slices.Concat(base, []string{"--gratuitous-arp-interval=0"})},
		{name: "negative", args: slices.Concat(base, []string{"--gratuitous-arp-interval=-1s"}), wantErr: "gratuitous-arp-interval"},
		{name: "not a duration", args: slices.Concat(base, []string{"--gratuitous-arp-interval=often"}), wantErr: `"often" is neither a duration`},
		{
			name: "excluded interfaces, repeated",
			args: slices.Concat(base, []string{"--l2-exclude-interface=^eth1$", "--l2-exclude-interface=bond"}),
			want: want{Excludes: []string{"^eth1$", "bond"}},
		},
		{name: "a bad expression", args: slices.Concat(base, []string{"--l2-exclude-interface=eth[0"}), wantErr: `-l2-exclude-interface "eth[0"`},
		{
			name: "MetalLB's excludel2.yaml, with a flag",
			args: slices.Concat(base, []string{"--l2-exclude-config=" + metallb, "--l2-exclude-interface=^vlan"}),
			want: want{Excludes: []string{"^vlan", "^docker.*", "^cbr.*"}},
		},
		{name: "a missing excludel2.yaml excludes nothing", args: slices.Concat(base, []string{"--l2-exclude-config=" + filepath.Join(dir, "none.yaml")})},
		{name: "a bad excludel2.yaml", args: slices.Concat(base, []string{"--l2-exclude-config=" + bad}), wantErr: "announcedInterfacesToExclude[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := parseSpeakerFlagsCase(t, tt.args, tt.wantErr)
			if !ok {
				return
			}
			l2 := c.l2.config(slog.New(slog.DiscardHandler))
			got := want{Interval: l2.GratuitousInterval}
			for _, re := range l2.ExcludeNames {
				got.Excludes = append(got.Excludes, re.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("L2 config (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseExcludeL2(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    []string
		wantErr string
	}{
		{name: "empty"},
		{name: "MetalLB's chart default", data: "announcedInterfacesToExclude:\n  - ^docker.*\n  - ^cbr.*\n  - ^lo$\n", want: []string{"^docker.*", "^cbr.*", "^lo$"}},
		{name: "flow list", data: `announcedInterfacesToExclude: ["eth1"]`, want: []string{"eth1"}},
		{name: "other keys are ignored", data: "other: 1\n", want: nil},
		{name: "not a list", data: "announcedInterfacesToExclude: eth1\n", wantErr: "excludel2.yaml"},
		{name: "bad expression", data: "announcedInterfacesToExclude: [\"a(\"]\n", wantErr: `excludel2.yaml: announcedInterfacesToExclude[0] "a("`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseExcludeL2("excludel2.yaml", []byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseExcludeL2() (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseExcludeL2 feeds arbitrary files: no panic, and every
// expression accepted compiles.
func FuzzParseExcludeL2(f *testing.F) {
	for _, s := range []string{"", "announcedInterfacesToExclude: [\"^eth\"]", "announcedInterfacesToExclude: eth", "[", "announcedInterfacesToExclude: [\"(\"]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := parseExcludeL2("f", data)
		if err != nil {
			return
		}
		if _, err := compileExcludes("f", got); err != nil {
			t.Fatalf("accepted %q, which does not compile: %v", got, err)
		}
	})
}

func TestSpeakerL2OwnershipFlags(t *testing.T) {
	base := []string{"--node-name=n1", "--memberlist-insecure"}
	type want struct {
		Ownership speaker.Ownership
		Lease     lease.Timing
	}
	tests := []struct {
		name    string
		args    []string
		want    want
		wantErr string
	}{
		{name: "default: memberlist, no lease timing", args: base, want: want{Ownership: speaker.OwnershipMemberlist}},
		{name: "lease, default timing", args: slices.Concat(base, []string{"--l2-ownership=lease"}), want: want{Ownership: speaker.OwnershipLease, Lease: lease.DefaultTiming()}},
		{
			name: "lease, own timing",
			args: slices.Concat(base, []string{"--l2-ownership=lease", "--l2-lease-duration=15s", "--l2-lease-renew-deadline=10s", "--l2-lease-retry-period=2s"}),
			want: want{Ownership: speaker.OwnershipLease, Lease: lease.Timing{Duration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}},
		},
		{
			name:    "lease, a renew deadline not under the duration",
			args:    slices.Concat(base, []string{"--l2-ownership=lease", "--l2-lease-duration=4s"}),
			wantErr: "duration must be longer than the renew deadline",
		},
		{
			name:    "lease, no retry period",
			args:    slices.Concat(base, []string{"--l2-ownership=lease", "--l2-lease-retry-period=0s"}),
			wantErr: "retry period must be positive",
		},
		{name: "timing flags without lease are ignored", args: slices.Concat(base, []string{"--l2-lease-duration=1s"}), want: want{Ownership: speaker.OwnershipMemberlist}},
		{name: "unknown mode", args: slices.Concat(base, []string{"--l2-ownership=vrrp"}), wantErr: `-l2-ownership "vrrp" is neither memberlist nor lease`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := parseSpeakerFlagsCase(t, tt.args, tt.wantErr)
			if !ok {
				return
			}
			l2 := c.l2.config(slog.New(slog.DiscardHandler))
			got := want{Ownership: l2.Ownership, Lease: l2.Lease}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("L2 config (-want +got):\n%s", diff)
			}
		})
	}
}
