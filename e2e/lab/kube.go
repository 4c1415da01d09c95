package lab

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// DefaultWait bounds WaitFor and the helpers built on it.
const DefaultWait = 60 * time.Second

// WaitFor calls cond every 100ms until it returns true (nil), returns an
// error, ctx ends or DefaultWait passes. what names the condition in the
// error.
func WaitFor(ctx context.Context, what string, cond func(ctx context.Context) (bool, error)) error {
	return poll(ctx, DefaultWait, what, cond)
}

// NodeByName returns the lab node of that name.
func NodeByName(name string) (Node, bool) {
	for _, n := range Nodes() {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// ServiceIPs returns the sorted ingress IPs in a Service's status.
func ServiceIPs(svc *corev1.Service) []netip.Addr {
	var ips []netip.Addr
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if a, err := netip.ParseAddr(in.IP); err == nil {
			ips = append(ips, a)
		}
	}
	slices.SortFunc(ips, netip.Addr.Compare)
	return ips
}

// WaitServiceIPs waits until the Service's status holds at least n
// ingress IPs and returns them, sorted.
func (l *Lab) WaitServiceIPs(ctx context.Context, namespace, name string, n int) ([]netip.Addr, error) {
	var ips []netip.Addr
	err := WaitFor(ctx, fmt.Sprintf("%d IPs on service %s/%s", n, namespace, name), func(ctx context.Context) (bool, error) {
		svc := &corev1.Service{}
		if err := l.kube.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, svc); err != nil {
			return false, client.IgnoreNotFound(err)
		}
		ips = ServiceIPs(svc)
		return len(ips) >= n, nil
	})
	return ips, err
}

// Endpoint is one backend of a Service: a host-network pod on Node, so
// its addresses are the node's.
type Endpoint struct {
	Node string
	// NotReady marks the endpoint not ready (and not serving).
	NotReady bool
}

// CreateEndpoints makes the Service's endpoints one ready endpoint per
// given node, as its pods would; see SetEndpoints.
func (l *Lab) CreateEndpoints(ctx context.Context, namespace, service string, nodes ...string) error {
	eps := make([]Endpoint, 0, len(nodes))
	for _, n := range nodes {
		eps = append(eps, Endpoint{Node: n})
	}
	return l.SetEndpoints(ctx, namespace, service, eps)
}

// CreateEndpointsOf makes the first endpoints of a Service that has none
// yet, one ready endpoint per given node, from the Service object (as
// Create returned it): one Create per EndpointSlice and no reads, as
// Kubernetes' EndpointSlice controller works from its cache. Benchmarks
// use it, so that their latencies hold only the API server's time to
// create the slices.
func (l *Lab) CreateEndpointsOf(ctx context.Context, svc *corev1.Service, nodes ...string) error {
	eps := make([]Endpoint, 0, len(nodes))
	for _, n := range nodes {
		eps = append(eps, Endpoint{Node: n})
	}
	want, err := endpointSlices(svc, eps)
	if err != nil {
		return fmt.Errorf("creating endpoints of %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	for i := range want {
		if err := l.kube.Create(ctx, &want[i]); err != nil {
			return fmt.Errorf("creating endpoints of %s/%s: %w", svc.Namespace, svc.Name, err)
		}
	}
	return nil
}

// SetEndpoints makes eps the Service's whole set of endpoints: one
// EndpointSlice per IP family of the Service, named SERVICE-lab-ipv4 or
// -ipv6, created or replaced. An empty eps leaves the slices empty.
func (l *Lab) SetEndpoints(ctx context.Context, namespace, service string, eps []Endpoint) error {
	svc := &corev1.Service{}
	if err := l.kube.Get(ctx, client.ObjectKey{Namespace: namespace, Name: service}, svc); err != nil {
		return fmt.Errorf("setting endpoints of %s/%s: %w", namespace, service, err)
	}
	wanted, err := endpointSlices(svc, eps)
	if err != nil {
		return fmt.Errorf("setting endpoints of %s/%s: %w", namespace, service, err)
	}
	for _, want := range wanted {
		got := &discoveryv1.EndpointSlice{ObjectMeta: want.ObjectMeta}
		_, err := controllerutil.CreateOrUpdate(ctx, l.kube, got, func() error {
			got.Labels = want.Labels
			got.AddressType = want.AddressType
			got.Endpoints = want.Endpoints
			got.Ports = want.Ports
			return nil
		})
		if err != nil {
			return fmt.Errorf("setting endpoints of %s/%s: %w", namespace, service, err)
		}
	}
	return nil
}
