package noderouter

import (
	"fmt"
	"strings"
	"testing"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
)

// TestToFRRRefusesWhatItCannotRender checks that what the render does not
// support yet is an error naming the object and field, never silently
// dropped.
func TestToFRRRefusesWhatItCannotRender(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		wantErr string
	}{
		{
			name:    "import of a later VRF router with another AS",
			spec:    "bgp:\n  routers:\n  - {asn: 64512, imports: [{vrf: red}]}\n  - {asn: 64600, vrf: red}",
			wantErr: `FRRConfiguration "metallb-system/x": spec.bgp.routers[0].imports: the router of VRF "" (AS 64512) imports VRF "red", whose router has AS 64600 and comes later in frr.conf`,
		},
		{
			name: "graceful restart on ironlb's own session",
			spec: `
bgp:
  routers:
  - asn: 64512
    neighbors:
    - address: 192.0.2.1
      asn: 64512
      holdTime: 90s
      keepaliveTime: 30s
      enableGracefulRestart: true
`,
			wantErr: `spec.bgp.routers[0].neighbors[0].enableGracefulRestart: graceful restart on neighbor 192.0.2.1, a session of ironlb's own, is not supported yet`,
		},
		{
			name:    "password secret",
			spec:    "bgp:\n  routers:\n  - asn: 64512\n    neighbors:\n    - {address: 192.0.2.9, asn: 1, passwordSecret: {name: s}}",
			wantErr: `spec.bgp.routers[0].neighbors[0].passwordSecret: passwordSecret is not supported yet`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			own := labOwn(t)
			m, err := ForNode(own, []frrk8s.FRRConfiguration{frrConfig(t, "metallb-system/x", tc.spec)}, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = ToFRR(own, m)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("ToFRR error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestToFRRRefusesTooManyAttributeSets checks that a neighbor with more
// sets of attributes than an outbound route-map has sequence numbers is
// an error naming the object and field, not a crash.
func TestToFRRRefusesTooManyAttributeSets(t *testing.T) {
	const n = seqDenyAll - seqOutBase + 1
	var prefixes, comms strings.Builder
	for i := range n {
		p := fmt.Sprintf("10.%d.%d.0/24", i>>8, i&0xff)
		fmt.Fprintf(&prefixes, "%q,", p)
		fmt.Fprintf(&comms, "{prefixes: [%q], community: \"65000:%d\"},", p, i)
	}
	spec := fmt.Sprintf(`
bgp:
  routers:
  - asn: 64512
    prefixes: [%s]
    neighbors:
    - address: 192.0.2.9
      asn: 64512
      toAdvertise:
        allowed: {mode: all}
        withCommunity: [%s]
`, strings.TrimSuffix(prefixes.String(), ","), strings.TrimSuffix(comms.String(), ","))
	own := labOwn(t)
	m, err := ForNode(own, []frrk8s.FRRConfiguration{frrConfig(t, "metallb-system/x", spec)}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ToFRR(own, m)
	want := `FRRConfiguration "metallb-system/x": spec.bgp.routers[0].neighbors[0].toAdvertise: neighbor 192.0.2.9: 32768 sets of IP family, communities and local preference, more than route-map ilb-nr-out-192.0.2.9 can hold (32767)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("ToFRR error = %v, want one containing %q", err, want)
	}
}
