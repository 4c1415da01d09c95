package controller

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLegacyInUse(t *testing.T) {
	tests := []struct {
		name string
		ann  map[string]string
		want []legacyAnnotation
	}{
		{name: "none", ann: nil},
		{name: "current spellings only", ann: map[string]string{"metallb.io/address-pool": "a", "metallb.io/allow-shared-ip": "k"}},
		{
			name: "every legacy spelling, by name",
			ann: map[string]string{
				"metallb.universe.tf/loadBalancerIPs": "192.0.2.1", "metallb.universe.tf/allow-shared-ip": "k",
				"metallb.universe.tf/address-pool": "a", "metallb.io/address-pool": "a",
			},
			want: []legacyAnnotation{
				{Legacy: "metallb.universe.tf/address-pool", Current: "metallb.io/address-pool"},
				{Legacy: "metallb.universe.tf/allow-shared-ip", Current: "metallb.io/allow-shared-ip"},
				{Legacy: "metallb.universe.tf/loadBalancerIPs", Current: "metallb.io/loadBalancerIPs"},
			},
		},
		{
			// Written by old MetalLB controllers, not set by users:
			// ironlb neither reads nor warns about it.
			name: "legacy allocated-from-pool",
			ann:  map[string]string{"metallb.universe.tf/ip-allocated-from-pool": "a"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, legacyInUse(tc.ann)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
