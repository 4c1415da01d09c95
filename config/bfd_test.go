package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/api/v1beta1"
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
