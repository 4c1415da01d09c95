package noderouter

import (
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/frr"
)

// FuzzForNode feeds arbitrary FRRConfiguration specs through the merge
// and the render: they never panic, a merged model always translates or
// fails with an error, and no rendered line but the raw snippets holds a
// newline smuggled in through a field.
func FuzzForNode(f *testing.F) {
	for _, seed := range []string{
		routerWith("toReceive: {allowed: {prefixes: [{prefix: 198.51.100.0/24, le: 32}]}}"),
		advertising("community: no-export", 100),
		"bgp:\n  routers:\n  - asn: 64512\n    neighbors:\n    - {interface: \"eth0\\nrouter bgp 1\", asn: 1}",
		"bgp:\n  routers:\n  - {asn: 1, vrf: red, prefixes: [\"192.0.2.1/24\"]}",
		"raw: {priority: 3, rawConfig: \"x\"}",
		"bgp:\n  routers:\n  - {asn: 64512, imports: [{vrf: red}]}\n  - {asn: 64512, vrf: red, imports: [{vrf: default}, {vrf: blue}]}",
		// Attributes on ironlb's own prefix 203.0.113.1/32 (ownConfig).
		"bgp:\n  routers:\n  - asn: 64512\n    prefixes: [203.0.113.1/32]\n    neighbors:\n    - address: 192.0.2.1\n      asn: 64512\n      bfdProfile: fast\n      holdTime: 90s\n      keepaliveTime: 30s\n      toAdvertise: {allowed: {mode: all}, withLocalPref: [{prefixes: [203.0.113.1/32], localPref: 7}], withCommunity: [{prefixes: [203.0.113.1/32], community: no-export}]}",
	} {
		f.Add(seed)
	}
	r, err := frr.NewRenderer()
	if err != nil {
		f.Fatal(err)
	}
	own := ownConfig()
	f.Fuzz(func(t *testing.T, spec string) {
		var c frrk8s.FRRConfiguration
		if yaml.Unmarshal([]byte(spec), &c.Spec) != nil {
			return
		}
		c.Namespace, c.Name = "ns", "fuzz"
		if _, err := ForNode(own, []frrk8s.FRRConfiguration{c}, nil, Options{}); err != nil {
			return
		}
		c.Spec.Raw = frrk8s.RawConfig{}
		m2, err := ForNode(own, []frrk8s.FRRConfiguration{c}, nil, Options{})
		if err != nil {
			t.Fatalf("merge fails without the raw snippet: %v", err)
		}
		cfg, err := ToFRR(own, m2)
		if err != nil {
			return
		}
		out, err := r.Render(cfg)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		// A value smuggling a line in would add a block or a session.
		routers, neighbors := 0, 0
		for _, line := range strings.Split(string(out), "\n") {
			switch {
			case strings.HasPrefix(line, "router bgp "):
				routers++
			case strings.HasPrefix(line, " neighbor ") && strings.Contains(line, "remote-as "):
				neighbors++
			}
		}
		wantNeighbors := 0
		for _, r := range cfg.Routers {
			wantNeighbors += len(r.Neighbors)
		}
		if routers != len(cfg.Routers) || neighbors != wantNeighbors {
			t.Fatalf("rendered %d routers and %d sessions, the model has %d and %d:\n%s", routers, neighbors, len(cfg.Routers), wantNeighbors, out)
		}
	})
}
