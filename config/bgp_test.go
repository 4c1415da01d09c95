package config

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
)

func TestPeers(t *testing.T) {
	dur := func(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
	with := func(p v1beta2.BGPPeer, f func(*v1beta2.BGPPeerSpec)) v1beta2.BGPPeer {
		f(&p.Spec)
		return p
	}
	base := mkPeer("p", "192.0.2.1", 64512, 64513)
	// want returns the model of base with f applied.
	want := func(f func(*Peer)) Peer {
		p := Peer{Name: "p", MyASN: 64512, PeerASN: 64513, Address: netip.MustParseAddr("192.0.2.1"), Port: 179}
		if f != nil {
			f(&p)
		}
		return p
	}
	fast := v1beta1.BFDProfile{ObjectMeta: meta("fast"), Spec: v1beta1.BFDProfileSpec{ReceiveInterval: ptr(uint32(100))}}
	basicAuth := func(ns, name, pw string) corev1.Secret {
		return mkSecret(ns, name, corev1.SecretTypeBasicAuth, map[string]string{"password": pw})
	}

	tests := []struct {
		name    string
		peers   []v1beta2.BGPPeer
		bfd     []v1beta1.BFDProfile
		secrets []corev1.Secret
		want    []Peer
		wantErr []FieldError
	}{
		{
			name:  "defaults",
			peers: []v1beta2.BGPPeer{base},
			want:  []Peer{want(nil)},
		},
		{
			name: "everything set",
			peers: []v1beta2.BGPPeer{with(base, func(s *v1beta2.BGPPeerSpec) {
				s.SrcAddress = "192.0.2.100"
				s.Port = 1179
				s.HoldTime, s.KeepaliveTime, s.ConnectTime = dur(90*time.Second), dur(30*time.Second), dur(5*time.Second)
				s.RouterID = "10.0.0.1"
				s.NodeSelectors = []metav1.LabelSelector{labelSel("rack", "r1")}
				s.Password = "s3cret"
				s.BFDProfile = "fast"
				s.EnableGracefulRestart, s.EBGPMultiHop, s.VRFName = true, true, "red"
				s.DualStackAddressFamily, s.DisableMP = true, true
			})},
			bfd: []v1beta1.BFDProfile{fast},
			want: []Peer{want(func(p *Peer) {
				p.SourceAddress = netip.MustParseAddr("192.0.2.100")
				p.Port = 1179
				p.HoldTime, p.KeepaliveTime, p.ConnectTime = ptr(90*time.Second), ptr(30*time.Second), ptr(5*time.Second)
				p.RouterID = netip.MustParseAddr("10.0.0.1")
				p.NodeSelectors = []labels.Selector{mustSelector(t, "rack=r1")}
				p.Password = NewPassword("s3cret")
				p.BFDProfile = &BFDProfile{Name: "fast", ReceiveInterval: 100, TransmitInterval: 300, DetectMultiplier: 3, EchoInterval: 50, MinimumTTL: 254}
				p.EnableGracefulRestart, p.EBGPMultiHop, p.VRF = true, true, "red"
				p.DualStackAddressFamily, p.DisableMP = true, true
			})},
		},
		{
			name: "ipv6 peer with dynamic ASN",
			peers: []v1beta2.BGPPeer{with(base, func(s *v1beta2.BGPPeerSpec) {
				s.Address, s.ASN, s.DynamicASN = "2001:db8::1", 0, v1beta2.ExternalASNMode
			})},
			want: []Peer{want(func(p *Peer) {
				p.Address, p.PeerASN, p.DynamicASN = netip.MustParseAddr("2001:db8::1"), 0, v1beta2.ExternalASNMode
			})},
		},
		{
			name:  "hold time only derives keepalive",
			peers: []v1beta2.BGPPeer{with(base, func(s *v1beta2.BGPPeerSpec) { s.HoldTime = dur(10 * time.Second) })},
			want:  []Peer{want(func(p *Peer) { p.HoldTime, p.KeepaliveTime = ptr(10*time.Second), ptr(3*time.Second) })},
		},
		{
			name:  "keepalive only derives hold time",
			peers: []v1beta2.BGPPeer{with(base, func(s *v1beta2.BGPPeerSpec) { s.KeepaliveTime = dur(20 * time.Second) })},
			want:  []Peer{want(func(p *Peer) { p.HoldTime, p.KeepaliveTime = ptr(60*time.Second), ptr(20*time.Second) })},
		},
		{
			name:  "zero hold time",
			peers: []v1beta2.BGPPeer{with(base, func(s *v1beta2.BGPPeerSpec) { s.HoldTime = dur(0) })},
			want:  []Peer{want(func(p *Peer) { p.HoldTime, p.KeepaliveTime = ptr(time.Duration(0)), ptr(time.Duration(0)) })},
		},
		{
			name: "bad timers",
			peers: []v1beta2.BGPPeer{
				with(mkPeer("a", "192.0.2.1", 1, 2), func(s *v1beta2.BGPPeerSpec) {
					s.HoldTime, s.ConnectTime = dur(2*time.Second), dur(0)
				}),
				with(mkPeer("b", "192.0.2.2", 1, 2), func(s *v1beta2.BGPPeerSpec) {
					s.HoldTime, s.KeepaliveTime, s.ConnectTime = dur(1500*time.Millisecond), dur(-time.Second), dur(70000*time.Second)
				}),
				with(mkPeer("c", "192.0.2.3", 1, 2), func(s *v1beta2.BGPPeerSpec) {
					s.HoldTime, s.KeepaliveTime = dur(30*time.Second), dur(40*time.Second)
				}),
				with(mkPeer("d", "192.0.2.4", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.KeepaliveTime = dur(30000 * time.Second) }),
			},
			wantErr: []FieldError{
				{Kind: KindBGPPeer, Name: "a", Field: "spec.holdTime", Reason: "2s must be 0 or at least 3s"},
				{Kind: KindBGPPeer, Name: "a", Field: "spec.connectTime", Reason: "0s is out of range [1s, 18h12m15s]"},
				{Kind: KindBGPPeer, Name: "b", Field: "spec.holdTime", Reason: "1.5s is not a whole number of seconds"},
				{Kind: KindBGPPeer, Name: "b", Field: "spec.keepaliveTime", Reason: "-1s is out of range [0s, 18h12m15s]"},
				{Kind: KindBGPPeer, Name: "b", Field: "spec.connectTime", Reason: "19h26m40s is out of range [1s, 18h12m15s]"},
				{Kind: KindBGPPeer, Name: "c", Field: "spec.keepaliveTime", Reason: "40s is longer than holdTime 30s"},
				{Kind: KindBGPPeer, Name: "d", Field: "spec.keepaliveTime", Reason: "8h20m0s gives a hold time of 25h0m0s, above 18h12m15s; set holdTime too"},
			},
		},
		{
			name: "ASN errors",
			peers: []v1beta2.BGPPeer{
				mkPeer("a", "192.0.2.1", 0, 0),
				with(mkPeer("b", "192.0.2.2", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.DynamicASN = v1beta2.InternalASNMode }),
				with(mkPeer("c", "192.0.2.3", 1, 0), func(s *v1beta2.BGPPeerSpec) { s.DynamicASN = "sideways" }),
			},
			wantErr: []FieldError{
				{Kind: KindBGPPeer, Name: "a", Field: "spec.myASN", Reason: "must be set"},
				{Kind: KindBGPPeer, Name: "a", Field: "spec.peerASN", Reason: "one of peerASN and dynamicASN must be set"},
				{Kind: KindBGPPeer, Name: "b", Field: "spec.dynamicASN", Reason: "peerASN and dynamicASN are mutually exclusive"},
				{Kind: KindBGPPeer, Name: "c", Field: "spec.dynamicASN", Reason: `"sideways" is neither "internal" nor "external"`},
			},
		},
		{
			name: "ebgp multihop on iBGP",
			peers: []v1beta2.BGPPeer{
				with(mkPeer("a", "192.0.2.1", 64512, 64512), func(s *v1beta2.BGPPeerSpec) { s.EBGPMultiHop = true }),
				with(mkPeer("b", "192.0.2.2", 64512, 0), func(s *v1beta2.BGPPeerSpec) {
					s.DynamicASN, s.EBGPMultiHop = v1beta2.InternalASNMode, true
				}),
			},
			wantErr: []FieldError{
				{Kind: KindBGPPeer, Name: "a", Field: "spec.ebgpMultiHop", Reason: "is for eBGP sessions, and this peer is iBGP"},
				{Kind: KindBGPPeer, Name: "b", Field: "spec.ebgpMultiHop", Reason: "is for eBGP sessions, and this peer is iBGP"},
			},
		},
		{
			name: "local ASN on eBGP",
			peers: []v1beta2.BGPPeer{
				with(base, func(s *v1beta2.BGPPeerSpec) { s.LocalASN = 4200000000 }),
				with(mkPeer("q", "2001:db8::1", 64512, 0), func(s *v1beta2.BGPPeerSpec) {
					s.DynamicASN, s.LocalASN = v1beta2.ExternalASNMode, 64600
				}),
			},
			want: []Peer{
				want(func(p *Peer) { p.LocalASN = 4200000000 }),
				{Name: "q", MyASN: 64512, DynamicASN: v1beta2.ExternalASNMode, Address: netip.MustParseAddr("2001:db8::1"), Port: 179, LocalASN: 64600},
			},
		},
		{
			name: "local ASN conflicts",
			peers: []v1beta2.BGPPeer{
				with(mkPeer("a", "192.0.2.1", 64512, 64513), func(s *v1beta2.BGPPeerSpec) { s.LocalASN = 64512 }),
				with(mkPeer("b", "192.0.2.2", 64512, 64512), func(s *v1beta2.BGPPeerSpec) { s.LocalASN = 64600 }),
				with(mkPeer("c", "192.0.2.3", 64512, 0), func(s *v1beta2.BGPPeerSpec) {
					s.DynamicASN, s.LocalASN = v1beta2.InternalASNMode, 64600
				}),
			},
			wantErr: []FieldError{
				{Kind: KindBGPPeer, Name: "a", Field: "spec.localASN", Reason: "64512 is myASN already; leave localASN unset"},
				{Kind: KindBGPPeer, Name: "b", Field: "spec.localASN", Reason: "is for eBGP sessions, and this peer is iBGP (in myASN 64512)"},
				{Kind: KindBGPPeer, Name: "c", Field: "spec.localASN", Reason: "is for eBGP sessions, and this peer is iBGP (in myASN 64512)"},
			},
		},
		{
			name: "address errors",
			peers: []v1beta2.BGPPeer{
				with(mkPeer("a", "", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.Interface = "eth 0" }),
				mkPeer("b", "", 1, 2),
				with(mkPeer("c", "300.0.0.1", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.SrcAddress = "nope"; s.RouterID = "2001:db8::1" }),
				with(mkPeer("d", "fe80::1%eth0", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.RouterID = "x" }),
				with(mkPeer("e", "192.0.2.1", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.SrcAddress = "2001:db8::2" }),
			},
			wantErr: []FieldError{
				{Kind: KindBGPPeer, Name: "a", Field: "spec.interface", Reason: `"eth 0" contains whitespace, a control character or '/'`},
				{Kind: KindBGPPeer, Name: "b", Field: "spec.peerAddress", Reason: "one of peerAddress and interface must be set"},
				{Kind: KindBGPPeer, Name: "c", Field: "spec.peerAddress", Reason: `"300.0.0.1" is not an IP address`},
				{Kind: KindBGPPeer, Name: "c", Field: "spec.sourceAddress", Reason: `"nope" is not an IP address`},
				{Kind: KindBGPPeer, Name: "c", Field: "spec.routerID", Reason: "2001:db8::1 is not an IPv4 address"},
				{Kind: KindBGPPeer, Name: "d", Field: "spec.peerAddress", Reason: `"fe80::1%eth0" has a zone, which is not supported`},
				{Kind: KindBGPPeer, Name: "d", Field: "spec.routerID", Reason: `"x" is not an IP address`},
				{Kind: KindBGPPeer, Name: "e", Field: "spec.sourceAddress", Reason: "2001:db8::2 and peerAddress 192.0.2.1 are of different IP families"},
			},
		},
		{
			name: "unnumbered",
			peers: []v1beta2.BGPPeer{with(mkPeer("p", "", 64512, 0), func(s *v1beta2.BGPPeerSpec) {
				s.Interface, s.DynamicASN = "eth1", v1beta2.ExternalASNMode
			})},
			want: []Peer{{Name: "p", MyASN: 64512, DynamicASN: v1beta2.ExternalASNMode, Interface: "eth1", Port: 179}},
		},
		{
			name:  "link-local address on an interface",
			peers: []v1beta2.BGPPeer{with(mkPeer("p", "fe80::2", 64512, 64513), func(s *v1beta2.BGPPeerSpec) { s.Interface = "eth1" })},
			want: []Peer{want(func(p *Peer) {
				p.Address, p.Interface = netip.MustParseAddr("fe80::2"), "eth1"
			})},
		},
		{
			name: "interface errors",
			peers: []v1beta2.BGPPeer{
				with(mkPeer("a", "192.0.2.1", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.Interface = "eth1" }),
				with(mkPeer("b", "2001:db8::1", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.Interface = "eth1" }),
				mkPeer("c", "fe80::1", 1, 2),
				with(mkPeer("d", "", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.Interface = "a-very-long-interface" }),
				with(mkPeer("e", "", 1, 0), func(s *v1beta2.BGPPeerSpec) { s.Interface = "eth1" }),
			},
			wantErr: []FieldError{
				{Kind: KindBGPPeer, Name: "a", Field: "spec.peerAddress", Reason: `192.0.2.1 is not an IPv6 link-local address (fe80::/10); with interface "eth1" set, leave peerAddress empty or give the peer's link-local address`},
				{Kind: KindBGPPeer, Name: "b", Field: "spec.peerAddress", Reason: `2001:db8::1 is not an IPv6 link-local address (fe80::/10); with interface "eth1" set, leave peerAddress empty or give the peer's link-local address`},
				{Kind: KindBGPPeer, Name: "c", Field: "spec.peerAddress", Reason: "fe80::1 is an IPv6 link-local address, which needs spec.interface to name the link"},
				{Kind: KindBGPPeer, Name: "d", Field: "spec.interface", Reason: `"a-very-long-interface" is longer than 15 bytes`},
				{Kind: KindBGPPeer, Name: "e", Field: "spec.peerASN", Reason: "one of peerASN and dynamicASN must be set"},
			},
		},
		{
			name: "port, vrf and selector errors",
			peers: []v1beta2.BGPPeer{with(base, func(s *v1beta2.BGPPeerSpec) {
				s.Port = 20000
				s.VRFName = "has space"
				s.NodeSelectors = []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "k", Operator: "Sideways"}}}}
			})},
			wantErr: []FieldError{
				{Kind: KindBGPPeer, Name: "p", Field: "spec.peerPort", Reason: "20000 is above 16384"},
				{Kind: KindBGPPeer, Name: "p", Field: "spec.nodeSelectors[0]", Reason: "invalid label selector: "},
				{Kind: KindBGPPeer, Name: "p", Field: "spec.vrf", Reason: `"has space" contains whitespace`},
			},
		},
		{
			name:    "unknown BFD profile",
			peers:   []v1beta2.BGPPeer{with(base, func(s *v1beta2.BGPPeerSpec) { s.BFDProfile = "slow" })},
			bfd:     []v1beta1.BFDProfile{fast},
			wantErr: []FieldError{{Kind: KindBGPPeer, Name: "p", Field: "spec.bfdProfile", Reason: `no BFDProfile is named "slow"`}},
		},
		{
			name:    "password from a secret in ironlb's namespace",
			peers:   []v1beta2.BGPPeer{with(base, func(s *v1beta2.BGPPeerSpec) { s.PasswordSecret = corev1.SecretReference{Name: "bgp"} })},
			secrets: []corev1.Secret{basicAuth("elsewhere", "bgp", "wrong"), basicAuth(testNS, "bgp", "right")},
			want:    []Peer{want(func(p *Peer) { p.Password = NewPassword("right") })},
		},
		{
			name: "password from a secret in the ref's namespace",
			peers: []v1beta2.BGPPeer{with(base, func(s *v1beta2.BGPPeerSpec) {
				s.PasswordSecret = corev1.SecretReference{Name: "bgp", Namespace: "elsewhere"}
			})},
			secrets: []corev1.Secret{basicAuth("elsewhere", "bgp", "there"), basicAuth(testNS, "bgp", "here")},
			want:    []Peer{want(func(p *Peer) { p.Password = NewPassword("there") })},
		},
		{
			name:  "password from stringData",
			peers: []v1beta2.BGPPeer{with(base, func(s *v1beta2.BGPPeerSpec) { s.PasswordSecret = corev1.SecretReference{Name: "bgp"} })},
			secrets: []corev1.Secret{{
				ObjectMeta: metav1.ObjectMeta{Name: "bgp", Namespace: testNS}, Type: corev1.SecretTypeBasicAuth,
				StringData: map[string]string{"password": "fromstring"},
			}},
			want: []Peer{want(func(p *Peer) { p.Password = NewPassword("fromstring") })},
		},
		{
			name: "password errors never show the password",
			peers: []v1beta2.BGPPeer{
				with(mkPeer("a", "192.0.2.1", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.PasswordSecret = corev1.SecretReference{Name: "missing"} }),
				with(mkPeer("b", "192.0.2.2", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.PasswordSecret = corev1.SecretReference{Name: "opaque"} }),
				with(mkPeer("c", "192.0.2.3", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.PasswordSecret = corev1.SecretReference{Name: "nokey"} }),
				with(mkPeer("d", "192.0.2.4", 1, 2), func(s *v1beta2.BGPPeerSpec) {
					s.Password = "hunter2"
					s.PasswordSecret = corev1.SecretReference{Name: "bgp"}
				}),
				with(mkPeer("e", "192.0.2.5", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.Password = "hunter2 with spaces" }),
				with(mkPeer("f", "192.0.2.6", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.PasswordSecret = corev1.SecretReference{Name: "newline"} }),
				with(mkPeer("g", "192.0.2.7", 1, 2), func(s *v1beta2.BGPPeerSpec) { s.PasswordSecret = corev1.SecretReference{Namespace: "x"} }),
			},
			secrets: []corev1.Secret{
				mkSecret(testNS, "opaque", corev1.SecretTypeOpaque, map[string]string{"password": "hunter2"}),
				mkSecret(testNS, "nokey", corev1.SecretTypeBasicAuth, map[string]string{"username": "hunter2"}),
				basicAuth(testNS, "bgp", "hunter2"),
				basicAuth(testNS, "newline", "hunter2\nline"),
			},
			wantErr: []FieldError{
				{Kind: KindBGPPeer, Name: "a", Field: "spec.passwordSecret", Reason: `Secret "missing" in namespace "ironlb-system" not found`},
				{Kind: KindBGPPeer, Name: "b", Field: "spec.passwordSecret", Reason: `Secret "opaque" in namespace "ironlb-system" is of type "Opaque", want "kubernetes.io/basic-auth"`},
				{Kind: KindBGPPeer, Name: "c", Field: "spec.passwordSecret", Reason: `Secret "nokey" in namespace "ironlb-system" has no "password" key`},
				{Kind: KindBGPPeer, Name: "d", Field: "spec.password", Reason: "password and passwordSecret are mutually exclusive"},
				{Kind: KindBGPPeer, Name: "e", Field: "spec.password", Reason: "the password contains whitespace or a control character"},
				{Kind: KindBGPPeer, Name: "f", Field: "spec.passwordSecret", Reason: `the password in Secret "newline" in namespace "ironlb-system" contains whitespace or a control character`},
				{Kind: KindBGPPeer, Name: "g", Field: "spec.passwordSecret.name", Reason: "must be set when passwordSecret.namespace is"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Build(Objects{BGPPeers: tt.peers, BFDProfiles: tt.bfd, Secrets: tt.secrets, Namespace: testNS})
			checkErrs(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, m.Peers, cmpOpts); diff != "" {
				t.Errorf("Peers mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPeerIsIBGP(t *testing.T) {
	tests := []struct {
		name string
		peer Peer
		want bool
	}{
		{name: "same AS", peer: Peer{MyASN: 64512, PeerASN: 64512}, want: true},
		{name: "other AS", peer: Peer{MyASN: 64512, PeerASN: 64513}, want: false},
		{name: "dynamic internal", peer: Peer{MyASN: 64512, DynamicASN: v1beta2.InternalASNMode}, want: true},
		{name: "dynamic external", peer: Peer{MyASN: 64512, DynamicASN: v1beta2.ExternalASNMode}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.peer.IsIBGP(); got != tt.want {
				t.Errorf("IsIBGP() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSelectsNode(t *testing.T) {
	rack1 := []labels.Selector{mustSelector(t, "rack=r1"), mustSelector(t, "role=edge")}
	tests := []struct {
		name string
		sels []labels.Selector
		node labels.Set
		want bool
	}{
		{name: "no selectors select every node", sels: nil, node: labels.Set{"x": "y"}, want: true},
		{name: "first selector", sels: rack1, node: labels.Set{"rack": "r1"}, want: true},
		{name: "second selector", sels: rack1, node: labels.Set{"role": "edge"}, want: true},
		{name: "neither", sels: rack1, node: labels.Set{"rack": "r2"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer := &Peer{NodeSelectors: tt.sels}
			bgp := &BGPAdvertisement{NodeSelectors: tt.sels}
			l2 := &L2Advertisement{NodeSelectors: tt.sels}
			for what, got := range map[string]bool{
				"Peer":             peer.SelectsNode(tt.node),
				"BGPAdvertisement": bgp.SelectsNode(tt.node),
				"L2Advertisement":  l2.SelectsNode(tt.node),
			} {
				if got != tt.want {
					t.Errorf("%s.SelectsNode(%v) = %v, want %v", what, tt.node, got, tt.want)
				}
			}
		})
	}
}
