package migrate

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/config"
)

// convert turns the metallb.io objects, as the API server returns them
// with MetalLB's CRDs, into ironlb's types. A field ironlb's types do not
// have is a blocking finding: once ironlb's CRDs replace MetalLB's, the
// API server prunes it, and what it asked for is lost.
func convert(objs []unstructured.Unstructured, into *config.Objects) []Finding {
	var findings []Finding
	for i := range objs {
		u := &objs[i]
		var (
			obj  any
			keep func()
		)
		switch u.GetKind() {
		case "IPAddressPool":
			var o v1beta1.IPAddressPool
			obj, keep = &o, func() { into.Pools = append(into.Pools, o) }
		case "BGPPeer":
			var o v1beta2.BGPPeer
			obj, keep = &o, func() { into.BGPPeers = append(into.BGPPeers, o) }
		case "BGPAdvertisement":
			var o v1beta1.BGPAdvertisement
			obj, keep = &o, func() { into.BGPAdvertisements = append(into.BGPAdvertisements, o) }
		case "L2Advertisement":
			var o v1beta1.L2Advertisement
			obj, keep = &o, func() { into.L2Advertisements = append(into.L2Advertisements, o) }
		case "BFDProfile":
			var o v1beta1.BFDProfile
			obj, keep = &o, func() { into.BFDProfiles = append(into.BFDProfiles, o) }
		case "Community":
			var o v1beta1.Community
			obj, keep = &o, func() { into.Communities = append(into.Communities, o) }
		default:
			findings = append(findings, Finding{Severity: Warning, Object: objectName(u), Message: "ironlb does not read this kind"})
			continue
		}
		err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, obj, true)
		if sde, ok := runtime.AsStrictDecodingError(err); ok {
			for _, e := range sde.Errors() {
				findings = append(findings, Finding{
					Severity: Blocking, Object: objectName(u), Field: unknownField(e),
					Message: "ironlb's CRD has no such field: once its CRDs replace MetalLB's, the API server drops it and what it sets is lost",
				})
			}
			// The conversion went on past the unknown fields.
			err = nil
		}
		if err != nil {
			findings = append(findings, Finding{Severity: Blocking, Object: objectName(u), Message: fmt.Sprintf("ironlb cannot read it: %v", err)})
			continue
		}
		keep()
	}
	return findings
}

// unknownField returns the path of an unknown-field error of the
// converter (`unknown field "spec.x"`).
func unknownField(err error) string {
	s := err.Error()
	if rest, ok := strings.CutPrefix(s, `unknown field "`); ok {
		return strings.TrimSuffix(rest, `"`)
	}
	return s
}

func objectName(u *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
}
