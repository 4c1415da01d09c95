package v1beta1_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
)

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

var (
	v1beta1Type = metav1.TypeMeta{APIVersion: "metallb.io/v1beta1", Kind: "BGPPeer"}
	v1beta2Type = metav1.TypeMeta{APIVersion: "metallb.io/v1beta2", Kind: "BGPPeer"}
)

// fullV1beta1 sets every v1beta1 field.
func fullV1beta1() *v1beta1.BGPPeer {
	return &v1beta1.BGPPeer{
		TypeMeta:   v1beta1Type,
		ObjectMeta: metav1.ObjectMeta{Namespace: "metallb-system", Name: "tor", Labels: map[string]string{"rack": "a"}, Annotations: map[string]string{"note": "x"}},
		Spec: v1beta1.BGPPeerSpec{
			MyASN: 64512, ASN: 4200000000, Address: "192.0.2.1", SrcAddress: "192.0.2.10", Port: 1179,
			HoldTime: dur(90 * time.Second), KeepaliveTime: dur(30 * time.Second), RouterID: "192.0.2.10",
			NodeSelectors: []v1beta1.NodeSelector{
				{MatchLabels: map[string]string{"zone": "a"}, MatchExpressions: []v1beta1.MatchExpression{{Key: "role", Operator: "In", Values: []string{"edge", "core"}}}},
				{MatchExpressions: []v1beta1.MatchExpression{{Key: "spare", Operator: "DoesNotExist", Values: []string{}}}},
			},
			Password: "s3cret", BFDProfile: "fast", EBGPMultiHop: true,
		},
	}
}

// fullV1beta2 is fullV1beta1 in v1beta2.
func fullV1beta2() *v1beta2.BGPPeer {
	return &v1beta2.BGPPeer{
		TypeMeta:   v1beta2Type,
		ObjectMeta: metav1.ObjectMeta{Namespace: "metallb-system", Name: "tor", Labels: map[string]string{"rack": "a"}, Annotations: map[string]string{"note": "x"}},
		Spec: v1beta2.BGPPeerSpec{
			MyASN: 64512, ASN: 4200000000, Address: "192.0.2.1", SrcAddress: "192.0.2.10", Port: 1179,
			HoldTime: dur(90 * time.Second), KeepaliveTime: dur(30 * time.Second), RouterID: "192.0.2.10",
			NodeSelectors: []metav1.LabelSelector{
				{MatchLabels: map[string]string{"zone": "a"}, MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "role", Operator: metav1.LabelSelectorOpIn, Values: []string{"edge", "core"}}}},
				{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "spare", Operator: metav1.LabelSelectorOpDoesNotExist}}},
			},
			Password: "s3cret", BFDProfile: "fast", EBGPMultiHop: true,
		},
	}
}

// v1beta2Extras sets every field v1beta1 lacks, and the JSON they take in
// the annotation.
func v1beta2Extras(s *v1beta2.BGPPeerSpec) string {
	s.ASN = 0
	s.DynamicASN = v1beta2.ExternalASNMode
	s.Address = ""
	s.Interface = "eth1"
	s.ConnectTime = dur(5 * time.Second)
	s.PasswordSecret = corev1.SecretReference{Name: "bgp-pass", Namespace: "metallb-system"}
	s.EnableGracefulRestart = true
	s.VRFName = "red"
	s.DisableMP = true
	s.DualStackAddressFamily = true
	return `{"connectTime":"5s","disableMP":true,"dualStackAddressFamily":true,"dynamicASN":"external","enableGracefulRestart":true,"interface":"eth1","passwordSecret":{"name":"bgp-pass","namespace":"metallb-system"},"vrf":"red"}`
}

// equateEmpty: nil and empty maps and slices are the same JSON for the
// API server (omitempty), except v1beta1's required values list, which the
// conversion always fills.
var equateEmpty = cmpopts.EquateEmpty()

func TestToV1beta2(t *testing.T) {
	tests := []struct {
		name    string
		in      func() *v1beta1.BGPPeer
		want    func() *v1beta2.BGPPeer
		wantErr string
	}{
		{
			name: "every v1beta1 field",
			in:   fullV1beta1,
			want: fullV1beta2,
		},
		{
			name: "minimal peer",
			in: func() *v1beta1.BGPPeer {
				return &v1beta1.BGPPeer{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1beta1.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "2001:db8::1"}}
			},
			want: func() *v1beta2.BGPPeer {
				return &v1beta2.BGPPeer{TypeMeta: v1beta2Type, ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "2001:db8::1"}}
			},
		},
		{
			name: "the annotation brings back the v1beta2 fields and goes",
			in: func() *v1beta1.BGPPeer {
				p := fullV1beta1()
				var s v1beta2.BGPPeerSpec
				p.Annotations[v1beta1.V1beta2FieldsAnnotation] = v1beta2Extras(&s)
				p.Spec.ASN, p.Spec.Address = 0, ""
				p.Spec.BFDProfile = "slow" // edited through v1beta1
				return p
			},
			want: func() *v1beta2.BGPPeer {
				p := fullV1beta2()
				v1beta2Extras(&p.Spec)
				p.Spec.BFDProfile = "slow"
				return p
			},
		},
		{
			name: "shared fields in the annotation lose to the v1beta1 fields",
			in: func() *v1beta1.BGPPeer {
				p := fullV1beta1()
				p.Annotations = map[string]string{v1beta1.V1beta2FieldsAnnotation: `{"myASN":1,"bfdProfile":"old","vrf":"red"}`}
				return p
			},
			want: func() *v1beta2.BGPPeer {
				p := fullV1beta2()
				p.Annotations = nil
				p.Spec.VRFName = "red"
				return p
			},
		},
		{
			name: "an annotation that does not parse",
			in: func() *v1beta1.BGPPeer {
				p := fullV1beta1()
				p.Annotations[v1beta1.V1beta2FieldsAnnotation] = `{"vrf":`
				return p
			},
			wantErr: `metadata.annotations[ironlb.io/v1beta2-fields]: not a v1beta2 spec`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in()
			before := in.DeepCopy()
			got, err := v1beta1.ToV1beta2(in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want(), got, equateEmpty); diff != "" {
				t.Errorf("ToV1beta2 (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, in); diff != "" {
				t.Errorf("ToV1beta2 changed its input (-before +after):\n%s", diff)
			}
		})
	}
}

func TestFromV1beta2(t *testing.T) {
	tests := []struct {
		name string
		in   func() *v1beta2.BGPPeer
		want func() *v1beta1.BGPPeer
	}{
		{
			name: "every shared field, no annotation",
			in:   fullV1beta2,
			want: fullV1beta1,
		},
		{
			name: "v1beta2 fields go into the annotation",
			in: func() *v1beta2.BGPPeer {
				p := fullV1beta2()
				v1beta2Extras(&p.Spec)
				p.Annotations = nil
				return p
			},
			want: func() *v1beta1.BGPPeer {
				p := fullV1beta1()
				var s v1beta2.BGPPeerSpec
				p.Annotations = map[string]string{v1beta1.V1beta2FieldsAnnotation: v1beta2Extras(&s)}
				p.Spec.ASN, p.Spec.Address = 0, ""
				return p
			},
		},
		{
			name: "a stale annotation is replaced",
			in: func() *v1beta2.BGPPeer {
				p := fullV1beta2()
				p.Annotations[v1beta1.V1beta2FieldsAnnotation] = `{"vrf":"blue"}`
				p.Spec.VRFName = "red"
				return p
			},
			want: func() *v1beta1.BGPPeer {
				p := fullV1beta1()
				p.Annotations[v1beta1.V1beta2FieldsAnnotation] = `{"vrf":"red"}`
				return p
			},
		},
		{
			name: "a stale annotation goes when nothing needs it",
			in: func() *v1beta2.BGPPeer {
				p := fullV1beta2()
				p.Annotations = map[string]string{v1beta1.V1beta2FieldsAnnotation: `{"vrf":"blue"}`}
				return p
			},
			want: func() *v1beta1.BGPPeer {
				p := fullV1beta1()
				p.Annotations = nil
				return p
			},
		},
		{
			name: "a hold time of zero stays set",
			in: func() *v1beta2.BGPPeer {
				p := fullV1beta2()
				p.Spec.HoldTime, p.Spec.KeepaliveTime = dur(0), nil
				return p
			},
			want: func() *v1beta1.BGPPeer {
				p := fullV1beta1()
				p.Spec.HoldTime, p.Spec.KeepaliveTime = dur(0), nil
				return p
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in()
			before := in.DeepCopy()
			got, err := v1beta1.FromV1beta2(in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want(), got, equateEmpty); diff != "" {
				t.Errorf("FromV1beta2 (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, in); diff != "" {
				t.Errorf("FromV1beta2 changed its input (-before +after):\n%s", diff)
			}
			// v1beta1 requires values in every expression.
			for _, ns := range got.Spec.NodeSelectors {
				for _, e := range ns.MatchExpressions {
					if e.Values == nil {
						t.Errorf("expression on %q has no values list", e.Key)
					}
				}
			}
		})
	}
}

// checkRoundTrips checks that v1beta1 -> v1beta2 -> v1beta1 and
// v1beta2 -> v1beta1 -> v1beta2 give back what went in, for the objects
// doc decodes to. Only the annotation the conversion owns is left out of
// the inputs.
func checkRoundTrips(t *testing.T, doc []byte) {
	var a v1beta1.BGPPeer
	if json.Unmarshal(doc, &a) == nil {
		delete(a.Annotations, v1beta1.V1beta2FieldsAnnotation)
		a.TypeMeta = v1beta1Type
		mid, err := v1beta1.ToV1beta2(&a)
		if err != nil {
			t.Fatalf("ToV1beta2: %v", err)
		}
		back, err := v1beta1.FromV1beta2(mid)
		if err != nil {
			t.Fatalf("FromV1beta2: %v", err)
		}
		if diff := cmp.Diff(&a, back, equateEmpty); diff != "" {
			t.Errorf("v1beta1 -> v1beta2 -> v1beta1 (-in +out):\n%s", diff)
		}
	}
	var b v1beta2.BGPPeer
	if json.Unmarshal(doc, &b) == nil {
		delete(b.Annotations, v1beta1.V1beta2FieldsAnnotation)
		b.TypeMeta = v1beta2Type
		mid, err := v1beta1.FromV1beta2(&b)
		if err != nil {
			t.Fatalf("FromV1beta2: %v", err)
		}
		// What a v1beta1 client reads is what it writes back.
		wire, err := json.Marshal(mid)
		if err != nil {
			t.Fatal(err)
		}
		var read v1beta1.BGPPeer
		if err := json.Unmarshal(wire, &read); err != nil {
			t.Fatalf("reading the v1beta1 form back: %v", err)
		}
		back, err := v1beta1.ToV1beta2(&read)
		if err != nil {
			t.Fatalf("ToV1beta2: %v", err)
		}
		if diff := cmp.Diff(&b, back, equateEmpty); diff != "" {
			t.Errorf("v1beta2 -> v1beta1 -> v1beta2 (-in +out):\n%s", diff)
		}
	}
}

// roundTripSeeds are objects with every field of each version set.
func roundTripSeeds(t testing.TB) [][]byte {
	full2 := fullV1beta2()
	v1beta2Extras(&full2.Spec)
	full2.Spec.ASN, full2.Spec.Address = 64500, "192.0.2.1" // both set: the conversion does not judge
	var seeds [][]byte
	for _, o := range []any{fullV1beta1(), fullV1beta2(), full2, &v1beta2.BGPPeer{}} {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return append(seeds,
		[]byte(`{"spec":{"holdTime":"0s","nodeSelectors":[{}, {"matchExpressions":[{"key":"k","operator":"Exists"}]}]}}`),
		[]byte(`{"metadata":{"annotations":{"ironlb.io/v1beta2-fields":"{\"vrf\":\"x\"}"}},"spec":{"vrf":"y","passwordSecret":{"name":"s"}}}`),
	)
}

func TestRoundTrip(t *testing.T) {
	for _, seed := range roundTripSeeds(t) {
		checkRoundTrips(t, seed)
	}
}

// FuzzRoundTrip: any object that decodes as either version converts to
// the other and back without losing a field.
func FuzzRoundTrip(f *testing.F) {
	for _, seed := range roundTripSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkRoundTrips(t, doc)
	})
}
