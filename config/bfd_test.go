package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
)

func TestBFDProfiles(t *testing.T) {
	tests := []struct {
		name    string
		in      []v1beta1.BFDProfile
		want    []BFDProfile
		wantErr []FieldError
	}{
		{
			name: "defaults made explicit",
			in:   []v1beta1.BFDProfile{{ObjectMeta: meta("default")}},
			want: []BFDProfile{{Name: "default", ReceiveInterval: 300, TransmitInterval: 300, DetectMultiplier: 3, EchoInterval: 50, MinimumTTL: 254}},
		},
		{
			name: "everything set, sorted by name",
			in: []v1beta1.BFDProfile{
				{ObjectMeta: meta("zz")},
				{ObjectMeta: meta("fast"), Spec: v1beta1.BFDProfileSpec{
					ReceiveInterval: ptr(uint32(10)), TransmitInterval: ptr(uint32(20)), DetectMultiplier: ptr(uint32(2)),
					EchoInterval: ptr(uint32(60000)), EchoMode: ptr(true), PassiveMode: ptr(true), MinimumTTL: ptr(uint32(1)),
				}},
			},
			want: []BFDProfile{
				{Name: "fast", ReceiveInterval: 10, TransmitInterval: 20, DetectMultiplier: 2, EchoInterval: 60000, EchoMode: true, PassiveMode: true, MinimumTTL: 1},
				{Name: "zz", ReceiveInterval: 300, TransmitInterval: 300, DetectMultiplier: 3, EchoInterval: 50, MinimumTTL: 254},
			},
		},
		{
			name: "explicit false flags",
			in:   []v1beta1.BFDProfile{{ObjectMeta: meta("p"), Spec: v1beta1.BFDProfileSpec{EchoMode: ptr(false), PassiveMode: ptr(false)}}},
			want: []BFDProfile{{Name: "p", ReceiveInterval: 300, TransmitInterval: 300, DetectMultiplier: 3, EchoInterval: 50, MinimumTTL: 254}},
		},
		{
			name: "out of range",
			in: []v1beta1.BFDProfile{{ObjectMeta: meta("bad"), Spec: v1beta1.BFDProfileSpec{
				ReceiveInterval: ptr(uint32(9)), TransmitInterval: ptr(uint32(60001)), DetectMultiplier: ptr(uint32(1)),
				EchoInterval: ptr(uint32(0)), MinimumTTL: ptr(uint32(255)),
			}}},
			wantErr: []FieldError{
				{Kind: KindBFDProfile, Name: "bad", Field: "spec.receiveInterval", Reason: "9 is out of range [10, 60000]"},
				{Kind: KindBFDProfile, Name: "bad", Field: "spec.transmitInterval", Reason: "60001 is out of range [10, 60000]"},
				{Kind: KindBFDProfile, Name: "bad", Field: "spec.detectMultiplier", Reason: "1 is out of range [2, 255]"},
				{Kind: KindBFDProfile, Name: "bad", Field: "spec.echoInterval", Reason: "0 is out of range [10, 60000]"},
				{Kind: KindBFDProfile, Name: "bad", Field: "spec.minimumTtl", Reason: "255 is out of range [1, 254]"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Build(Objects{BFDProfiles: tt.in, Namespace: testNS})
			checkErrs(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if diff := cmp.Diff(tt.want, m.BFDProfiles, cmpOpts); diff != "" {
				t.Errorf("BFDProfiles mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBFDEchoTowardsIPv6 checks MetalLB's rule: no BFD echo mode on a
// peer that an advertisement announces a pool with IPv6 addresses to.
func TestBFDEchoTowardsIPv6(t *testing.T) {
	echo := v1beta1.BFDProfile{ObjectMeta: meta("echo"), Spec: v1beta1.BFDProfileSpec{EchoMode: ptr(true)}}
	plain := v1beta1.BFDProfile{ObjectMeta: meta("plain")}
	peer := func(name, addr, profile string) v1beta2.BGPPeer {
		p := mkPeer(name, addr, 64512, 64513)
		p.Spec.BFDProfile = profile
		return p
	}
	adv := func(name string, pools, peers []string) v1beta1.BGPAdvertisement {
		return v1beta1.BGPAdvertisement{ObjectMeta: meta(name), Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: pools, Peers: peers}}
	}
	pools := []v1beta1.IPAddressPool{
		mkPool("v4", "192.0.2.0/28"),
		mkPool("mixed", "198.51.100.0/28", "2001:db8:1::/120"),
		mkPool("v6", "2001:db8:2::/120"),
	}
	const reason = `BFDProfile "echo" enables echoMode, which BFD cannot run with IPv6 routes: `
	tests := []struct {
		name    string
		peers   []v1beta2.BGPPeer
		advs    []v1beta1.BGPAdvertisement
		wantErr []FieldError
	}{
		{
			name:  "echo with IPv4 pools only",
			peers: []v1beta2.BGPPeer{peer("tor", "192.0.2.254", "echo")},
			advs:  []v1beta1.BGPAdvertisement{adv("a", []string{"v4"}, nil)},
		},
		{
			name:  "IPv6 pool to a peer without echo",
			peers: []v1beta2.BGPPeer{peer("tor", "2001:db8::1", "plain"), peer("nobfd", "2001:db8::2", "")},
			advs:  []v1beta1.BGPAdvertisement{adv("a", []string{"v6"}, nil)},
		},
		{
			name:  "IPv6 pool to another peer than the echo one",
			peers: []v1beta2.BGPPeer{peer("tor", "192.0.2.254", "echo"), peer("tor6", "2001:db8::1", "plain")},
			advs:  []v1beta1.BGPAdvertisement{adv("a", []string{"v4"}, nil), adv("b", []string{"v6"}, []string{"tor6"})},
		},
		{
			name:  "mixed pool to every peer, IPv4 peer address too",
			peers: []v1beta2.BGPPeer{peer("tor", "192.0.2.254", "echo"), peer("tor6", "2001:db8::1", "plain")},
			advs:  []v1beta1.BGPAdvertisement{adv("a", []string{"mixed"}, nil)},
			wantErr: []FieldError{
				{Kind: KindBGPPeer, Name: "tor", Field: "spec.bfdProfile", Reason: reason + `BGPAdvertisement "a" announces pool "mixed", which has IPv6 addresses, to this peer`},
			},
		},
		{
			name: "one error per peer, the first advertisement in name order",
			peers: []v1beta2.BGPPeer{
				peer("tor-a", "192.0.2.1", "echo"), peer("tor-b", "2001:db8::1", "echo"), peer("tor-c", "192.0.2.3", "echo"),
			},
			advs: []v1beta1.BGPAdvertisement{
				adv("z", []string{"v6"}, nil),
				adv("b", []string{"v4", "v6"}, []string{"tor-b", "tor-a"}),
				adv("a", []string{"v4"}, nil),
			},
			wantErr: []FieldError{
				{Kind: KindBGPPeer, Name: "tor-a", Field: "spec.bfdProfile", Reason: reason + `BGPAdvertisement "b" announces pool "v6", which has IPv6 addresses, to this peer`},
				{Kind: KindBGPPeer, Name: "tor-b", Field: "spec.bfdProfile", Reason: reason + `BGPAdvertisement "b" announces pool "v6", which has IPv6 addresses, to this peer`},
				{Kind: KindBGPPeer, Name: "tor-c", Field: "spec.bfdProfile", Reason: reason + `BGPAdvertisement "z" announces pool "v6", which has IPv6 addresses, to this peer`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(Objects{
				Pools: pools, BFDProfiles: []v1beta1.BFDProfile{echo, plain}, BGPPeers: tt.peers, BGPAdvertisements: tt.advs, Namespace: testNS,
			})
			checkErrs(t, err, tt.wantErr)
		})
	}
}
