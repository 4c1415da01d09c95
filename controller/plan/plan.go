package plan

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/controller/assign"
	"github.com/ironlb/ironlb/internal/manifest"
	"github.com/ironlb/ironlb/ipam"
	"github.com/ironlb/ironlb/request"
)

// DefaultNamespace is the namespace ironlb reads its configuration from
// when Options name none, the same as MetalLB's.
const DefaultNamespace = "metallb-system"

// defaultServiceNamespace is where a Service written without a namespace
// lands, as with kubectl apply.
const defaultServiceNamespace = "default"

// namespaceNameLabel is the label the API server puts on every
// Namespace, set to its name; namespace selectors often use it.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// Options tune a plan.
type Options struct {
	// Namespace is ironlb's namespace: the metallb.io objects must be in
	// it or have no namespace. Empty means DefaultNamespace.
	Namespace string
	// LBClass is the loadBalancerClass ironlb serves. Empty means ironlb
	// handles only Services without a class.
	LBClass string
}

// Plan computes the IPs ironlb would give the Services of set, in the
// order the controller does after a restart: every handled Service that
// shows IPs in its status keeps them if they are still valid (in input
// order), then every handled Service gets its IPs (in input order).
//
// An invalid configuration is an error that wraps the config.FieldErrors
// naming each object and field at fault. A Service ironlb cannot serve
// is not an error of Plan: its entry in the Result says why.
func Plan(set *manifest.Set, opts Options) (*Result, error) {
	if set == nil {
		set = &manifest.Set{}
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	model, err := config.Build(config.Objects{
		Pools:             set.Pools,
		BGPPeers:          set.BGPPeers,
		BGPAdvertisements: set.BGPAdvertisements,
		L2Advertisements:  set.L2Advertisements,
		BFDProfiles:       set.BFDProfiles,
		Communities:       set.Communities,
		Secrets:           set.Secrets,
		Namespace:         opts.Namespace,
	})
	if err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	a, err := assign.New(model)
	if err != nil {
		return nil, fmt.Errorf("planning: %w", err)
	}

	entries := handled(set, opts.LBClass)
	for _, e := range entries {
		if e.skip || len(e.previous) == 0 {
			continue
		}
		e.restoreErr = a.Restore(e.svc)
	}
	for _, e := range entries {
		if !e.skip {
			e.ensure(a)
			e.advertisements(model)
		}
	}

	res := &Result{Services: make([]Service, 0, len(entries))}
	for _, e := range entries {
		res.Services = append(res.Services, e.out)
	}
	res.Pools = usage(a, model)
	return res, nil
}

// entry is the plan of one handled Service as it is worked out.
type entry struct {
	svc assign.Service
	out Service
	// previous are the IPs in the Service's status.
	previous   []netip.Addr
	restoreErr error
	// skip is set for a Service that repeats an earlier one's key; it
	// is reported but not planned.
	skip bool
}

// handled returns the Services of set that ironlb handles, in input
// order, with their namespace labels.
func handled(set *manifest.Set, lbClass string) []*entry {
	nsLabels := namespaceLabels(set.Namespaces)
	seen := make(map[string]bool, len(set.Services))
	var out []*entry
	for i := range set.Services {
		if !request.Handled(&set.Services[i], lbClass) {
			continue
		}
		// A shallow copy is enough to default the namespace without
		// changing the set: the assigner only reads the Service.
		svc := set.Services[i]
		if svc.Namespace == "" {
			svc.Namespace = defaultServiceNamespace
		}
		e := &entry{
			svc:      assign.Service{Svc: &svc, NamespaceLabels: nsLabels[svc.Namespace]},
			out:      Service{Namespace: svc.Namespace, Name: svc.Name, IPs: []netip.Addr{}},
			previous: request.IngressIPs(&svc),
		}
		key := e.svc.Key()
		if seen[key] {
			e.skip = true
			e.out.Error = "an earlier Service in the input has the same namespace and name; only the first is planned"
		}
		seen[key] = true
		out = append(out, e)
	}
	return out
}

// namespaceLabels maps each Namespace to its labels, plus the name label
// the API server adds. Of two Namespaces with one name, the last wins,
// as with kubectl apply.
func namespaceLabels(nss []corev1.Namespace) map[string]labels.Set {
	out := make(map[string]labels.Set, len(nss))
	for _, ns := range nss {
		set := make(labels.Set, len(ns.Labels)+1)
		for k, v := range ns.Labels {
			set[k] = v
		}
		set[namespaceNameLabel] = ns.Name
		out[ns.Name] = set
	}
	return out
}

// ensure gives the Service its IPs and records the outcome.
func (e *entry) ensure(a *assign.Assigner) {
	res, err := a.Ensure(e.svc)
	if err != nil {
		// The Service keeps what it holds, as in the controller.
		res = a.Holding(e.svc.Key())
		e.out.Error = err.Error()
	}
	if len(res.IPs) > 0 {
		e.out.IPs = res.IPs
		e.out.Pool = res.Pool
	}
	if lost := missing(e.previous, e.out.IPs); len(lost) > 0 {
		why := "they no longer fit the Service's request"
		if len(lost) == 1 {
			why = "it no longer fits the Service's request"
		}
		if e.restoreErr != nil {
			why = reason(e.restoreErr)
		}
		e.out.Note = fmt.Sprintf("%s %s not kept: %s", plural(len(lost), "previous IP", "previous IPs"), joinIPs(lost), why)
	}
}

// reason returns the most specific part of a Restore error: the
// allocator's reason when there is one, since the note already says
// which IPs were not kept.
func reason(err error) string {
	var ae *ipam.AssignError
	if errors.As(err, &ae) {
		return ae.Error()
	}
	return err.Error()
}

// missing returns the IPs of prev that are not in now.
func missing(prev, now []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, ip := range prev {
		if !slices.Contains(now, ip) {
			out = append(out, ip)
		}
	}
	return out
}

func joinIPs(ips []netip.Addr) string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return strings.Join(s, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// usage returns the use of every pool of the model, by name.
func usage(a *assign.Assigner, m *config.Model) []PoolUsage {
	out := make([]PoolUsage, 0, len(m.Pools))
	for _, p := range m.Pools {
		u, ok := a.Usage(p.Name)
		if !ok {
			continue
		}
		out = append(out, PoolUsage{
			Name:          p.Name,
			AssignedIPv4:  u.IPv4.Assigned,
			AssignedIPv6:  u.IPv6.Assigned,
			AvailableIPv4: u.IPv4.Available,
			AvailableIPv6: u.IPv6.Available,
		})
	}
	slices.SortFunc(out, func(x, y PoolUsage) int { return cmp.Compare(x.Name, y.Name) })
	return out
}
