package noderouter

import "fmt"

// ConflictError says that two pieces set one field of the same router,
// neighbor or BFD profile to different values.
type ConflictError struct {
	// A defined the element first, B is the piece that disagrees.
	A, B Origin
	// Field is the field's name in frr-k8s's API (asn, holdTime, ...).
	Field string
	// Subject names the element: `neighbor 192.0.2.1 in VRF "red"`.
	Subject string
	// Reason says how the values differ; passwords are not shown.
	Reason string
}

// Error names both objects with the field's path in each.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %s and %s %s conflict: %s: %s", e.A, e.A.field(e.Field), e.B, e.B.field(e.Field), e.Subject, e.Reason)
}

// bgpPeerFields are the names, in a BGPPeer, of the fields of an FRR
// neighbor and router that ironlb's own peers set.
var bgpPeerFields = map[string]string{
	"asn":                    "spec.peerASN",
	"dynamicASN":             "spec.dynamicASN",
	"port":                   "spec.peerPort",
	"sourceaddress":          "spec.sourceAddress",
	"password":               "spec.password",
	"holdTime":               "spec.holdTime",
	"keepaliveTime":          "spec.keepaliveTime",
	"connectTime":            "spec.connectTime",
	"ebgpMultiHop":           "spec.ebgpMultiHop",
	"bfdProfile":             "spec.bfdProfile",
	"dualStackAddressFamily": "spec.dualStackAddressFamily",
	"router.asn":             "spec.myASN",
	"router.id":              "spec.routerID",
	"localPref":              "spec.localPref (of its BGPAdvertisement)",
}

// ownField names a field in ironlb's own object kinds.
func ownField(kind, f string) string {
	if kind == "BGPPeer" {
		if s, ok := bgpPeerFields[f]; ok {
			return s
		}
	}
	return "spec." + f
}
