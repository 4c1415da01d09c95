package speaker

import (
	"cmp"
	"context"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/noderouter"
)

// objectProblem is a problem of a conversion error that names one
// FRRConfiguration ("namespace/name").
type objectProblem struct {
	key, message string
}

// frrConfigurationProblems returns, for each FRRConfiguration a
// conversion error names (an invalid field, a side of a conflict), the
// problem's message, sorted and without repeats.
func frrConfigurationProblems(err error) []objectProblem {
	var out []objectProblem
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case config.FieldError:
			if e.Kind == noderouter.KindFRRConfiguration {
				out = append(out, objectProblem{e.Name, e.Error()})
			}
		case *noderouter.ConflictError:
			for _, o := range []noderouter.Origin{e.A, e.B} {
				if o.Kind == noderouter.KindFRRConfiguration {
					out = append(out, objectProblem{o.Name, e.Error()})
				}
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
	slices.SortFunc(out, func(a, b objectProblem) int {
		return cmp.Or(strings.Compare(a.key, b.key), strings.Compare(a.message, b.message))
	})
	return slices.Compact(out)
}

// reportConversion logs a new conversion error and puts a warning event
// on each FRRConfiguration it names, once per distinct error: the
// reconciles that follow while it lasts (one per Service change) log it
// at debug level only.
func (r *reconciler) reportConversion(ctx context.Context, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if msg == r.reportedConversion {
		if err != nil {
			r.log.Debug("FRRConfigurations still not applied, keeping the last valid configuration", "node", r.cfg.NodeName, "error", err)
		}
		return
	}
	r.reportedConversion = msg
	if err == nil {
		r.log.Info("FRRConfigurations applied again", "node", r.cfg.NodeName)
		return
	}
	r.log.Error("FRRConfigurations not applied, keeping the last valid configuration", "node", r.cfg.NodeName, "error", err)
	if r.events == nil {
		return
	}
	for _, p := range frrConfigurationProblems(err) {
		ns, name, _ := strings.Cut(p.key, "/")
		var obj frrk8s.FRRConfiguration
		if r.router.reader.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &obj) != nil {
			continue // gone meanwhile, or not in the cache
		}
		r.events.Eventf(&obj, nil, corev1.EventTypeWarning, "InvalidConfiguration", "Merge",
			"node %s keeps its last valid configuration: %s", r.cfg.NodeName, p.message)
	}
}
