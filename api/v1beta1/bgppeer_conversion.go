package v1beta1

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/api/v1beta2"
)

// V1beta2FieldsAnnotation holds, on a v1beta1 BGPPeer, the JSON of the
// v1beta2 spec fields that v1beta1 has no place for (dynamicASN, vrf,
// passwordSecret, ...). FromV1beta2 writes it and ToV1beta2 reads it back,
// so a v1beta1 client that reads and writes back a peer keeps them.
// (MetalLB drops those fields on the way to v1beta1.)
const V1beta2FieldsAnnotation = "ironlb.io/v1beta2-fields"

// ToV1beta2 converts a v1beta1 BGPPeer to v1beta2: the shared fields are
// copied, and the fields only v1beta2 has come from the
// V1beta2FieldsAnnotation, which the result no longer carries. The input is
// not modified. The error names the annotation when it does not parse;
// callers add the object's name.
func ToV1beta2(in *BGPPeer) (*v1beta2.BGPPeer, error) {
	out := &v1beta2.BGPPeer{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1beta2.GroupVersion.String(), Kind: "BGPPeer"},
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
	}
	if raw, ok := out.Annotations[V1beta2FieldsAnnotation]; ok {
		if err := json.Unmarshal([]byte(raw), &out.Spec); err != nil {
			return nil, fmt.Errorf("metadata.annotations[%s]: not a v1beta2 spec: %w", V1beta2FieldsAnnotation, err)
		}
		delete(out.Annotations, V1beta2FieldsAnnotation)
		if len(out.Annotations) == 0 {
			out.Annotations = nil
		}
	}
	s := in.Spec
	out.Spec.MyASN = s.MyASN
	out.Spec.ASN = s.ASN
	out.Spec.Address = s.Address
	out.Spec.SrcAddress = s.SrcAddress
	out.Spec.Port = s.Port
	out.Spec.HoldTime = copyDuration(s.HoldTime)
	out.Spec.KeepaliveTime = copyDuration(s.KeepaliveTime)
	out.Spec.RouterID = s.RouterID
	out.Spec.NodeSelectors = toLabelSelectors(s.NodeSelectors)
	out.Spec.Password = s.Password
	out.Spec.BFDProfile = s.BFDProfile
	out.Spec.EBGPMultiHop = s.EBGPMultiHop
	return out, nil
}

// FromV1beta2 converts a v1beta2 BGPPeer to v1beta1: the shared fields are
// copied, and the others, when any is set, go into the
// V1beta2FieldsAnnotation. The input is not modified.
func FromV1beta2(in *v1beta2.BGPPeer) (*BGPPeer, error) {
	out := &BGPPeer{
		TypeMeta:   metav1.TypeMeta{APIVersion: GroupVersion.String(), Kind: "BGPPeer"},
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
	}
	s := in.Spec
	out.Spec = BGPPeerSpec{
		MyASN:         s.MyASN,
		ASN:           s.ASN,
		Address:       s.Address,
		SrcAddress:    s.SrcAddress,
		Port:          s.Port,
		HoldTime:      copyDuration(s.HoldTime),
		KeepaliveTime: copyDuration(s.KeepaliveTime),
		RouterID:      s.RouterID,
		NodeSelectors: fromLabelSelectors(s.NodeSelectors),
		Password:      s.Password,
		BFDProfile:    s.BFDProfile,
		EBGPMultiHop:  s.EBGPMultiHop,
	}
	delete(out.Annotations, V1beta2FieldsAnnotation)
	rest, err := v1beta2Only(s)
	if err != nil {
		return nil, fmt.Errorf("encoding the v1beta2 fields: %w", err)
	}
	if rest != "" {
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		out.Annotations[V1beta2FieldsAnnotation] = rest
	}
	if len(out.Annotations) == 0 {
		out.Annotations = nil
	}
	return out, nil
}

// v1beta2Only returns the JSON of the fields of s that v1beta1 has no place
// for and that are set, or "" when there are none. It clears the shared
// fields rather than picking the others, so that fields v1beta2 gains later
// are kept without a change here, and drops the keys whose value is that
// of an empty spec.
func v1beta2Only(s v1beta2.BGPPeerSpec) (string, error) {
	s.MyASN, s.ASN, s.Port = 0, 0, 0
	s.Address, s.SrcAddress, s.RouterID, s.Password, s.BFDProfile = "", "", "", "", ""
	s.HoldTime, s.KeepaliveTime = nil, nil
	s.NodeSelectors = nil
	s.EBGPMultiHop = false
	set, err := jsonFields(s)
	if err != nil {
		return "", err
	}
	empty, err := jsonFields(v1beta2.BGPPeerSpec{})
	if err != nil {
		return "", err
	}
	for k, v := range set {
		if e, ok := empty[k]; ok && bytes.Equal(e, v) {
			delete(set, k)
		}
	}
	if len(set) == 0 {
		return "", nil
	}
	b, err := json.Marshal(set)
	return string(b), err
}

func jsonFields(s v1beta2.BGPPeerSpec) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	err = json.Unmarshal(b, &m)
	return m, err
}

func copyDuration(d *metav1.Duration) *metav1.Duration {
	if d == nil {
		return nil
	}
	c := *d
	return &c
}

func toLabelSelectors(in []NodeSelector) []metav1.LabelSelector {
	if in == nil {
		return nil
	}
	out := make([]metav1.LabelSelector, 0, len(in))
	for _, ns := range in {
		sel := metav1.LabelSelector{MatchLabels: maps.Clone(ns.MatchLabels)}
		for _, e := range ns.MatchExpressions {
			sel.MatchExpressions = append(sel.MatchExpressions, metav1.LabelSelectorRequirement{
				Key:      e.Key,
				Operator: metav1.LabelSelectorOperator(e.Operator),
				Values:   slices.Clone(e.Values),
			})
		}
		out = append(out, sel)
	}
	return out
}

func fromLabelSelectors(in []metav1.LabelSelector) []NodeSelector {
	if in == nil {
		return nil
	}
	out := make([]NodeSelector, 0, len(in))
	for _, sel := range in {
		ns := NodeSelector{MatchLabels: maps.Clone(sel.MatchLabels)}
		for _, r := range sel.MatchExpressions {
			// values is required in v1beta1: Exists and DoesNotExist get
			// an empty list rather than none.
			values := slices.Clone(r.Values)
			if values == nil {
				values = []string{}
			}
			ns.MatchExpressions = append(ns.MatchExpressions, MatchExpression{Key: r.Key, Operator: string(r.Operator), Values: values})
		}
		out = append(out, ns)
	}
	return out
}
