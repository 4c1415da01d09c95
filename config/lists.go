package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// selectors converts label selectors, reporting each invalid one as
// field[i]. It returns nil for none.
func (b *builder) selectors(kind, name, field string, in []metav1.LabelSelector) []labels.Selector {
	if len(in) == 0 {
		return nil
	}
	out := make([]labels.Selector, 0, len(in))
	for i := range in {
		s, err := labelSelector(&in[i])
		if err != nil {
			b.add(kind, name, fmt.Sprintf("%s[%d]", field, i), "invalid label selector: %v", err)
			continue
		}
		out = append(out, s)
	}
	return out
}

// labelSelector converts ls as metav1.LabelSelectorAsSelector does,
// but reports the first bad matchLabels entry in key order: the library
// walks the map in random order, so a selector with two bad labels got
// a different error on each Build (and each reconcile rewrote the
// status with it).
func labelSelector(ls *metav1.LabelSelector) (labels.Selector, error) {
	for _, k := range slices.Sorted(maps.Keys(ls.MatchLabels)) {
		if _, err := labels.NewRequirement(k, selection.Equals, []string{ls.MatchLabels[k]}); err != nil {
			return nil, err
		}
	}
	return metav1.LabelSelectorAsSelector(ls)
}

// matchesAny reports whether set matches one of sels; no selectors
// match everything.
func matchesAny(sels []labels.Selector, set labels.Set) bool {
	if len(sels) == 0 {
		return true
	}
	for _, s := range sels {
		if s.Matches(set) {
			return true
		}
	}
	return false
}

// checkList reports empty and repeated entries of a list of names, as
// MetalLB does.
func (b *builder) checkList(kind, name, field string, list []string) {
	for i, s := range list {
		switch {
		case s == "":
			b.add(kind, name, fmt.Sprintf("%s[%d]", field, i), "must not be empty")
		case slices.Index(list, s) < i:
			b.add(kind, name, fmt.Sprintf("%s[%d]", field, i), "%q is listed twice", s)
		}
	}
}

// sortedUnique returns the non-empty strings of list, sorted and
// without repeats, or nil for none.
func sortedUnique(list []string) []string {
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ifaceNameProblem says why s cannot name a Linux interface or VRF, or
// returns "" when it can.
func ifaceNameProblem(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > 15:
		return fmt.Sprintf("%q is longer than 15 bytes", s)
	case s == "." || s == "..":
		return fmt.Sprintf("%q is not an interface name", s)
	case strings.ContainsFunc(s, func(r rune) bool { return r == '/' || unicode.IsSpace(r) || unicode.IsControl(r) }):
		return fmt.Sprintf("%q contains whitespace, a control character or '/'", s)
	}
	return ""
}
