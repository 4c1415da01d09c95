package status

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/<TestName>.golden. With -update it
// rewrites the file; on a mismatch it writes got beside it as .got.
func golden(t *testing.T, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", strings.ReplaceAll(t.Name(), "/", "_")+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the golden file (run go test -update to create it): %v", err)
	}
	if bytes.Equal(want, got) {
		return
	}
	gotPath := strings.TrimSuffix(path, ".golden") + ".got"
	if err := os.WriteFile(gotPath, got, 0o644); err != nil {
		t.Error(err)
	}
	t.Errorf("output differs from %s; it is in %s (-want +got):\n%s", path, gotPath, cmp.Diff(string(want), string(got)))
}

// goldenObjects is a small cluster with a bit of everything: BGP, L2 and
// both, a dual-stack Service, a pending one, a node with a failed apply
// and a session down, a speaker with an invalid configuration.
func goldenObjects() Objects {
	cfg := config.Objects{
		Namespace: ns,
		Pools: []v1beta1.IPAddressPool{
			pool("public", "192.0.2.0/28", "2001:db8::/124"),
			pool("office", "198.51.100.0/28"),
			pool("spare", "203.0.113.0/28"),
		},
		BGPPeers:          []v1beta2.BGPPeer{peer("tor-a", "192.0.2.254"), peer("tor-b", "192.0.2.253")},
		BGPAdvertisements: []v1beta1.BGPAdvertisement{bgpAdv("public", "public")},
		L2Advertisements:  []v1beta1.L2Advertisement{l2Adv("office", "office", "public")},
	}
	cfg.Pools[0].Status = v1beta1.IPAddressPoolStatus{AssignedIPv4: 2, AvailableIPv4: 14, AssignedIPv6: 1, AvailableIPv6: 15}
	cfg.Pools[1].Status = v1beta1.IPAddressPoolStatus{AssignedIPv4: 1, AvailableIPv4: 15}
	cfg.Pools[2].Status = v1beta1.IPAddressPoolStatus{AvailableIPv4: 16}

	web := fromPool(lbService("shop", "web", "2001:db8::1", "192.0.2.1"), "public")
	web.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}
	return Objects{
		Config: cfg,
		Services: []corev1.Service{
			web,
			fromPool(lbService("shop", "api", "192.0.2.2"), "public"),
			fromPool(lbService("office", "printer", "198.51.100.1"), "office"),
			lbService("shop", "db"),
		},
		BGPStatuses: []v1beta1.ServiceBGPStatus{
			bgpStatus("node-a", "shop", "web", "tor-a", "tor-b"),
			bgpStatus("node-b", "shop", "web", "tor-a"),
			bgpStatus("node-a", "shop", "api", "tor-a", "tor-b"),
		},
		L2Statuses: []v1beta1.ServiceL2Status{
			l2Status("node-b", "office", "printer", "eth0"),
			l2Status("node-a", "shop", "web", "eth0"),
		},
		Speakers: []v1beta1.SpeakerStatus{
			{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "node-a"},
				Status: v1beta1.SpeakerStatusStatus{
					Node: "node-a", Phase: "normal",
					LastApply: &v1beta1.ApplyResult{Time: metav1.NewTime(now.Add(-5 * time.Minute)), Path: "fast", Succeeded: true, DurationMilliseconds: 12},
					Sessions: []v1beta1.BGPSession{
						{Peer: "tor-a", Address: "192.0.2.254", State: "Established", Since: before(26 * time.Hour), PrefixesSent: 3, PrefixesReceived: 2, BFD: "up", EstablishedTransitions: 1},
						{Peer: "tor-b", Address: "192.0.2.253", State: "Established", Since: before(90 * time.Minute), PrefixesSent: 3, EstablishedTransitions: 3},
					},
				},
			},
			{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "node-b"},
				Status: v1beta1.SpeakerStatusStatus{
					Node: "node-b", Phase: "graceful-shutdown",
					LastApply: &v1beta1.ApplyResult{
						Time: metav1.NewTime(now.Add(-30 * time.Second)), Path: "full", Stage: "reload",
						Message: "frr-reload.py failed:\nline 12: % Unknown command: neighbor", DurationMilliseconds: 1234,
					},
					Sessions: []v1beta1.BGPSession{
						{Peer: "tor-a", Address: "192.0.2.254", State: "Established", Since: before(10 * time.Minute), PrefixesSent: 1, BFD: "up"},
						{Peer: "tor-b", Address: "192.0.2.253", State: "Active", LastError: "Hold Timer Expired"},
					},
				},
			},
			{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "node-c"},
				Status: v1beta1.SpeakerStatusStatus{
					Node: "node-c", Phase: "withdrawn",
					LastApply: &v1beta1.ApplyResult{Time: metav1.NewTime(now.Add(-2 * time.Second)), Path: "none", Succeeded: true},
				},
			},
		},
		ConfigurationStates: []v1beta1.ConfigurationState{
			configState("controller", "controller", "", v1beta1.ConfigurationStateResultValid, ""),
			configState("speaker-node-a", "speaker", "node-a", v1beta1.ConfigurationStateResultValid, ""),
			configState("speaker-node-b", "speaker", "node-b", v1beta1.ConfigurationStateResultInvalid,
				`BGPPeer "tor-b": spec.bfdProfile: no BFDProfile is named "fast"`),
		},
		// The node router: node-a receives routes, node-b has a
		// conflict, node-c has nothing of it.
		Nodes: []corev1.Node{
			{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{"rack": "a"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "node-b", Labels: map[string]string{"rack": "b"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "node-c", Labels: map[string]string{"rack": "c"}}},
		},
		FRRConfigurations: []frrk8s.FRRConfiguration{
			frrConfiguration("receive-default", map[string]string{"rack": "a"}),
			frrConfiguration("pods", map[string]string{"rack": "a"}),
			frrConfiguration("rival", map[string]string{"rack": "b"}),
		},
		FRRNodeStates: []frrk8s.FRRNodeState{
			{ObjectMeta: metav1.ObjectMeta{Name: "node-a"}, Status: frrk8s.FRRNodeStateStatus{LastConversionResult: "success", LastReloadResult: "success"}},
			{ObjectMeta: metav1.ObjectMeta{Name: "node-b"}, Status: frrk8s.FRRNodeStateStatus{
				LastConversionResult: `failed: converting the FRRConfigurations: merging the router configuration: BGPPeer "tor-a" spec.peerASN and FRRConfiguration "metallb-system/rival" spec.bgp.routers[0].neighbors[0].asn conflict: neighbor 192.0.2.254 in VRF "": remote AS 64500 and 64501 differ`,
				LastReloadResult:     "success",
			}},
		},
		Events: []eventsv1.Event{
			failedEvent("db.1", "shop", "db", `Failed to allocate IP for "shop/db": no available IPs in pool "public"`, now.Add(-time.Minute)),
		},
		Now: now,
	}
}

func TestGolden(t *testing.T) {
	empty := Objects{Now: now}
	tests := []struct {
		name string
		in   Objects
	}{
		{name: "cluster", in: goldenObjects()},
		{name: "empty", in: empty},
	}
	for _, tt := range tests {
		r := Build(tt.in)
		t.Run(tt.name+"/text", func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteText(&b, r); err != nil {
				t.Fatal(err)
			}
			golden(t, b.Bytes())
		})
		t.Run(tt.name+"/json", func(t *testing.T) {
			b, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, append(b, '\n'))
		})
	}
}

// frrConfiguration is an FRRConfiguration of ironlb's namespace that
// selects the nodes with labels.
func frrConfiguration(name string, labels map[string]string) frrk8s.FRRConfiguration {
	return frrk8s.FRRConfiguration{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       frrk8s.FRRConfigurationSpec{NodeSelector: metav1.LabelSelector{MatchLabels: labels}},
	}
}
