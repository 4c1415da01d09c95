package main

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrk8sv1beta1 "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/speaker"
)

// TestCacheStripsManagedFields checks that cached objects lose their
// managedFields and keep the rest.
func TestCacheStripsManagedFields(t *testing.T) {
	opts := namespacedCache("metallb-system")
	if opts.DefaultTransform == nil {
		t.Fatal("no transform")
	}
	in := &corev1.Service{ObjectMeta: metav1.ObjectMeta{
		Name: "web", Annotations: map[string]string{"a": "b"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationUpdate}},
	}}
	out, err := opts.DefaultTransform(in)
	if err != nil {
		t.Fatal(err)
	}
	svc := out.(*corev1.Service)
	if svc.ManagedFields != nil || svc.Name != "web" || svc.Annotations["a"] != "b" {
		t.Errorf("transformed = %+v, want the Service without managedFields", svc.ObjectMeta)
	}
}

// TestSpeakerCacheHoldsOwnBGPStatuses checks that a speaker caches only
// its node's ServiceBGPStatus objects, and every ServiceL2Status (it
// clears other nodes' stale ones).
func TestSpeakerCacheHoldsOwnBGPStatuses(t *testing.T) {
	opts := speakerCache("metallb-system", "n1")
	for _, tc := range []struct {
		obj       client.Object
		nodeLabel string
		want      bool
	}{
		{obj: &v1beta1.ServiceBGPStatus{}, nodeLabel: "n1", want: true},
		{obj: &v1beta1.ServiceBGPStatus{}, nodeLabel: "n2", want: false},
		{obj: &v1beta1.ServiceBGPStatus{}, nodeLabel: "", want: false},
		{obj: &v1beta1.ServiceL2Status{}, nodeLabel: "n2", want: true},
		{obj: &v1beta1.SpeakerStatus{}, nodeLabel: "n2", want: true},
	} {
		var cfg *cache.Config
		for o, by := range opts.ByObject {
			if reflect.TypeOf(o) == reflect.TypeOf(tc.obj) {
				c, ok := by.Namespaces["metallb-system"]
				if !ok || len(by.Namespaces) != 1 {
					t.Fatalf("%T: namespaces %v, want metallb-system only", tc.obj, by.Namespaces)
				}
				cfg = &c
			}
		}
		if cfg == nil {
			t.Fatalf("%T: not in the cache options", tc.obj)
		}
		got := cfg.LabelSelector == nil || cfg.LabelSelector.Matches(labels.Set{speaker.NodeLabel: tc.nodeLabel})
		if got != tc.want {
			t.Errorf("%T of node %q cached = %v, want %v", tc.obj, tc.nodeLabel, got, tc.want)
		}
	}
}

// TestSpeakerCacheFRRConfigurationsByMode checks that the cache holds
// FRRConfigurations under one entry: the namespace's for the node
// router, only the node's own object in frr-k8s's namespace in frr-k8s
// mode (ByObject is keyed by object, so a second entry of the kind
// would leave the choice to map order).
func TestSpeakerCacheFRRConfigurationsByMode(t *testing.T) {
	for _, tc := range []struct {
		bgpType, wantNamespace string
	}{
		{bgpType: "frr", wantNamespace: "metallb-system"},
		{bgpType: bgpTypeFRRK8s, wantNamespace: "frr-k8s-system"},
	} {
		opts := speakerCache("metallb-system", "n1")
		f := bgpFlags{bgpType: tc.bgpType, frrk8sNamespace: "frr-k8s-system"}
		f.cacheOwnFRRConfiguration(&opts, "n1")
		var found []map[string]cache.Config
		for o, by := range opts.ByObject {
			if reflect.TypeOf(o) == reflect.TypeOf(&frrk8sv1beta1.FRRConfiguration{}) {
				found = append(found, by.Namespaces)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%s: %d cache entries of FRRConfiguration, want 1", tc.bgpType, len(found))
		}
		if _, ok := found[0][tc.wantNamespace]; !ok || len(found[0]) != 1 {
			t.Errorf("%s: FRRConfigurations cached in %v, want %s only", tc.bgpType, found[0], tc.wantNamespace)
		}
	}
}
