package noderouter

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/frr"
)

// Selecting returns the configurations whose nodeSelector matches the
// node's labels, by namespace and name. A configuration with an invalid
// selector selects no node and is reported as a config.FieldError; the
// others are still returned.
func Selecting(cfgs []frrk8s.FRRConfiguration, nodeLabels map[string]string) ([]*frrk8s.FRRConfiguration, error) {
	var out []*frrk8s.FRRConfiguration
	var errs []error
	for i := range cfgs {
		c := &cfgs[i]
		sel, err := metav1.LabelSelectorAsSelector(&c.Spec.NodeSelector)
		if err != nil {
			errs = append(errs, config.FieldError{Kind: KindFRRConfiguration, Name: c.Namespace + "/" + c.Name, Field: "spec.nodeSelector", Reason: err.Error()})
			continue
		}
		if sel.Matches(labels.Set(nodeLabels)) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *frrk8s.FRRConfiguration) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return out, errors.Join(errs...)
}

// ForNode merges ironlb's own announcements for a node (own, which may be
// nil) with every configuration that selects the node, in namespace and
// name order. Invalid configurations and conflicts are all reported,
// joined; the model is then nil.
func ForNode(own *frr.Config, cfgs []frrk8s.FRRConfiguration, nodeLabels map[string]string, opts Options) (*Model, error) {
	return forNode(FromFRR(own), cfgs, nodeLabels, opts, FromFRRConfiguration)
}

// forNode is ForNode with ironlb's own piece already converted and the
// conversion of an FRRConfiguration given: FromFRRConfiguration, or a
// Cache's memo of it.
func forNode(ownPiece *Model, cfgs []frrk8s.FRRConfiguration, nodeLabels map[string]string, opts Options, convert func(*frrk8s.FRRConfiguration) (*Model, error)) (*Model, error) {
	selected, err := Selecting(cfgs, nodeLabels)
	errs := []error{err}
	pieces := make([]*Model, 0, 1+len(selected))
	pieces = append(pieces, ownPiece)
	for _, c := range selected {
		p, err := convert(c)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pieces = append(pieces, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m, err := Merge(opts, pieces...)
	if err != nil {
		return nil, fmt.Errorf("merging the router configuration: %w", err)
	}
	return m, nil
}
