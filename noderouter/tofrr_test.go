package noderouter

import (
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
