package main

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/speaker"
)

// TestSpeakerBGPTypeFlags parses the BGP backend flags, named after
// MetalLB's METALLB_BGP_TYPE and --frrk8s-namespace, with their
// environment defaults.
func TestSpeakerBGPTypeFlags(t *testing.T) {
	base := []string{"--node-name=n1", "--memberlist-insecure"}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    *speaker.FRRK8sConfig
		wantErr string
	}{
		{name: "default: ironlb's FRR sidecar", args: base},
		{name: "frr-k8s, default namespace", args: slices.Concat(base, []string{"--bgp-type=frr-k8s"}), want: &speaker.FRRK8sConfig{Namespace: "frr-k8s-system"}},
		{name: "frr-k8s, namespace given", args: slices.Concat(base, []string{"--bgp-type=frr-k8s", "--frrk8s-namespace=net"}), want: &speaker.FRRK8sConfig{Namespace: "net"}},
		{name: "from MetalLB's environment", env: map[string]string{"METALLB_BGP_TYPE": "frr-k8s", "FRRK8S_NAMESPACE": "frr"}, args: base, want: &speaker.FRRK8sConfig{Namespace: "frr"}},
		{name: "the flag beats the environment", env: map[string]string{"METALLB_BGP_TYPE": "frr-k8s"}, args: slices.Concat(base, []string{"--bgp-type=frr"})},
		{name: "MetalLB's native BGP", args: slices.Concat(base, []string{"--bgp-type=native"}), wantErr: `-bgp-type "native" is neither frr nor frr-k8s`},
		{name: "empty namespace", args: slices.Concat(base, []string{"--bgp-type=frr-k8s", "--frrk8s-namespace="}), wantErr: "-frrk8s-namespace must be set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"METALLB_BGP_TYPE", "FRRK8S_NAMESPACE"} {
				t.Setenv(k, tt.env[k])
			}
			c, ok := parseSpeakerFlagsCase(t, tt.args, tt.wantErr)
			if !ok {
				return
			}
			if diff := cmp.Diff(tt.want, c.bgp.frrk8s()); diff != "" {
				t.Errorf("frr-k8s mode (-want +got):\n%s", diff)
			}
		})
	}
}
