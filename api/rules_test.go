package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/ironlb/ironlb/internal/testenv"
)

// TestCRDRules creates objects on a real API server and checks that the
// CRDs' schema and CEL rules accept the valid ones and reject the invalid
// ones with the expected message.
func TestCRDRules(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	ns := "metallb-system"
	if err := env.Client.Create(ctx, namespace(ns)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		kind    string
		spec    string // YAML of the spec, decoded into obj
		wantErr string // substring of the API server's message; empty = accepted
	}{
		{name: "pool cidr and range", kind: "IPAddressPool", spec: `addresses: ["192.0.2.0/28", "198.51.100.10 - 198.51.100.20", "2001:db8::/120"]`},
		{name: "pool bad address", kind: "IPAddressPool", spec: `addresses: ["banana"]`, wantErr: "must be a CIDR prefix or a range first-last"},
		{name: "pool no addresses", kind: "IPAddressPool", spec: `addresses: []`, wantErr: "spec.addresses"},
		{name: "peer ok", kind: "BGPPeer", spec: "myASN: 64512\npeerASN: 64500\npeerAddress: 192.0.2.1\nholdTime: 90s\nkeepaliveTime: 30s"},
		{name: "peer ok dynamic asn", kind: "BGPPeer", spec: "myASN: 64512\ndynamicASN: external\npeerAddress: 2001:db8::1"},
		{name: "peer both asn", kind: "BGPPeer", spec: "myASN: 64512\npeerASN: 64500\ndynamicASN: external\npeerAddress: 192.0.2.1", wantErr: "exactly one of peerASN and dynamicASN must be set"},
		{name: "peer no asn", kind: "BGPPeer", spec: "myASN: 64512\npeerAddress: 192.0.2.1", wantErr: "exactly one of peerASN and dynamicASN must be set"},
		{name: "peer asn too big", kind: "BGPPeer", spec: "myASN: 4294967296\npeerASN: 1\npeerAddress: 192.0.2.1", wantErr: "myASN"},
		{name: "peer bad address", kind: "BGPPeer", spec: "myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.1 extra", wantErr: "peerAddress must be an IPv4 or IPv6 address"},
		{name: "peer newline in password", kind: "BGPPeer", spec: "myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.1\npassword: \"a\\nneighbor 1.2.3.4 remote-as 1\"", wantErr: "password must not be empty or contain whitespace"},
		{name: "peer router id v6", kind: "BGPPeer", spec: "myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.1\nrouterID: 2001:db8::1", wantErr: "routerID must be an IPv4 address"},
		{name: "peer hold time too short", kind: "BGPPeer", spec: "myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.1\nholdTime: 2s", wantErr: "holdTime must be 0 or between 3s and 65535s"},
		{name: "peer keepalive above hold", kind: "BGPPeer", spec: "myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.1\nholdTime: 9s\nkeepaliveTime: 10s", wantErr: "keepaliveTime must not be longer than holdTime"},
		{name: "peer connect time fraction", kind: "BGPPeer", spec: "myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.1\nconnectTime: 1500ms", wantErr: "connectTime must be a whole number of seconds"},
		{name: "peer port zero", kind: "BGPPeer", spec: "myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.1\npeerPort: 20000", wantErr: "peerPort"},
		{name: "peer vrf with space", kind: "BGPPeer", spec: "myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.1\nvrf: \"red blue\"", wantErr: "vrf must not contain whitespace"},
		{name: "peer local asn", kind: "BGPPeer", spec: "myASN: 64512\npeerASN: 64500\npeerAddress: 192.0.2.1\nlocalASN: 4200000000"},
		{name: "peer local asn too big", kind: "BGPPeer", spec: "myASN: 64512\npeerASN: 64500\npeerAddress: 192.0.2.1\nlocalASN: 4294967296", wantErr: "localASN"},
		{name: "peer local asn zero", kind: "BGPPeer", spec: "myASN: 64512\npeerASN: 64500\npeerAddress: 192.0.2.1\nlocalASN: 0", wantErr: "localASN"},
		{name: "peer unnumbered", kind: "BGPPeer", spec: "myASN: 64512\ndynamicASN: external\ninterface: eth1"},
		{name: "peer link-local on interface", kind: "BGPPeer", spec: "myASN: 64512\npeerASN: 64500\npeerAddress: fe80::2\ninterface: eth1"},
		{name: "peer global address on interface", kind: "BGPPeer", spec: "myASN: 64512\npeerASN: 64500\npeerAddress: 2001:db8::2\ninterface: eth1", wantErr: "with interface set, peerAddress must be empty or an IPv6 link-local address"},
		{name: "peer ipv4 address on interface", kind: "BGPPeer", spec: "myASN: 64512\npeerASN: 64500\npeerAddress: 192.0.2.1\ninterface: eth1", wantErr: "with interface set, peerAddress must be empty or an IPv6 link-local address"},
		{name: "peer neither address nor interface", kind: "BGPPeer", spec: "myASN: 64512\npeerASN: 64500", wantErr: "one of peerAddress and interface must be set"},
		{name: "peer interface with space", kind: "BGPPeer", spec: "myASN: 64512\npeerASN: 64500\ninterface: \"eth 1\"", wantErr: "interface must not contain whitespace"},
		{name: "peer password and secret", kind: "BGPPeer", spec: "myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.1\npassword: x\npasswordSecret: {name: s}", wantErr: "password and passwordSecret are mutually exclusive"},
		{name: "bgpadv ok", kind: "BGPAdvertisement", spec: "aggregationLength: 24\naggregationLengthV6: 64\nlocalPref: 100\ncommunities: [\"65000:1\", \"large:1:2:3\", alias]"},
		{name: "bgpadv aggregation too long", kind: "BGPAdvertisement", spec: "aggregationLength: 33", wantErr: "aggregationLength"},
		{name: "bgpadv aggregation v6 too long", kind: "BGPAdvertisement", spec: "aggregationLengthV6: 129", wantErr: "aggregationLengthV6"},
		{name: "bgpadv community with newline", kind: "BGPAdvertisement", spec: "communities: [\"1:1\\n!\"]", wantErr: "community must not be empty or contain whitespace"},
		{name: "bfd ok", kind: "BFDProfile", spec: "receiveInterval: 50\ntransmitInterval: 50\ndetectMultiplier: 3"},
		{name: "bfd interval too small", kind: "BFDProfile", spec: "receiveInterval: 5", wantErr: "receiveInterval"},
		{name: "bfd multiplier too big", kind: "BFDProfile", spec: "detectMultiplier: 256", wantErr: "detectMultiplier"},
		{name: "bfd ttl zero", kind: "BFDProfile", spec: "minimumTtl: 0", wantErr: "minimumTtl"},
		{name: "community ok", kind: "Community", spec: "communities: [{name: no-advertise, value: \"65535:65282\"}, {name: big, value: \"large:1:2:3\"}]"},
		{name: "community bad value", kind: "Community", spec: "communities: [{name: x, value: \"65535\"}]", wantErr: "value must be a standard community a:b or a large community large:a:b:c"},
		{name: "l2adv ok", kind: "L2Advertisement", spec: "interfaces: [eth0]"},
		{name: "l2adv preferred weights 1 and 100", kind: "L2Advertisement", spec: "preferredNodeSelectors: [{weight: 1, preference: {matchLabels: {zone: a}}}, {weight: 100, preference: {}}]"},
		{name: "l2adv preferred weight 0", kind: "L2Advertisement", spec: "preferredNodeSelectors: [{weight: 0, preference: {}}]", wantErr: "spec.preferredNodeSelectors[0].weight"},
		{name: "l2adv preferred weight 101", kind: "L2Advertisement", spec: "preferredNodeSelectors: [{weight: 101, preference: {}}]", wantErr: "spec.preferredNodeSelectors[0].weight"},
		{name: "l2adv preferred without preference", kind: "L2Advertisement", spec: "preferredNodeSelectors: [{weight: 5}]", wantErr: "spec.preferredNodeSelectors[0].preference"},
		{name: "l2adv interface space", kind: "L2Advertisement", spec: "interfaces: [\"eth0 \"]", wantErr: "interface name must not be empty or contain whitespace"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := object(tc.kind, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			obj.SetNamespace(ns)
			obj.SetName(fmt.Sprintf("obj-%d", i))
			err = env.Client.Create(ctx, obj)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("create: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("create succeeded, want error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("create error %q does not contain %q", err, tc.wantErr)
			}
		})
	}
}

// object builds an unstructured metallb.io object of the kind from a YAML
// spec, as kubectl would send it.
func object(kind, spec string) (*unstructured.Unstructured, error) {
	version := "v1beta1"
	if kind == "BGPPeer" {
		version = "v1beta2"
	}
	doc := "spec:\n"
	for _, line := range strings.Split(spec, "\n") {
		doc += "  " + line + "\n"
	}
	var m map[string]any
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
		return nil, fmt.Errorf("decoding spec %q: %w", spec, err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(testenv.GVK(version, kind))
	return u, nil
}
