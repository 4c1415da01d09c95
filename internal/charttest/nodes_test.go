package charttest

import (
	"slices"
	"strings"
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
		{name: "gratuitous ARP every 30s", set: []string{"--set", "speaker.gratuitousARPInterval=30s"}, want: []string{"--gratuitous-arp-interval=30s"}},
		{name: "gratuitous ARP, MetalLB's seconds", set: []string{"--set", "speaker.gratuitousARPInterval=60"}, want: []string{"--gratuitous-arp-interval=60"}},
		{name: "gratuitous ARP off", set: []string{"--set", "speaker.gratuitousARPInterval=0"}},
		{
			name: "excluded interfaces",
			set:  []string{"--set-json", `speaker.l2ExcludeInterfaces=["^eth1$","bond.*"]`},
			want: []string{"--l2-exclude-interface=^eth1$", "--l2-exclude-interface=bond.*"},
		},
		{name: "MetalLB's ConfigMap", set: []string{"--set", "speaker.l2ExcludeConfigMap=metallb-excludel2"}, want: []string{"--l2-exclude-config=/etc/ironlb/excludel2/excludel2.yaml"}},
		{name: "ownership by memberlist: no flag", set: []string{"--set", "speaker.l2Ownership=memberlist"}},
		{
			name: "ownership by lease, default timing",
			set:  []string{"--set", "speaker.l2Ownership=lease"},
			want: []string{"--l2-ownership=lease", "--l2-lease-duration=5s", "--l2-lease-renew-deadline=4s", "--l2-lease-retry-period=1s"},
		},
		{
			name: "ownership by lease, own timing",
			set:  []string{"--set", "speaker.l2Ownership=lease", "--set", "speaker.l2Lease.duration=15s", "--set", "speaker.l2Lease.renewDeadline=10s", "--set", "speaker.l2Lease.retryPeriod=2s"},
			want: []string{"--l2-ownership=lease", "--l2-lease-duration=15s", "--l2-lease-renew-deadline=10s", "--l2-lease-retry-period=2s"},
		},
	}
	ours := []string{"--ignore-exclude-lb", "--drain-on-cordon", "--gratuitous-arp-interval=", "--l2-exclude-interface=", "--l2-exclude-config=", "--l2-ownership=", "--l2-lease-"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := render(t, cases()[0], tc.set...)
			args := container(t, podSpec(t, b, "DaemonSet", "ironlb-speaker"), "speaker").Args
			got := slices.DeleteFunc(slices.Clone(args), func(a string) bool {
				return !slices.ContainsFunc(ours, func(o string) bool {
					return a == o || (strings.HasSuffix(o, "=") || strings.HasSuffix(o, "-")) && strings.HasPrefix(a, o)
				})
			})
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("speaker flags (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSpeakerExcludeL2ConfigMap mounts MetalLB's ConfigMap where the
// speaker's --l2-exclude-config reads it, and only when it is named.
func TestSpeakerExcludeL2ConfigMap(t *testing.T) {
	for _, cm := range []string{"", "metallb-excludel2"} {
		b := render(t, cases()[0], "--set", "speaker.l2ExcludeConfigMap="+cm)
		spec := podSpec(t, b, "DaemonSet", "ironlb-speaker")
		var mounted, volume string
		for _, m := range container(t, spec, "speaker").VolumeMounts {
			if m.Name == "excludel2" {
				mounted = m.MountPath
			}
		}
		for _, v := range spec.Volumes {
			if v.Name == "excludel2" && v.ConfigMap != nil {
				volume = v.ConfigMap.Name
			}
		}
		want := [2]string{}
		if cm != "" {
			want = [2]string{"/etc/ironlb/excludel2", cm}
		}
		if diff := cmp.Diff(want, [2]string{mounted, volume}); diff != "" {
			t.Errorf("l2ExcludeConfigMap %q: mount and ConfigMap (-want +got):\n%s", cm, diff)
		}
	}
}

// TestSchemaRejectsBadL2Values checks the schema of the Layer 2 knobs.
func TestSchemaRejectsBadL2Values(t *testing.T) {
	for _, set := range [][]string{
		{"--set", "speaker.gratuitousARPInterval=often"},
		{"--set", "speaker.gratuitousARPInterval=-5"},
		{"--set-json", `speaker.l2ExcludeInterfaces=[""]`},
		{"--set-json", `speaker.l2ExcludeInterfaces="eth1"`},
		{"--set", "speaker.ignoreExcludeLB=maybe"},
		{"--set", "speaker.l2Ownership=vrrp"},
		{"--set", "speaker.l2Lease.duration=5"},
		{"--set", "speaker.l2Lease.retryPeriod=-1s"},
		{"--set", "speaker.l2Lease.ttl=5s"},
	} {
		if _, err := helm(t, templateArgs(cases()[0], set...)...); err == nil {
			t.Errorf("%v rendered; want the schema to refuse it", set)
		}
	}
}
