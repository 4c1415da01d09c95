package state

import (
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/request"
)

// Store keeps the Services of a cluster as the speaker computes from
// them, updated object by object as the informers report Services and
// EndpointSlices. Reading the state then costs what changed since the
// last read, not a pass over every object: with 10,000 Services, listing
// them and their EndpointSlices and rebuilding the state took about
// 25 ms of CPU on every reconcile, on each node.
//
// Build is the reference: Services returns what Build would make of the
// objects last given to the Store. Its methods may be called from
// several goroutines.
type Store struct {
	lbClass string

	mu sync.Mutex
	// svcs holds what each handled Service with IPs says, by key.
	svcs map[string]serviceInput
	// slices holds each EndpointSlice's Service key and serving nodes,
	// by the slice's namespace/name; bySvc its slices per Service key.
	slices map[string]sliceInput
	bySvc  map[string]map[string]struct{}
	// unpooled are the keys of Services whose pool comes from the model,
	// not from the controller's annotation: a new model changes them.
	unpooled map[string]struct{}
	// dirty are the keys whose Service may differ from snap.
	dirty map[string]struct{}
	model *config.Model
	snap  []Service
}

// serviceInput is what the state takes from a Service object.
type serviceInput struct {
	ips []netip.Addr
	// pool is the controller's annotation, "" when missing.
	pool     string
	etpLocal bool
	// labels are the Service's labels, nil for none; the Store's own
	// copy once stored.
	labels     map[string]string
	sharingKey string
}

func (a serviceInput) equal(b serviceInput) bool {
	return slices.Equal(a.ips, b.ips) && a.pool == b.pool && a.etpLocal == b.etpLocal && a.sameLabels(b)
}

// sameLabels reports whether two inputs agree on what advertisements
// select a Service by: its labels and its sharing key.
func (a serviceInput) sameLabels(b serviceInput) bool {
	return a.sharingKey == b.sharingKey && maps.Equal(a.labels, b.labels)
}

type sliceInput struct {
	svc   string
	nodes []string // sorted, once each
}

// NewStore returns an empty Store; lbClass is the controller's
// --lb-class.
func NewStore(lbClass string) *Store {
	return &Store{
		lbClass:  lbClass,
		svcs:     map[string]serviceInput{},
		slices:   map[string]sliceInput{},
		bySvc:    map[string]map[string]struct{}{},
		unpooled: map[string]struct{}{},
		dirty:    map[string]struct{}{},
	}
}

// SetService records a Service as it is now, and reports whether that
// can change the state: a Service of another type or class, or without
// IPs, is as good as deleted.
func (s *Store) SetService(svc *corev1.Service) bool {
	key := svc.Namespace + "/" + svc.Name
	in, ok := s.serviceInput(svc)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ok {
		return s.deleteService(key)
	}
	old, had := s.svcs[key]
	if had && old.equal(in) {
		return false
	}
	if len(in.labels) > 0 {
		// The object's map belongs to the informer's cache; the Services
		// the Store returns hold this copy, which nobody modifies.
		in.labels = maps.Clone(in.labels)
	}
	s.svcs[key] = in
	if in.pool == "" {
		s.unpooled[key] = struct{}{}
	} else {
		delete(s.unpooled, key)
	}
	if had && s.sameService(old, in) {
		// The controller writes the IPs first and the pool annotation
		// after them: the pool found by the IP was that one already.
		return false
	}
	s.dirty[key] = struct{}{}
	return true
}

// sameService reports whether two inputs make the same Service under
// the model of the last read: they may differ in whether the pool is
// annotated or found by the IP.
func (s *Store) sameService(a, b serviceInput) bool {
	return slices.Equal(a.ips, b.ips) && a.etpLocal == b.etpLocal && a.sameLabels(b) && s.poolOf(a) == s.poolOf(b)
}

// poolOf returns the pool of a Service under the model of the last read:
// the controller's annotation when that pool holds the Service's first
// IP, else the pool that does (as MetalLB's speaker finds it, by IP). A
// stale annotation, such as one naming a pool renamed since, or written
// by another controller before a migration, thus never keeps a Service
// from the advertisements of its real pool. Before any model, the
// annotation is all there is.
func (s *Store) poolOf(in serviceInput) string { return poolUnder(s.model, in) }

// poolUnder returns the pool of a Service under model; see poolOf.
func poolUnder(model *config.Model, in serviceInput) string {
	if model == nil || (in.pool != "" && model.Pool(in.pool).Holds(in.ips[0])) {
		return in.pool
	}
	return model.PoolHolding(in.ips[0])
}

// DeleteService forgets a Service and reports whether the state changes.
func (s *Store) DeleteService(namespace, name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleteService(namespace + "/" + name)
}

func (s *Store) deleteService(key string) bool {
	if _, had := s.svcs[key]; !had {
		return false
	}
	delete(s.svcs, key)
	delete(s.unpooled, key)
	s.dirty[key] = struct{}{}
	return true
}

func (s *Store) serviceInput(svc *corev1.Service) (serviceInput, bool) {
	if !request.Handled(svc, s.lbClass) {
		return serviceInput{}, false
	}
	ips := request.IngressIPs(svc)
	if len(ips) == 0 {
		return serviceInput{}, false
	}
	slices.SortFunc(ips, netip.Addr.Compare)
	in := serviceInput{
		ips:        ips,
		pool:       svc.Annotations[request.AnnotationAllocatedFromPool],
		etpLocal:   svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal,
		sharingKey: sharingKey(svc.Annotations),
	}
	if len(svc.Labels) > 0 {
		in.labels = svc.Labels
	}
	return in, true
}

// sharingKey returns the allow-shared-ip annotation, in its current
// spelling or else the legacy one.
func sharingKey(ann map[string]string) string {
	if v, ok := ann[request.AnnotationAllowSharedIP]; ok {
		return v
	}
	return ann[request.LegacyAnnotationAllowSharedIP]
}

// SetEndpointSlice records an EndpointSlice as it is now, and reports
// whether that changes the state: the serving nodes of a Service the
// state holds. The endpoints of a Service without IPs are kept for when
// it gets them.
func (s *Store) SetEndpointSlice(es *discoveryv1.EndpointSlice) bool {
	key := es.Namespace + "/" + es.Name
	in := sliceInput{nodes: sliceNodes(es)}
	if name := es.Labels[discoveryv1.LabelServiceName]; name != "" {
		in.svc = es.Namespace + "/" + name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.slices[key]
	if had && old.svc == in.svc && slices.Equal(old.nodes, in.nodes) {
		return false
	}
	changed := s.forgetSlice(key, old, had)
	if in.svc == "" {
		return changed
	}
	s.slices[key] = in
	if s.bySvc[in.svc] == nil {
		s.bySvc[in.svc] = map[string]struct{}{}
	}
	s.bySvc[in.svc][key] = struct{}{}
	return s.touch(in.svc) || changed
}

// DeleteEndpointSlice forgets an EndpointSlice and reports whether the
// state changes.
func (s *Store) DeleteEndpointSlice(namespace, name string) bool {
	key := namespace + "/" + name
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.slices[key]
	return s.forgetSlice(key, old, had)
}

func (s *Store) forgetSlice(key string, old sliceInput, had bool) bool {
	if !had {
		return false
	}
	delete(s.slices, key)
	delete(s.bySvc[old.svc], key)
	if len(s.bySvc[old.svc]) == 0 {
		delete(s.bySvc, old.svc)
	}
	return s.touch(old.svc)
}

// touch marks a Service's serving nodes as changed and reports whether
// the state holds that Service.
func (s *Store) touch(svc string) bool {
	if _, ok := s.svcs[svc]; !ok {
		return false
	}
	s.dirty[svc] = struct{}{}
	return true
}

// sliceNodes returns the sorted nodes with a serving endpoint in es.
func sliceNodes(es *discoveryv1.EndpointSlice) []string {
	var out []string
	for _, ep := range es.Endpoints {
		if ep.NodeName == nil || *ep.NodeName == "" || !serves(ep.Conditions) {
			continue
		}
		out = append(out, *ep.NodeName)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Services returns the handled Services with IPs, sorted by key, with
// their pool (from model when the controller did not annotate it) and
// serving nodes. The slice and what it holds are never changed
// afterwards; callers must not change them either.
func (s *Store) Services(model *config.Model) []Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	if model != s.model {
		old := s.model
		s.model = model
		for key := range s.unpooled {
			s.dirty[key] = struct{}{}
		}
		// An annotated Service changes pool only when the annotated pool
		// stops or starts holding its IP: a check per Service, no copy.
		for key, in := range s.svcs {
			if in.pool == "" {
				continue
			}
			if poolUnder(model, in) != poolUnder(old, in) {
				s.dirty[key] = struct{}{}
			}
		}
	}
	if len(s.dirty) == 0 {
		return s.snap
	}
	changed := make([]Service, 0, len(s.dirty))
	for key := range s.dirty {
		if in, ok := s.svcs[key]; ok {
			changed = append(changed, s.service(key, in))
		} else {
			ns, name := splitKey(key)
			changed = append(changed, Service{Namespace: ns, Name: name}) // IPs nil: deleted
		}
	}
	clear(s.dirty)
	slices.SortFunc(changed, CompareKeys)
	s.snap = merge(s.snap, changed)
	return s.snap
}

// service makes the Service of key from what the Store holds.
func (s *Store) service(key string, in serviceInput) Service {
	ns, name := splitKey(key)
	out := Service{Namespace: ns, Name: name, IPs: in.ips, Pool: s.poolOf(in), ETPLocal: in.etpLocal, Labels: in.labels, SharingKey: in.sharingKey}
	for sk := range s.bySvc[key] {
		out.ServingNodes = append(out.ServingNodes, s.slices[sk].nodes...)
	}
	if len(out.ServingNodes) > 0 {
		slices.Sort(out.ServingNodes)
		out.ServingNodes = slices.Compact(out.ServingNodes)
	}
	return out
}

// merge returns a new sorted slice: old with the Services of changed
// (sorted, each key once) put in place of those of the same key, added,
// or, when they have no IPs, removed.
func merge(old, changed []Service) []Service {
	out := make([]Service, 0, len(old)+len(changed))
	i := 0
	for _, c := range changed {
		j, found := slices.BinarySearchFunc(old[i:], c, CompareKeys)
		out = append(out, old[i:i+j]...)
		i += j
		if found {
			i++
		}
		if len(c.IPs) > 0 {
			out = append(out, c)
		}
	}
	return append(out, old[i:]...)
}

func splitKey(key string) (string, string) {
	ns, name, _ := strings.Cut(key, "/")
	return ns, name
}
