package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	frrk8sv1beta1 "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/internal/testenv"
)

// TestFRRK8sCRDRules creates frrk8s.metallb.io objects on a real API
// server and checks that the CRDs' schema and CEL rules accept the valid
// ones and refuse the invalid ones with the expected message.
func TestFRRK8sCRDRules(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	ns := "frr-k8s-system"
	if err := env.Client.Create(ctx, namespace(ns)); err != nil {
		t.Fatal(err)
	}
	// router wraps one neighbor in a router of AS 64512.
	router := func(neighbor string) string {
		return "bgp:\n  routers:\n  - asn: 64512\n    neighbors:\n    - " + strings.ReplaceAll(neighbor, "\n", "\n      ")
	}

	tests := []struct {
		name    string
		kind    string
		spec    string // YAML of the spec; empty for a status-only kind
		status  string // YAML of the status, written with the object
		wantErr string // substring of the API server's message; empty = accepted
	}{
		{name: "empty configuration", kind: "FRRConfiguration", spec: "{}"},
		{name: "full configuration", kind: "FRRConfiguration", spec: `
nodeSelector:
  matchLabels: {kubernetes.io/hostname: node-1}
raw:
  priority: 5
  rawConfig: "ip prefix-list extra permit 192.0.2.0/24"
bgp:
  bfdProfiles:
  - {name: fast, receiveInterval: 50, transmitInterval: 50, detectMultiplier: 3, echoMode: false, passiveMode: true, minimumTtl: 254}
  routers:
  - asn: 64512
    id: 192.0.2.10
    vrf: red
    prefixes: [192.0.2.0/24, 2001:db8::/64]
    imports: [{vrf: blue}]
    neighbors:
    - address: 192.0.2.1
      asn: 64500
      port: 180
      sourceaddress: 192.0.2.10
      passwordSecret: {name: bgp-secret, namespace: frr-k8s-system}
      holdTime: 90s
      keepaliveTime: 30s
      connectTime: 10s
      ebgpMultiHop: true
      bfdProfile: fast
      enableGracefulRestart: true
      disableMP: false
      dualStackAddressFamily: true
      toAdvertise:
        allowed: {mode: filtered, prefixes: [192.0.2.0/24]}
        withLocalPref: [{prefixes: [192.0.2.0/24], localPref: 200}]
        withCommunity: [{prefixes: [192.0.2.0/24], community: "65000:1"}, {prefixes: [192.0.2.0/24], community: "large:1:2:3"}]
      toReceive:
        allowed:
          mode: filtered
          prefixes: [{prefix: 0.0.0.0/0}, {prefix: 198.51.100.0/24, ge: 25, le: 28}, {prefix: "2001:db8:1::/48", le: 64}]
    - interface: eth1
      dynamicASN: external
      toReceive: {allowed: {mode: all}}
`},
		{name: "router without asn", kind: "FRRConfiguration", spec: "bgp:\n  routers:\n  - vrf: red", wantErr: "spec.bgp.routers[0].asn"},
		{name: "router asn too big", kind: "FRRConfiguration", spec: "bgp:\n  routers:\n  - asn: 4294967296", wantErr: "spec.bgp.routers[0].asn"},
		{name: "router id v6", kind: "FRRConfiguration", spec: "bgp:\n  routers:\n  - asn: 1\n    id: 2001:db8::1", wantErr: "id must be an IPv4 address"},
		{name: "router bad prefix", kind: "FRRConfiguration", spec: "bgp:\n  routers:\n  - asn: 1\n    prefixes: [192.0.2.0]", wantErr: "spec.bgp.routers[0].prefixes[0]"},
		{name: "router vrf with space", kind: "FRRConfiguration", spec: "bgp:\n  routers:\n  - asn: 1\n    vrf: \"red blue\"", wantErr: "spec.bgp.routers[0].vrf"},
		{name: "neighbor address and interface", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\ninterface: eth0\nasn: 1"), wantErr: "exactly one of address and interface must be set"},
		{name: "neighbor neither address nor interface", kind: "FRRConfiguration", spec: router("asn: 1"), wantErr: "exactly one of address and interface must be set"},
		{name: "neighbor asn and dynamic asn", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\nasn: 1\ndynamicASN: internal"), wantErr: "exactly one of asn and dynamicASN must be set"},
		{name: "neighbor without asn", kind: "FRRConfiguration", spec: router("address: 192.0.2.1"), wantErr: "exactly one of asn and dynamicASN must be set"},
		{name: "neighbor bad dynamic asn", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\ndynamicASN: any"), wantErr: "dynamicASN"},
		{name: "neighbor bad address", kind: "FRRConfiguration", spec: router("address: 192.0.2.300\nasn: 1"), wantErr: "address must be an IPv4 or IPv6 address"},
		{name: "neighbor port too big", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\nasn: 1\nport: 16385"), wantErr: "port"},
		{name: "neighbor password and secret", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\nasn: 1\npassword: x\npasswordSecret: {name: s}"), wantErr: "password and passwordSecret are mutually exclusive"},
		{name: "neighbor newline in password", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\nasn: 1\npassword: \"a\\n!\""), wantErr: "spec.bgp.routers[0].neighbors[0].password"},
		{name: "neighbor hold time too short", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\nasn: 1\nholdTime: 2s"), wantErr: "holdTime must be 0 or between 3s and 65535s"},
		{name: "neighbor keepalive above hold", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\nasn: 1\nholdTime: 9s\nkeepaliveTime: 10s"), wantErr: "keepaliveTime must not be longer than holdTime"},
		{name: "neighbor connect time fraction", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\nasn: 1\nconnectTime: 1500ms"), wantErr: "connectTime must be a whole number of seconds"},
		{name: "neighbor bad allow mode", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\nasn: 1\ntoReceive: {allowed: {mode: some}}"), wantErr: "mode"},
		{name: "neighbor bad advertised prefix", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\nasn: 1\ntoAdvertise: {allowed: {prefixes: [banana]}}"), wantErr: "toAdvertise.allowed.prefixes[0]"},
		{name: "neighbor local pref without prefixes", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\nasn: 1\ntoAdvertise: {withLocalPref: [{prefixes: [], localPref: 5}]}"), wantErr: "withLocalPref[0].prefixes"},
		{name: "neighbor community with space", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\nasn: 1\ntoAdvertise: {withCommunity: [{prefixes: [192.0.2.0/24], community: \"1:1 2:2\"}]}"), wantErr: "withCommunity[0].community"},
		{name: "receive ge above le", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\nasn: 1\ntoReceive: {allowed: {prefixes: [{prefix: 192.0.2.0/24, ge: 28, le: 26}]}}"), wantErr: "ge must not be greater than le"},
		{name: "receive le 64 for ipv6", kind: "FRRConfiguration", spec: router("address: 2001:db8::1\nasn: 1\ntoReceive: {allowed: {prefixes: [{prefix: \"2001:db8::/32\", le: 64}]}}")},
		{name: "receive le too big", kind: "FRRConfiguration", spec: router("address: 2001:db8::1\nasn: 1\ntoReceive: {allowed: {prefixes: [{prefix: \"2001:db8::/32\", le: 129}]}}"), wantErr: "le"},
		{name: "receive bad prefix", kind: "FRRConfiguration", spec: router("address: 192.0.2.1\nasn: 1\ntoReceive: {allowed: {prefixes: [{prefix: 192.0.2.1}]}}"), wantErr: "toReceive.allowed.prefixes[0].prefix"},
		{name: "bfd profile without name", kind: "FRRConfiguration", spec: "bgp:\n  bfdProfiles:\n  - receiveInterval: 50", wantErr: "spec.bgp.bfdProfiles[0].name"},
		{name: "bfd interval too small", kind: "FRRConfiguration", spec: "bgp:\n  bfdProfiles:\n  - {name: x, receiveInterval: 5}", wantErr: "receiveInterval"},
		{name: "bfd multiplier too small", kind: "FRRConfiguration", spec: "bgp:\n  bfdProfiles:\n  - {name: x, detectMultiplier: 1}", wantErr: "detectMultiplier"},
		{name: "node state", kind: "FRRNodeState", status: "runningConfig: \"frr version 8.4.4\"\nlastReloadResult: success\nlastConversionResult: success"},
		{name: "session state", kind: "BGPSessionState", status: "bgpStatus: Established\nbfdStatus: N/A\nnode: node-1\npeer: 192.0.2.1\nvrf: \"\""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := frrk8sObject(tc.kind, tc.spec, tc.status)
			if err != nil {
				t.Fatal(err)
			}
			if tc.kind != "FRRNodeState" {
				obj.SetNamespace(ns)
			}
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

// TestFRRK8sDefaults checks the defaults the CRD schema fills in and that
// an object written by frr-k8s's field names reads back into the Go types.
func TestFRRK8sDefaults(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	if err := env.Client.Create(ctx, namespace("frr-k8s-system")); err != nil {
		t.Fatal(err)
	}
	obj, err := frrk8sObject("FRRConfiguration", "bgp:\n  routers:\n  - asn: 64512\n    neighbors:\n    - address: 192.0.2.1\n      asn: 64500\n      toAdvertise: {allowed: {prefixes: [192.0.2.0/24]}}\n      toReceive: {allowed: {prefixes: [{prefix: 0.0.0.0/0}]}}", "")
	if err != nil {
		t.Fatal(err)
	}
	obj.SetNamespace("frr-k8s-system")
	obj.SetName("defaults")
	if err := env.Client.Create(ctx, obj); err != nil {
		t.Fatalf("create: %v", err)
	}
	var got frrk8sv1beta1.FRRConfiguration
	if err := env.Client.Get(ctx, keyOf(obj), &got); err != nil {
		t.Fatal(err)
	}
	n := got.Spec.BGP.Routers[0].Neighbors[0]
	if n.ToAdvertise.Allowed.Mode != frrk8sv1beta1.AllowRestricted || n.ToReceive.Allowed.Mode != frrk8sv1beta1.AllowRestricted {
		t.Errorf("modes = %q, %q, want both %q", n.ToAdvertise.Allowed.Mode, n.ToReceive.Allowed.Mode, frrk8sv1beta1.AllowRestricted)
	}
	if n.ASN != 64500 || n.Address != "192.0.2.1" || n.ToReceive.Allowed.Prefixes[0].Prefix != "0.0.0.0/0" {
		t.Errorf("neighbor read back as %+v", n)
	}
}

// frrk8sObject builds an unstructured frrk8s.metallb.io object from YAML
// of its spec and status, as kubectl would send it.
func frrk8sObject(kind, spec, status string) (*unstructured.Unstructured, error) {
	m := map[string]any{}
	for field, text := range map[string]string{"spec": spec, "status": status} {
		if text == "" {
			continue
		}
		var v map[string]any
		if err := yaml.Unmarshal([]byte(text), &v); err != nil {
			return nil, fmt.Errorf("decoding %s %q: %w", field, text, err)
		}
		m[field] = v
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: frrk8sv1beta1.GroupVersion.Group, Version: "v1beta1", Kind: kind})
	return u, nil
}
