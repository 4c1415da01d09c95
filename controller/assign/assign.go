package assign

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/ipam"
	"github.com/ironlb/ironlb/request"
)

// Service is a Service with the labels of its namespace, which pool
// namespaceSelectors match.
type Service struct {
	Svc             *corev1.Service
	NamespaceLabels labels.Set
}

// Key returns "namespace/name".
func (s Service) Key() string { return s.Svc.Namespace + "/" + s.Svc.Name }

// Result is the assignment of one Service.
type Result struct {
	IPs  []netip.Addr
	Pool string
}

// Assigner books Service IPs for one configuration model. It is not safe
// for concurrent use. When the model changes, build a new Assigner and
// Restore every Service again.
type Assigner struct {
	model *config.Model
	alloc *ipam.Allocator
}

// New returns an Assigner over the model's pools.
func New(m *config.Model) (*Assigner, error) {
	pools := make([]ipam.Pool, 0, len(m.Pools))
	for _, p := range m.Pools {
		pools = append(pools, ipam.Pool{Name: p.Name, Ranges: p.Ranges, AvoidBuggyIPs: p.AvoidBuggyIPs})
	}
	alloc, err := ipam.New(pools)
	if err != nil {
		return nil, fmt.Errorf("building allocator: %w", err)
	}
	return &Assigner{model: m, alloc: alloc}, nil
}

// Restore books the IPs a Service already has in its status, when they
// are still valid for it: inside pools it may use, of families it wants,
// equal to the IPs it requests if any, and not conflicting with the IPs
// of Services restored before it. It returns why not otherwise; the
// Service then gets new IPs from Ensure, and until then the refused IPs
// stay booked for it where they lie when they are free, since its status
// still shows them. Services without ingress IPs are a no-op.
func (a *Assigner) Restore(s Service) error {
	ingress := request.IngressIPs(s.Svc)
	if len(ingress) == 0 {
		return nil
	}
	err := a.restore(s, ingress)
	if err != nil {
		// Refused, but the Service still shows these IPs and the speakers
		// announce them until Ensure gives it others: book them where
		// they lie, when free, so that no other Service gets them
		// meanwhile. Ensure replaces the booking with a valid one, or
		// keeps it when it cannot.
		_ = a.alloc.Assign(s.Key(), ingress, a.sharingOf(s), nil)
	}
	return err
}

// restore books the ingress IPs of s when its request allows them.
func (a *Assigner) restore(s Service, ingress []netip.Addr) error {
	req, err := request.Parse(s.Svc)
	if err != nil {
		return err
	}
	if len(req.IPs) > 0 && !sameIPs(req.IPs, ingress) {
		return fmt.Errorf("ingress IPs %v are not the requested %v", ingress, req.IPs)
	}
	if len(ingress) > len(req.Families) {
		return fmt.Errorf("ingress IPs %v are more than the service's families %v", ingress, req.Families)
	}
	for _, ip := range ingress {
		if !slices.Contains(req.Families, family(ip)) {
			return fmt.Errorf("ingress IP %s is not of the service's families %v", ip, req.Families)
		}
	}
	if err := a.alloc.Assign(s.Key(), ingress, sharing(req), a.allowedPools(s, req)); err != nil {
		return fmt.Errorf("keeping ingress IPs: %w", err)
	}
	return nil
}

// sharingOf returns the sharing of s, or none when its request does not
// parse.
func (a *Assigner) sharingOf(s Service) ipam.Sharing {
	req, err := request.Parse(s.Svc)
	if err != nil {
		return ipam.Sharing{}
	}
	return sharing(req)
}

// RestoreAll restores the Services in a fixed order, oldest first (then
// by key), so that the older Service wins a conflict whatever the order
// of the list. It returns why each refused Service was refused, by key.
func (a *Assigner) RestoreAll(svcs []Service) map[string]error {
	order := slices.Clone(svcs)
	slices.SortStableFunc(order, func(x, y Service) int {
		if c := x.Svc.CreationTimestamp.Compare(y.Svc.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(x.Key(), y.Key())
	})
	refused := map[string]error{}
	for _, s := range order {
		if err := a.Restore(s); err != nil {
			refused[s.Key()] = err
		}
	}
	return refused
}

// Ensure gives the Service its IPs: those it holds when they still fit
// its request, else the IPs it requests, else the first free ones of its
// candidate pools. A Service that holds nothing yet first gets the IPs of
// its status when Restore accepts them: a Service the last RestoreAll did
// not see (its status written after the list was read, by another
// controller such as MetalLB) keeps its IPs instead of taking the first
// free ones. On error the Service keeps what it held.
func (a *Assigner) Ensure(s Service) (Result, error) {
	req, err := request.Parse(s.Svc)
	if err != nil {
		return Result{}, err
	}
	if held, _ := a.alloc.Holding(s.Key()); len(held) == 0 {
		// A refusal is not an error here: the Service gets new IPs below,
		// as it would after RestoreAll.
		_ = a.Restore(s)
	}
	if req.Pool != "" && a.model.Pool(req.Pool) == nil {
		return Result{}, fmt.Errorf("pool %s (from the address-pool annotation) does not exist", strconv.Quote(req.Pool))
	}
	key := s.Key()
	allowed := a.allowedPools(s, req)
	if len(req.IPs) > 0 {
		// Assign checks the IPs again even when the Service holds them
		// already: its sharing key, ports or pools may have changed.
		if err := a.alloc.Assign(key, req.IPs, sharing(req), allowed); err != nil {
			return Result{}, fmt.Errorf("requested IPs: %w", err)
		}
		held, pool := a.alloc.Holding(key)
		return Result{IPs: inOrder(held, req.Families), Pool: pool}, nil
	}

	cands := a.model.CandidatePools(config.ServiceRef{
		Namespace:       s.Svc.Namespace,
		NamespaceLabels: s.NamespaceLabels,
		Labels:          labels.Set(s.Svc.Labels),
		Pool:            req.Pool,
	})
	// A holding in a pool the service may use is kept even when the pool
	// is not a candidate for new addresses (autoAssign false): a restart
	// or a configuration change never moves a valid IP.
	if _, pool := a.alloc.Holding(key); pool != "" && slices.Contains(allowed, pool) {
		cands = append([]string{pool}, slices.DeleteFunc(cands, func(p string) bool { return p == pool })...)
	}
	if len(cands) == 0 {
		if req.Pool != "" {
			return Result{}, fmt.Errorf("pool %s (from the address-pool annotation) does not serve this service: its serviceAllocation does not match", strconv.Quote(req.Pool))
		}
		return Result{}, errors.New("no pool serves this service: no pool without serviceAllocation has autoAssign enabled, and no serviceAllocation matches")
	}
	ips, pool, err := a.alloc.Allocate(ipam.Request{
		Key:      key,
		Pools:    cands,
		Families: families(req.Families),
		Policy:   ipam.Policy(req.Policy),
		Sharing:  sharing(req),
	})
	if err != nil {
		return Result{}, err
	}
	return Result{IPs: ips, Pool: pool}, nil
}

// Release frees the IPs of the Service with that key.
func (a *Assigner) Release(key string) { a.alloc.Release(key) }

// Holding returns the IPs and pool a Service holds.
func (a *Assigner) Holding(key string) Result {
	ips, pool := a.alloc.Holding(key)
	return Result{IPs: ips, Pool: pool}
}

// Usage returns the use of a pool.
func (a *Assigner) Usage(pool string) (ipam.Usage, bool) { return a.alloc.Usage(pool) }

// allowedPools returns the pools a Service may hold IPs of: the pool it
// names, or every pool whose serviceAllocation it matches, whatever their
// autoAssign.
func (a *Assigner) allowedPools(s Service, req request.Request) []string {
	// Never nil: the allocator reads nil as "any pool".
	out := []string{}
	for i := range a.model.Pools {
		p := &a.model.Pools[i]
		if req.Pool != "" && p.Name != req.Pool {
			continue
		}
		if p.Matches(s.Svc.Namespace, s.NamespaceLabels, labels.Set(s.Svc.Labels)) {
			out = append(out, p.Name)
		}
	}
	return out
}

func sharing(req request.Request) ipam.Sharing {
	sh := ipam.Sharing{Key: req.SharingKey, Backend: req.BackendKey}
	for _, p := range req.Ports {
		sh.Ports = append(sh.Ports, ipam.Port{Protocol: p.Protocol, Number: p.Port})
	}
	return sh
}

func families(fs []request.Family) []ipam.Family {
	out := make([]ipam.Family, 0, len(fs))
	for _, f := range fs {
		if f == request.IPv6 {
			out = append(out, ipam.IPv6)
		} else {
			out = append(out, ipam.IPv4)
		}
	}
	return out
}

func family(ip netip.Addr) request.Family {
	if ip.Is4() {
		return request.IPv4
	}
	return request.IPv6
}

// inOrder sorts IPs by the service's family order.
func inOrder(ips []netip.Addr, fams []request.Family) []netip.Addr {
	out := slices.Clone(ips)
	slices.SortStableFunc(out, func(a, b netip.Addr) int {
		return slices.Index(fams, family(a)) - slices.Index(fams, family(b))
	})
	return out
}

func sameIPs(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for _, ip := range a {
		if !slices.Contains(b, ip) {
			return false
		}
	}
	return true
}
