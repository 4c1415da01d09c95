package speaker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/l2/announcer"
	"github.com/ironlb/ironlb/l2/election"
	"github.com/ironlb/ironlb/l2/iface"
	"github.com/ironlb/ironlb/l2/members"
)

var l2CmpOpts = cmp.Options{cmpopts.EquateEmpty(), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })}

func link(name string, mod ...func(*iface.Link)) iface.Link {
	l := iface.Link{Name: name, Index: len(name), HardwareAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}, Up: true, Carrier: true}
	for _, m := range mod {
		m(&l)
	}
	return l
}

func noCarrier(l *iface.Link) { l.Carrier = false }

func TestLinksMeta(t *testing.T) {
	model := &config.Model{L2Advertisements: []config.L2Advertisement{
		{Name: "any"},
		{Name: "named", Interfaces: []string{"vxlan0", "eth1"}},
		{Name: "again", Interfaces: []string{"eth1", "eth2"}},
	}}
	tests := []struct {
		name  string
		links []iface.Link
		model *config.Model
		want  nodeMeta
	}{
		{
			name:  "named interfaces beat the exclude list",
			links: []iface.Link{link("lo", func(l *iface.Link) { l.Loopback = true }), link("eth0"), link("eth1", noCarrier), link("vxlan0"), link("cali1")},
			model: model,
			want:  nodeMeta{Any: true, Links: []string{"vxlan0"}},
		},
		{
			name:  "only excluded interfaces",
			links: []iface.Link{link("cali1"), link("vxlan0")},
			model: model,
			want:  nodeMeta{Links: []string{"vxlan0"}},
		},
		{
			name:  "every carrier lost",
			links: []iface.Link{link("eth0", noCarrier), link("eth1", noCarrier)},
			model: model,
			want:  nodeMeta{},
		},
		{
			name:  "no model yet",
			links: []iface.Link{link("eth0")},
			want:  nodeMeta{Any: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := linksMeta(tt.links, namedInterfaces(tt.model), iface.DefaultExclude())
			if diff := cmp.Diff(tt.want, got, l2CmpOpts); diff != "" {
				t.Errorf("linksMeta (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNodeMetaEncode(t *testing.T) {
	m := nodeMeta{Draining: true, Any: true, Links: []string{"eth1", "eth2"}}
	got, ok := decodeMeta(m.encode())
	if !ok {
		t.Fatal("decodeMeta failed on encode's output")
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	// Too many names to publish: every named interface counts.
	var many []string
	for i := range 100 {
		many = append(many, fmt.Sprintf("interface%03d", i))
	}
	big := nodeMeta{Any: true, Links: many}.encode()
	if len(big) > members.MaxMetaSize {
		t.Errorf("encode gave %d bytes, over %d", len(big), members.MaxMetaSize)
	}
	got, _ = decodeMeta(big)
	if diff := cmp.Diff(nodeMeta{Any: true, AllLinks: true}, got); diff != "" {
		t.Errorf("oversized (-want +got):\n%s", diff)
	}
	if !got.canAnnounce([]string{"eth9"}) {
		t.Error("AllLinks cannot announce on a named interface")
	}
	if _, ok := decodeMeta([]byte("ironlb:leaving")); ok {
		t.Error("decodeMeta accepted garbage")
	}
}

func TestNamedInterfaces(t *testing.T) {
	model := &config.Model{L2Advertisements: []config.L2Advertisement{
		{Name: "a", Interfaces: []string{"eth1", "eth0"}}, {Name: "b"}, {Name: "c", Interfaces: []string{"eth1", "bond0"}},
	}}
	if diff := cmp.Diff([]string{"bond0", "eth0", "eth1"}, namedInterfaces(model)); diff != "" {
		t.Errorf("namedInterfaces (-want +got):\n%s", diff)
	}
	if got := namedInterfaces(nil); got != nil {
		t.Errorf("namedInterfaces(nil) = %q", got)
	}
}

func TestLinkGuardObservesBetweenSteps(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	up := nodeMeta{Any: true}
	g := linkGuard{settle: 2 * time.Second}
	if got, _ := g.step(t0, up); !got.usable() {
		t.Fatal("usable from the start is held back")
	}
	// The watcher sees the carrier go and come back while no reconcile
	// runs: the next step still holds the node back.
	if !g.observe(t0.Add(time.Second), false) {
		t.Error("losing the last interface is not reported")
	}
	if g.observe(t0.Add(1500*time.Millisecond), false) {
		t.Error("losing it again is reported")
	}
	g.observe(t0.Add(2*time.Second), true)
	got, wake := g.step(t0.Add(3*time.Second), up)
	if got.usable() || !wake.Equal(t0.Add(4*time.Second)) {
		t.Errorf("step after the flap = %+v, wake %v; want held until %v", got, wake, t0.Add(4*time.Second))
	}
	if got, _ := g.step(t0.Add(4*time.Second), up); !got.usable() {
		t.Error("still held after the settle time")
	}
}

func TestLinkGuard(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	up, down := nodeMeta{Any: true}, nodeMeta{}
	type step struct {
		at       time.Duration
		actual   nodeMeta
		want     nodeMeta
		wantWake time.Duration // from t0; 0 for none
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name:  "up from the start",
			steps: []step{{at: 0, actual: up, want: up}, {at: time.Second, actual: up, want: up}},
		},
		{
			name: "down, then back after the settle time",
			steps: []step{
				{at: 0, actual: up, want: up},
				{at: time.Second, actual: down, want: down},
				{at: 3 * time.Second, actual: up, want: down, wantWake: 5 * time.Second},
				{at: 4 * time.Second, actual: up, want: down, wantWake: 5 * time.Second},
				{at: 5 * time.Second, actual: up, want: up},
				{at: 6 * time.Second, actual: up, want: up},
			},
		},
		{
			name: "flapping starts the settle time over",
			steps: []step{
				{at: 0, actual: down, want: down},
				{at: time.Second, actual: up, want: down, wantWake: 3 * time.Second},
				{at: 2 * time.Second, actual: down, want: down},
				{at: 2500 * time.Millisecond, actual: up, want: down, wantWake: 4500 * time.Millisecond},
				{at: 4500 * time.Millisecond, actual: up, want: up},
			},
		},
		{
			name: "a drain shows while holding",
			steps: []step{
				{at: 0, actual: down, want: down},
				{at: time.Second, actual: nodeMeta{Any: true, Draining: true}, want: nodeMeta{Draining: true}, wantWake: 3 * time.Second},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := linkGuard{settle: 2 * time.Second}
			for i, s := range tt.steps {
				got, wake := g.step(t0.Add(s.at), s.actual)
				var wantWake time.Time
				if s.wantWake > 0 {
					wantWake = t0.Add(s.wantWake)
				}
				if diff := cmp.Diff(s.want, got, l2CmpOpts); diff != "" || !wake.Equal(wantWake) {
					t.Errorf("step %d at %v: wake %v, want %v; meta (-want +got):\n%s", i, s.at, wake, wantWake, diff)
				}
			}
		})
	}
}

func TestHandingOver(t *testing.T) {
	ip := netip.MustParseAddr("192.0.2.10")
	as := election.Assignment{Node: "n1", Handover: []election.Target{{IP: ip}}}
	if !handingOver(as, []announcer.IPStatus{{IP: ip, Interfaces: []string{"eth0"}, Handover: true}}) {
		t.Error("an IP kept for the handover is not counted")
	}
	if handingOver(as, []announcer.IPStatus{{IP: netip.MustParseAddr("192.0.2.11")}}) {
		t.Error("an owned IP counts as a handover")
	}
	if handingOver(election.Assignment{Node: "n1"}, []announcer.IPStatus{{IP: ip}}) {
		t.Error("handing over with no handover target")
	}
}

func labNode(name string, addrs ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for _, a := range addrs {
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: a})
	}
	n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: name})
	return n
}

func TestMemberAddresses(t *testing.T) {
	objs := []client.Object{
		labNode("n1", "2001:db8::11", "192.0.2.11"),
		labNode("n2", "192.0.2.12", "2001:db8::12"),
		labNode("n3", "2001:db8::13"),
		labNode("n4"),
	}
	tests := []struct {
		name     string
		cfg      MemberlistConfig
		wantBind string
		wantJoin []string
		wantErr  string
	}{
		{
			name:     "the node's IPv4 address, joining the others'",
			cfg:      MemberlistConfig{BindPort: 7946},
			wantBind: "192.0.2.11",
			wantJoin: []string{"192.0.2.12:7946"},
		},
		{
			name:     "an IPv6 bind address joins over IPv6",
			cfg:      MemberlistConfig{BindAddr: netip.MustParseAddr("2001:db8::11"), BindPort: 7000, Join: []string{"[2001:db8::99]:7000"}},
			wantBind: "2001:db8::11",
			wantJoin: []string{"[2001:db8::12]:7000", "[2001:db8::13]:7000", "[2001:db8::99]:7000"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &memberSource{cfg: tt.cfg, node: "n1", reader: fake.NewClientBuilder().WithObjects(objs...).Build()}
			bind, join, err := s.addresses(context.Background())
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
	s := &memberSource{cfg: MemberlistConfig{BindPort: 7946}, node: "n4", reader: fake.NewClientBuilder().WithObjects(objs...).Build()}
	if _, _, err := s.addresses(context.Background()); err == nil || !strings.Contains(err.Error(), "no InternalIP") {
		t.Errorf("a node without address: err = %v", err)
	}
}

func TestMemberSecretKey(t *testing.T) {
	sec := func(name string, data map[string][]byte) client.Object {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Data: data}
	}
	reader := fake.NewClientBuilder().WithObjects(
		sec("good", map[string][]byte{MemberlistSecretKey: []byte("s3cret")}),
		sec("empty", map[string][]byte{"other": []byte("x")}),
	).Build()
	tests := []struct {
		name    string
		cfg     MemberlistConfig
		wantLen int
		wantErr string
	}{
		{name: "from the Secret", cfg: MemberlistConfig{SecretName: "good"}, wantLen: 32},
		{name: "insecure", cfg: MemberlistConfig{Insecure: true}},
		{name: "missing Secret", cfg: MemberlistConfig{SecretName: "nope"}, wantErr: `reading the memberlist Secret ns/nope`},
		{name: "missing key", cfg: MemberlistConfig{SecretName: "empty"}, wantErr: `has no "secretkey"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &memberSource{cfg: tt.cfg, ns: "ns", reader: reader, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			key, err := s.secretKey(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("secretKey err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(key.Primary) != tt.wantLen {
				t.Errorf("secretKey = %d bytes, %v; want %d bytes", len(key.Primary), err, tt.wantLen)
			}
		})
	}
}

func TestL2ConfigValidate(t *testing.T) {
	c := Config{NodeName: "n1", Namespace: "ns", Registerer: nil, Log: slog.Default(), L2: &L2Config{Memberlist: &MemberlistConfig{}}}
	err := c.Validate()
	for _, want := range []string{"an Opener must be set", "a secret must be named unless insecure"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate = %v, want it to say %q", err, want)
		}
	}
	if c.L2.LinkSettle != DefaultLinkSettle || c.L2.Memberlist.BindPort != members.DefaultPort || c.L2.Memberlist.Profile.Name != "fast-lan" {
		t.Errorf("defaults not set: %+v %+v", c.L2, c.L2.Memberlist)
	}
}

func TestHandoverBurst(t *testing.T) {
	s := time.Second
	want := []time.Duration{0, 100 * time.Millisecond, 500 * time.Millisecond, s, 2 * s, 3 * s, 4 * s, 5 * s, 6 * s}
	if diff := cmp.Diff(want, handoverBurst(5*s)); diff != "" {
		t.Errorf("handoverBurst(5s) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(announcer.DefaultBurst(), handoverBurst(0)); diff != "" {
		t.Errorf("handoverBurst(0) (-want +got):\n%s", diff)
	}
}

func TestMemberSourceWaitsForItsMeta(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	poked := make(chan struct{}, 16)
	s := &memberSource{
		cfg:      MemberlistConfig{Insecure: true, Profile: members.FastLAN()}, // port 0: a free one
		reader:   fake.NewClientBuilder().WithObjects(labNode("n1", "127.0.0.1")).Build(),
		node:     "n1",
		log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		onChange: func() { poked <- struct{}{} },
		live:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "live"}),
		metaSet:  make(chan struct{}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start = %v", err)
		}
	})

	select {
	case <-poked:
		t.Fatal("the member started before its metadata was set")
	case <-time.After(200 * time.Millisecond):
	}
	if _, ok := s.View(); ok {
		t.Fatal("a view before the metadata was set")
	}
	meta := nodeMeta{Any: true}.encode()
	if err := s.SetMeta(meta); err != nil {
		t.Fatal(err)
	}
	select {
	case <-poked:
	case <-time.After(20 * time.Second):
		t.Fatal("no view after the metadata was set")
	}
	v, ok := s.View()
	want := members.View{Live: []string{"n1"}, Meta: map[string][]byte{"n1": meta}}
	if diff := cmp.Diff(want, v, l2CmpOpts); !ok || diff != "" {
		t.Errorf("View (-want +got):\n%s", diff)
	}
}
