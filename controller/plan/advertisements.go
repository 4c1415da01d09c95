package plan

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/request"
)

// advertisements records the advertisements that announce the Service's
// IPs: those of its pool whose serviceSelectors, if any, match its
// labels. In Layer 2 it follows MetalLB's rule that a Service with the
// allow-shared-ip annotation is not announced when an advertisement
// with serviceSelectors applies to it, and says so in the note. The
// model keeps advertisements in name order.
func (e *entry) advertisements(m *config.Model) {
	if len(e.out.IPs) == 0 || e.out.Pool == "" {
		return
	}
	svc := e.svc.Svc
	set := labels.Set(svc.Labels)
	for i := range m.BGPAdvertisements {
		a := &m.BGPAdvertisements[i]
		if slices.Contains(a.Pools, e.out.Pool) && a.SelectsService(set) {
			e.out.BGPAdvertisements = append(e.out.BGPAdvertisements, a.Name)
		}
	}
	var l2, selecting []string
	for i := range m.L2Advertisements {
		a := &m.L2Advertisements[i]
		if slices.Contains(a.Pools, e.out.Pool) && a.SelectsService(set) {
			l2 = append(l2, a.Name)
			if len(a.ServiceSelectors) > 0 {
				selecting = append(selecting, a.Name)
			}
		}
	}
	if len(selecting) > 0 && sharingKey(svc.Annotations) != "" {
		e.addNote(fmt.Sprintf("not announced in Layer 2: it has the allow-shared-ip annotation and L2Advertisement %s has serviceSelectors", strings.Join(selecting, ", ")))
		return
	}
	e.out.L2Advertisements = l2
}

// sharingKey returns the allow-shared-ip annotation in either spelling.
func sharingKey(ann map[string]string) string {
	if v, ok := ann[request.AnnotationAllowSharedIP]; ok {
		return v
	}
	return ann[request.LegacyAnnotationAllowSharedIP]
}

// addNote appends a sentence to the Service's note.
func (e *entry) addNote(s string) {
	if e.out.Note != "" {
		e.out.Note += "; "
	}
	e.out.Note += s
}
