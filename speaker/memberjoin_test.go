package speaker

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// speakerPod is a pod of the speaker DaemonSet on node with ips.
func speakerPod(ns, name, node string, phase corev1.PodPhase, ips ...string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": "ironlb", "component": "speaker"}},
		Spec:       corev1.PodSpec{NodeName: node},
		Status:     corev1.PodStatus{Phase: phase},
	}
	for _, ip := range ips {
		p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip})
	}
	if len(ips) > 0 {
		p.Status.PodIP = ips[0]
	}
	return p
}

func TestPodJoin(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.11"), netip.MustParseAddr("2001:db8::11")
	running := func(name, node string, ips ...string) corev1.Pod {
		return *speakerPod("ns", name, node, corev1.PodRunning, ips...)
	}
	terminating := running("s-old", "n2", "192.0.2.99")
	terminating.DeletionTimestamp = &metav1.Time{}
	onlyPodIP := running("s-legacy", "n5", "192.0.2.15")
	onlyPodIP.Status.PodIPs = nil
	tests := []struct {
		name  string
		pods  []corev1.Pod
		bind  netip.Addr
		port  int
		extra []string
		want  []string
	}{
		{name: "no pods, no extra", bind: v4, port: 7946},
		{
			name:  "only the extra members",
			bind:  v4,
			port:  7946,
			extra: []string{"b.example:7946", "a.example:7946", "b.example:7946"},
			want:  []string{"a.example:7946", "b.example:7946"},
		},
		{
			name: "own node excluded, others joined at the port",
			pods: []corev1.Pod{running("s1", "n1", "192.0.2.11"), running("s2", "n2", "192.0.2.12"), running("s3", "n3", "192.0.2.13")},
			bind: v4,
			port: 7000,
			want: []string{"192.0.2.12:7000", "192.0.2.13:7000"},
		},
		{
			name: "a surge replacement on this node is excluded too",
			pods: []corev1.Pod{running("s1", "n1", "192.0.2.11"), running("s1-new", "n1", "192.0.2.11"), running("s2", "n2", "192.0.2.12")},
			bind: v4,
			port: 7946,
			want: []string{"192.0.2.12:7946"},
		},
		{
			name: "IPv4 bind: only the IPv4 addresses of dual-stack pods",
			pods: []corev1.Pod{running("s2", "n2", "2001:db8::12", "192.0.2.12"), running("s3", "n3", "2001:db8::13")},
			bind: v4,
			port: 7946,
			want: []string{"192.0.2.12:7946"},
		},
		{
			name: "IPv6 bind: only the IPv6 addresses, bracketed",
			pods: []corev1.Pod{running("s2", "n2", "192.0.2.12", "2001:db8::12"), running("s3", "n3", "192.0.2.13")},
			bind: v6,
			port: 7946,
			want: []string{"[2001:db8::12]:7946"},
		},
		{
			name: "an IPv4-mapped IPv6 address counts as IPv4",
			pods: []corev1.Pod{running("s2", "n2", "::ffff:192.0.2.12")},
			bind: v4,
			port: 7946,
			want: []string{"192.0.2.12:7946"},
		},
		{
			name: "pods without IP, terminating or finished are skipped",
			pods: []corev1.Pod{
				running("s2", "n2"),
				terminating,
				*speakerPod("ns", "s3", "n3", corev1.PodSucceeded, "192.0.2.13"),
				*speakerPod("ns", "s4", "n4", corev1.PodFailed, "192.0.2.14"),
				running("s6", "n6", "not-an-ip"),
			},
			bind: v4,
			port: 7946,
		},
		{
			name: "a Pending pod with an IP is joined",
			pods: []corev1.Pod{*speakerPod("ns", "s2", "n2", corev1.PodPending, "192.0.2.12"), *speakerPod("ns", "s3", "n3", corev1.PodPending)},
			bind: v4,
			port: 7946,
			want: []string{"192.0.2.12:7946"},
		},
		{
			name: "status.podIP when status.podIPs is empty",
			pods: []corev1.Pod{onlyPodIP},
			bind: v4,
			port: 7946,
			want: []string{"192.0.2.15:7946"},
		},
		{
			name:  "duplicates removed across pods and extra, sorted",
			pods:  []corev1.Pod{running("s3", "n3", "192.0.2.13"), running("s2", "n2", "192.0.2.12"), running("s2b", "n2b", "192.0.2.12")},
			bind:  v4,
			port:  7946,
			extra: []string{"192.0.2.13:7946", "192.0.2.100:7946"},
			want:  []string{"192.0.2.100:7946", "192.0.2.12:7946", "192.0.2.13:7946"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := podJoin(tt.pods, "n1", tt.bind, tt.port, tt.extra)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("podJoin (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMemberAddressesFromPods reads the join list from the API: the
// selected pods of the speaker's namespace only.
func TestMemberAddressesFromPods(t *testing.T) {
	sel, err := labels.Parse("app=ironlb,component=speaker")
	if err != nil {
		t.Fatal(err)
	}
	other := speakerPod("ns", "controller", "n3", corev1.PodRunning, "10.0.0.3")
	other.Labels = map[string]string{"app": "ironlb", "component": "controller"}
	objs := []client.Object{
		labNode("n1", "2001:db8::11", "192.0.2.11"),
		labNode("n2", "192.0.2.12"),
		labNode("n4"),
		speakerPod("ns", "s1", "n1", corev1.PodRunning, "192.0.2.11", "2001:db8::11"),
		speakerPod("ns", "s2", "n2", corev1.PodRunning, "192.0.2.12", "2001:db8::12"),
		speakerPod("elsewhere", "s9", "n9", corev1.PodRunning, "192.0.2.19"),
		other,
	}
	tests := []struct {
		name     string
		node     string
		cfg      MemberlistConfig
		wantBind string
		wantJoin []string
		wantErr  string
	}{
		{
			name:     "the node's InternalIP, joining the selected pods of the namespace",
			node:     "n1",
			cfg:      MemberlistConfig{BindPort: 7946, Pods: sel, Join: []string{"192.0.2.50:7946"}},
			wantBind: "192.0.2.11",
			wantJoin: []string{"192.0.2.12:7946", "192.0.2.50:7946"},
		},
		{
			name:     "a given bind address needs no Node",
			node:     "n7",
			cfg:      MemberlistConfig{BindAddr: netip.MustParseAddr("2001:db8::17"), BindPort: 7946, Pods: sel},
			wantBind: "2001:db8::17",
			wantJoin: []string{"[2001:db8::11]:7946", "[2001:db8::12]:7946"},
		},
		{
			name:    "a node without InternalIP",
			node:    "n4",
			cfg:     MemberlistConfig{BindPort: 7946, Pods: sel},
			wantErr: "no InternalIP",
		},
		{
			name:    "a missing node",
			node:    "n7",
			cfg:     MemberlistConfig{BindPort: 7946, Pods: sel},
			wantErr: "reading node n7 for the memberlist address",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &memberSource{cfg: tt.cfg, node: tt.node, ns: "ns", reader: fake.NewClientBuilder().WithObjects(objs...).Build()}
			bind, join, err := s.addresses(context.Background(), s.reader)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("addresses err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if bind.String() != tt.wantBind {
				t.Errorf("bind = %s, want %s", bind, tt.wantBind)
			}
			if diff := cmp.Diff(tt.wantJoin, join); diff != "" {
				t.Errorf("join (-want +got):\n%s", diff)
			}
		})
	}
}
