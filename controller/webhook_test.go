package controller_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
)

func TestWebhookRejectsWhatTheModelRejects(t *testing.T) {
	cl := newCluster(t, true)
	ctx := context.Background()
	cl.create(pool("a", "192.0.2.0/28"))
	cl.create(pool("v6", "2001:db8::/120"))
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
			name: "local ASN on an iBGP peer",
			op: func() error {
				return cl.c.Create(ctx, &v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "r3"}, Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64512, Address: "192.0.2.3", LocalASN: 64600}})
			},
			wantErr: `BGPPeer "r3": spec.localASN`,
		},
		{
			name: "local ASN on an eBGP peer",
			op: func() error {
				return cl.c.Create(ctx, &v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "r4"}, Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "192.0.2.4", LocalASN: 64600}})
			},
		},
		{
			name: "IPv6 pool announced to a peer with BFD echo mode",
			op: func() error {
				if err := cl.c.Create(ctx, &v1beta1.BFDProfile{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "echo"}, Spec: v1beta1.BFDProfileSpec{EchoMode: ptr.To(true)}}); err != nil {
					return err
				}
				if err := cl.c.Create(ctx, &v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "r5"}, Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "192.0.2.5", BFDProfile: "echo"}}); err != nil {
					return err
				}
				return cl.c.Create(ctx, &v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "v6"}, Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"v6"}, Peers: []string{"r5"}}})
			},
			wantErr: `BGPPeer "r5": spec.bfdProfile: BFDProfile "echo" enables echoMode`,
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

// warningRecorder collects the warnings the API server returns.
type warningRecorder struct {
	mu   sync.Mutex
	text []string
}

func (w *warningRecorder) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.text = append(w.text, text)
}

func (w *warningRecorder) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.text
	w.text = nil
	return out
}

// TestWebhookWarnsOfDeprecatedFields creates BGPPeers through the API
// server with a client that records warnings, as kubectl prints them: a
// peer that sets the deprecated disableMP gets a warning naming the
// object, the field and its replacement; one that does not gets none.
func TestWebhookWarnsOfDeprecatedFields(t *testing.T) {
	cl := newCluster(t, true)
	ctx := context.Background()
	rec := &warningRecorder{}
	cfg := rest.CopyConfig(cl.env.Config)
	cfg.WarningHandler = rec
	c, err := client.New(cfg, client.Options{Scheme: cl.env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	peer := func(name, addr string, disableMP bool) *v1beta2.BGPPeer {
		return &v1beta2.BGPPeer{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec:       v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: addr, DisableMP: disableMP},
		}
	}

	if err := c.Create(ctx, peer("plain", "192.0.2.1", false)); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Errorf("warnings for a peer without deprecated fields: %q", got)
	}

	old := peer("old", "192.0.2.2", true)
	if err := c.Create(ctx, old); err != nil {
		t.Fatal(err)
	}
	want := []string{`BGPPeer "old": spec.disableMP is deprecated and has no effect: a session carries only the routes of its own IP family unless spec.dualStackAddressFamily is set`}
	if diff := cmp.Diff(want, rec.take()); diff != "" {
		t.Errorf("warnings on create (-want +got):\n%s", diff)
	}
	old.Spec.HoldTime = &metav1.Duration{Duration: 90 * time.Second}
	if err := c.Update(ctx, old); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, rec.take()); diff != "" {
		t.Errorf("warnings on update (-want +got):\n%s", diff)
	}
}
