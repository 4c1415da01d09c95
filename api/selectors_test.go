package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ironlb/ironlb/internal/testenv"
)

// TestServiceSelectorsCRD checks on a real API server that the
// serviceSelectors of BGPAdvertisement and L2Advertisement are stored as
// written (not pruned), and that a BGPAdvertisement rejects them with an
// aggregation length other than one route per address, as MetalLB's CRD
// does.
func TestServiceSelectorsCRD(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := context.Background()
	ns := "metallb-system"
	if err := env.Client.Create(ctx, namespace(ns)); err != nil {
		t.Fatal(err)
	}
	const selectors = "serviceSelectors: [{matchLabels: {exposure: public}}, {matchExpressions: [{key: tier, operator: In, values: [web]}]}]"
	const rejected = "serviceSelectors cannot be combined with an aggregationLength other than 32"
	tests := []struct {
		name    string
		kind    string
		spec    string
		wantErr string // substring of the API server's message; empty = accepted
	}{
		{name: "bgp selectors", kind: "BGPAdvertisement", spec: selectors},
		{name: "bgp selectors default lengths written", kind: "BGPAdvertisement", spec: selectors + "\naggregationLength: 32\naggregationLengthV6: 128"},
		{name: "bgp selectors with aggregation 24", kind: "BGPAdvertisement", spec: selectors + "\naggregationLength: 24", wantErr: rejected},
		{name: "bgp selectors with aggregation v6 64", kind: "BGPAdvertisement", spec: selectors + "\naggregationLengthV6: 64", wantErr: rejected},
		{name: "bgp empty selector list with aggregation", kind: "BGPAdvertisement", spec: "serviceSelectors: []\naggregationLength: 24"},
		{name: "bgp aggregation without selectors", kind: "BGPAdvertisement", spec: "aggregationLength: 24"},
		{name: "l2 selectors", kind: "L2Advertisement", spec: selectors},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj, err := object(tc.kind, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			obj.SetNamespace(ns)
			obj.SetName(fmt.Sprintf("sel-%d", i))
			want, _, _ := unstructured.NestedSlice(obj.Object, "spec", "serviceSelectors")
			err = env.Client.Create(ctx, obj)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("create: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("create succeeded, want error containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("create error %q does not contain %q", err, tc.wantErr)
			case tc.wantErr != "":
				return
			}
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(obj.GroupVersionKind())
			if err := env.Client.Get(ctx, keyOf(obj), got); err != nil {
				t.Fatal(err)
			}
			stored, _, _ := unstructured.NestedSlice(got.Object, "spec", "serviceSelectors")
			if diff := cmp.Diff(want, stored); diff != "" {
				t.Errorf("stored serviceSelectors (-want +got):\n%s", diff)
			}
		})
	}
}
