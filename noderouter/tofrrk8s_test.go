package noderouter

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/state"
)

// specGoldenDir holds TestSpecFromFRRGolden's files.
const specGoldenDir = "testdata/TestSpecFromFRRGolden"

// specCase is a node's own configuration, computed by frr.Build from
// metallb.io objects and Services, as the speaker computes it.
type specCase struct {
	name     string
	objects  config.Objects
	services []state.Service
	phase    frr.Phase
}

func specCases() []specCase {
	ns := "metallb-system"
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	dur := func(s int) *metav1.Duration { return &metav1.Duration{Duration: time.Duration(s) * time.Second} }
	u32 := func(v uint32) *uint32 { return &v }
	pools := []v1beta1.IPAddressPool{
		{ObjectMeta: meta("public"), Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.0/28", "2001:db8:0:100::/120"}}},
		{ObjectMeta: meta("private"), Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"198.51.100.0/28"}}},
	}
	services := []state.Service{
		{Namespace: "a", Name: "private", Pool: "private", IPs: []netip.Addr{addr("198.51.100.3")}, ServingNodes: []string{"node-1"}},
		{Namespace: "a", Name: "public", Pool: "public", IPs: []netip.Addr{addr("203.0.113.5"), addr("2001:db8:0:100::5")}, ServingNodes: []string{"node-1"}},
	}
	attrs := config.Objects{
		Namespace: ns, Pools: pools,
		BGPPeers: []v1beta2.BGPPeer{
			{ObjectMeta: meta("ibgp"), Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64512, Address: "192.0.2.1"}},
			{ObjectMeta: meta("ebgp"), Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "192.0.2.2"}},
		},
		BGPAdvertisements: []v1beta1.BGPAdvertisement{
			{ObjectMeta: meta("public"), Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"public"}, LocalPref: 150, Communities: []string{"65000:7", "65535:65281", "large:64512:1:2"}}},
			{ObjectMeta: meta("private"), Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"private"}, Peers: []string{"ibgp"}}},
		},
	}
	sessions := config.Objects{
		Namespace: ns, Pools: pools,
		BFDProfiles: []v1beta1.BFDProfile{{ObjectMeta: meta("lab"), Spec: v1beta1.BFDProfileSpec{ReceiveInterval: u32(300), TransmitInterval: u32(200), DetectMultiplier: u32(3)}}},
		BGPPeers: []v1beta2.BGPPeer{
			{ObjectMeta: meta("router-v4"), Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "192.0.2.1", BFDProfile: "lab", EnableGracefulRestart: true,
				HoldTime: dur(9), KeepaliveTime: dur(3), ConnectTime: dur(5), Password: "s3cret", Port: 1179, SrcAddress: "192.0.2.10"}},
			{ObjectMeta: meta("router-v6"), Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "2001:db8:0:1::1", BFDProfile: "lab", EnableGracefulRestart: true}},
			{ObjectMeta: meta("far"), Spec: v1beta2.BGPPeerSpec{MyASN: 64512, DynamicASN: v1beta2.ExternalASNMode, Address: "198.51.100.200", EBGPMultiHop: true, DualStackAddressFamily: true}},
			{ObjectMeta: meta("tenant"), Spec: v1beta2.BGPPeerSpec{MyASN: 64513, ASN: 64501, Address: "192.0.2.5", VRFName: "red", RouterID: "192.0.2.99"}},
			{ObjectMeta: meta("link"), Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64502, Interface: "eth1"}},
		},
		BGPAdvertisements: []v1beta1.BGPAdvertisement{{ObjectMeta: meta("all"), Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"public", "private"}}}},
	}
	return []specCase{
		{name: "attributes", objects: attrs, services: services},
		{name: "attributes-graceful-shutdown", objects: attrs, services: services, phase: frr.PhaseGracefulShutdown},
		{name: "attributes-withdrawn", objects: attrs, services: services, phase: frr.PhaseWithdrawn},
		{name: "sessions", objects: sessions, services: services},
		{name: "no-services", objects: sessions},
	}
}

// buildOwn runs config.Build and frr.Build for node-1.
func buildOwn(t *testing.T, tc specCase) *frr.Config {
	t.Helper()
	model, err := config.Build(tc.objects)
	if err != nil {
		t.Fatalf("config.Build: %v", err)
	}
	c := &state.Cluster{
		Model:    model,
		Nodes:    []state.Node{{Name: "node-1", Labels: labels.Set{"kubernetes.io/hostname": "node-1"}, Ready: true}},
		Services: tc.services,
	}
	cfg, err := frr.Build(c, "node-1", frr.BuildOptions{RouterID: addr("192.0.2.10"), Phase: tc.phase})
	if err != nil {
		t.Fatalf("frr.Build: %v", err)
	}
	return cfg
}

// TestSpecFromFRRGolden converts what frr.Build computes into an
// FRRConfiguration spec and compares its YAML with
// testdata/TestSpecFromFRRGolden/<case>.yaml (-update rewrites them).
func TestSpecFromFRRGolden(t *testing.T) {
	for _, tc := range specCases() {
		t.Run(tc.name, func(t *testing.T) {
			spec, err := SpecFromFRR(buildOwn(t, tc))
			if err != nil {
				t.Fatalf("SpecFromFRR: %v", err)
			}
			got, err := yaml.Marshal(spec)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(specGoldenDir, tc.name+".yaml")
			if *update {
				if err := os.MkdirAll(specGoldenDir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("%s differs (-want +got):\n%s", path, cmp.Diff(string(want), string(got)))
			}
		})
	}
}

// TestSpecFromFRRRoundTrip reads each converted spec back with
// FromFRRConfiguration, as the merge reads any FRRConfiguration, and
// expects ironlb's own model (FromFRR) but for the origins and what the
// conversion documents as left to frr-k8s: disable-connected-check.
func TestSpecFromFRRRoundTrip(t *testing.T) {
	ignore := cmp.Options{
		cmpopts.IgnoreFields(Router{}, "Origins"),
		cmpopts.IgnoreFields(Neighbor{}, "Origins", "DisableConnectedCheck"),
		cmpopts.IgnoreFields(BFDProfile{}, "Origins"),
	}
	for _, tc := range specCases() {
		t.Run(tc.name, func(t *testing.T) {
			own := buildOwn(t, tc)
			spec, err := SpecFromFRR(own)
			if err != nil {
				t.Fatalf("SpecFromFRR: %v", err)
			}
			back, err := FromFRRConfiguration(&frrk8s.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: "frr-k8s-system", Name: "ironlb-node-1"}, Spec: spec})
			if err != nil {
				t.Fatalf("FromFRRConfiguration refuses the converted spec: %v", err)
			}
			if diff := cmp.Diff(FromFRR(own), back, cmpOpts, ignore); diff != "" {
				t.Errorf("round trip (-FromFRR +FromFRRConfiguration):\n%s", diff)
			}
		})
	}
}

// TestSpecFromFRRRefusesWhatItCannotExpress checks that what an
// FRRConfiguration cannot hold is an error naming the peer and field,
// not dropped.
func TestSpecFromFRRRefusesWhatItCannotExpress(t *testing.T) {
	router := func(n frr.Neighbor) *frr.Config {
		return &frr.Config{Routers: []frr.Router{{ASN: 64512, Neighbors: []frr.Neighbor{n}}}}
	}
	tests := []struct {
		name    string
		cfg     *frr.Config
		wantErr string
	}{{
		name:    "local AS",
		cfg:     router(frr.Neighbor{Peer: "p", Address: "192.0.2.1", RemoteAS: "64500", LocalAS: 64999}),
		wantErr: `BGPPeer "p": spec.localASN: 64999 cannot be expressed`,
	}, {
		name:    "link-local address on an interface",
		cfg:     router(frr.Neighbor{Peer: "p", Address: "fe80::1", Interface: "eth0", RemoteAS: "64500"}),
		wantErr: `BGPPeer "p": spec.interface: a link-local peer address scoped to interface eth0`,
	}, {
		name:    "BFD without profile",
		cfg:     router(frr.Neighbor{Peer: "p", Address: "192.0.2.1", RemoteAS: "64500", BFD: true}),
		wantErr: `BGPPeer "p": spec.bfdProfile: BFD without a profile`,
	}, {
		name:    "zero hold time",
		cfg:     router(frr.Neighbor{Peer: "p", Address: "192.0.2.1", RemoteAS: "64500", Timers: &frr.Timers{}}),
		wantErr: `BGPPeer "p": spec.holdTime: keepalive 0s and hold time 0s`,
	}, {
		name:    "merged additions",
		cfg:     &frr.Config{Raw: []string{"bgp something"}},
		wantErr: "prefix-lists or raw snippets",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SpecFromFRR(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("SpecFromFRR error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	if spec, err := SpecFromFRR(nil); err != nil || len(spec.BGP.Routers) != 0 {
		t.Errorf("SpecFromFRR(nil) = %+v, %v; want an empty spec", spec, err)
	}
}
