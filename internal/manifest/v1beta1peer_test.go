package manifest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/api/v1beta2"
)

// TestDecodeV1beta1Peer: a v1beta1 BGPPeer document becomes the v1beta2
// peer the API server would store.
func TestDecodeV1beta1Peer(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    []v1beta2.BGPPeer
		wantErr string
	}{
		{
			name: "every v1beta1 field",
			input: `apiVersion: metallb.io/v1beta1
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec:
  myASN: 64512
  peerASN: 64500
  peerAddress: 192.0.2.1
  sourceAddress: 192.0.2.10
  peerPort: 1179
  holdTime: 90s
  keepaliveTime: 30s
  routerID: 192.0.2.10
  nodeSelectors:
  - matchLabels: {zone: a}
    matchExpressions:
    - {key: role, operator: In, values: [edge]}
  password: s3cret
  bfdProfile: fast
  ebgpMultiHop: true
`,
			want: []v1beta2.BGPPeer{{
				TypeMeta:   metav1.TypeMeta{APIVersion: "metallb.io/v1beta2", Kind: "BGPPeer"},
				ObjectMeta: metav1.ObjectMeta{Name: "tor", Namespace: "metallb-system"},
				Spec: v1beta2.BGPPeerSpec{
					MyASN: 64512, ASN: 64500, Address: "192.0.2.1", SrcAddress: "192.0.2.10", Port: 1179,
					HoldTime: &metav1.Duration{Duration: 90 * time.Second}, KeepaliveTime: &metav1.Duration{Duration: 30 * time.Second},
					RouterID: "192.0.2.10",
					NodeSelectors: []metav1.LabelSelector{{
						MatchLabels:      map[string]string{"zone": "a"},
						MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "role", Operator: metav1.LabelSelectorOpIn, Values: []string{"edge"}}},
					}},
					Password: "s3cret", BFDProfile: "fast", EBGPMultiHop: true,
				},
			}},
		},
		{
			name: "v1beta2 fields kept in the annotation",
			input: `apiVersion: metallb.io/v1beta1
kind: BGPPeer
metadata:
  name: tor
  annotations: {ironlb.io/v1beta2-fields: '{"vrf":"red","dynamicASN":"external"}'}
spec: {myASN: 64512, peerASN: 0, peerAddress: 192.0.2.1}
`,
			want: []v1beta2.BGPPeer{{
				TypeMeta:   metav1.TypeMeta{APIVersion: "metallb.io/v1beta2", Kind: "BGPPeer"},
				ObjectMeta: metav1.ObjectMeta{Name: "tor"},
				Spec:       v1beta2.BGPPeerSpec{MyASN: 64512, DynamicASN: v1beta2.ExternalASNMode, Address: "192.0.2.1", VRFName: "red"},
			}},
		},
		{
			name: "a v2-only field in the spec",
			input: `apiVersion: metallb.io/v1beta1
kind: BGPPeer
metadata: {name: tor}
spec: {myASN: 64512, peerASN: 64500, peerAddress: 192.0.2.1, vrf: red}
`,
			wantErr: `test.yaml: document 1: BGPPeer "tor": error unmarshaling JSON: while decoding JSON: json: unknown field "vrf"`,
		},
		{
			name: "an annotation that does not parse",
			input: `apiVersion: metallb.io/v1beta1
kind: BGPPeer
metadata:
  name: tor
  annotations: {ironlb.io/v1beta2-fields: '{"vrf":'}
spec: {myASN: 64512, peerASN: 64500, peerAddress: 192.0.2.1}
`,
			wantErr: `test.yaml: document 1: BGPPeer "tor": metadata.annotations[ironlb.io/v1beta2-fields]: not a v1beta2 spec`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Set{}
			err := s.Decode("test.yaml", strings.NewReader(tc.input))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Decode() error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, s.BGPPeers); diff != "" {
				t.Errorf("Decode() peers (-want +got):\n%s", diff)
			}
		})
	}
}
