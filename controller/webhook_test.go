package controller_test

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
)

func TestWebhookRejectsWhatTheModelRejects(t *testing.T) {
	cl := newCluster(t, true)
	ctx := context.Background()
	cl.create(pool("a", "192.0.2.0/28"))
	cl.create(&v1beta1.BFDProfile{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fast"}})
	cl.create(&v1beta2.BGPPeer{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "router"},
		Spec:       v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "192.0.2.1", BFDProfile: "fast"},
	})

	tests := []struct {
		name    string
		op      func() error
		wantErr string
	}{
		{
			name:    "overlapping pool",
			op:      func() error { return cl.c.Create(ctx, pool("b", "192.0.2.8/29")) },
			wantErr: `IPAddressPool "b"`,
		},
		{
			name: "advertisement of an unknown pool",
			op: func() error {
				return cl.c.Create(ctx, &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "adv"}, Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"nope"}}})
			},
			wantErr: `BGPAdvertisement "adv"`,
		},
		{
			name: "peer with unknown BFD profile",
			op: func() error {
				return cl.c.Create(ctx, &v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "r2"}, Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "192.0.2.2", BFDProfile: "slow"}})
			},
			wantErr: "slow",
		},
		{
			name: "deleting a BFD profile in use",
			op: func() error {
				return cl.c.Delete(ctx, &v1beta1.BFDProfile{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fast"}})
			},
			wantErr: `BGPPeer "router"`,
		},
		{
			name: "advertisement with unknown community alias",
			op: func() error {
				return cl.c.Create(ctx, &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "adv2"}, Spec: v1beta1.BGPAdvertisementSpec{Communities: []string{"no-such-alias"}}})
			},
			wantErr: "no-such-alias",
		},
		{
			name: "valid advertisement",
			op: func() error {
				return cl.c.Create(ctx, &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ok"}, Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"a"}, Peers: []string{"router"}}})
			},
		},
		{
			name: "non-overlapping pool",
			op:   func() error { return cl.c.Create(ctx, pool("c", "198.51.100.0/28")) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.op()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("got error %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("accepted, want denial mentioning %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not mention %q", err, tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), "denied the request"):
				t.Fatalf("error %q does not come from the webhook", err)
			}
		})
	}
}
