package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// The kinds of object a FieldError can name.
const (
	KindIPAddressPool    = "IPAddressPool"
	KindBGPPeer          = "BGPPeer"
	KindBGPAdvertisement = "BGPAdvertisement"
	KindL2Advertisement  = "L2Advertisement"
	KindBFDProfile       = "BFDProfile"
	KindCommunity        = "Community"
)

// kindRank orders errors by kind: the objects others refer to come first.
func kindRank(kind string) int {
	switch kind {
	case KindCommunity:
		return 0
	case KindBFDProfile:
		return 1
	case KindIPAddressPool:
		return 2
	case KindBGPPeer:
		return 3
	case KindBGPAdvertisement:
		return 4
	case KindL2Advertisement:
		return 5
	}
	return 6
}

// FieldError is one problem in one object. Field is a path into the
// object such as "spec.addresses[1]", or empty when the problem concerns
// the object as a whole. No FieldError ever holds a password.
type FieldError struct {
	Kind   string
	Name   string
	Field  string
	Reason string
}

// Error returns the problem as `Kind "name": field: reason`.
func (e FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s %q: %s", e.Kind, e.Name, e.Reason)
	}
	return fmt.Sprintf("%s %q: %s: %s", e.Kind, e.Name, e.Field, e.Reason)
}

// Errors returns the FieldErrors that err holds, in order. It looks
// through errors.Join and %w wrapping; other errors are left out.
func Errors(err error) []FieldError {
	var out []FieldError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case FieldError:
			out = append(out, e)
		case *FieldError:
			if e != nil {
				out = append(out, *e)
			}
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// problems collects the FieldErrors of one Build.
type problems struct {
	list []FieldError
}

// add records a problem; the reason is formatted like fmt.Sprintf.
func (p *problems) add(kind, name, field, format string, args ...any) {
	p.list = append(p.list, FieldError{Kind: kind, Name: name, Field: field, Reason: fmt.Sprintf(format, args...)})
}

// err returns every problem joined, grouped by kind and object name and
// otherwise in the order found, or nil when there is none.
func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	slices.SortStableFunc(p.list, func(a, b FieldError) int {
		return cmp.Or(cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)), cmp.Compare(a.Name, b.Name))
	})
	// Two objects with the same name can report the same problem; say it once.
	seen := make(map[FieldError]bool, len(p.list))
	errs := make([]error, 0, len(p.list))
	for _, e := range p.list {
		if seen[e] {
			continue
		}
		seen[e] = true
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}
