package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The labels and the annotation of the Leases.
const (
	LabelComponent      = "app.kubernetes.io/component"
	LabelManagedBy      = "app.kubernetes.io/managed-by"
	ComponentValue      = "layer2-lease"
	ManagedByValue      = "ironlb"
	AnnotationServiceIP = "ironlb.io/service-ip"
)

// ErrChanged is returned by a write when the Lease is not as last seen:
// another node wrote or deleted it. The Record returned with it is the
// Lease as it is now.
var ErrChanged = errors.New("lease changed since it was read")

// Name returns the name of the Lease of ip: "ironlb-l2-" and the
// address, dotted for IPv4, its eight groups of four hex digits joined by
// "-" for IPv6, so that every IP has one valid name.
func Name(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is4() {
		return "ironlb-l2-" + ip.String()
	}
	return "ironlb-l2-" + strings.ReplaceAll(ip.StringExpanded(), ":", "-")
}

// Client reads and writes the Leases of the Service IPs. Each write
// carries the resourceVersion of the record it replaces, so that of two
// nodes writing over one record only one succeeds.
type Client struct {
	// Reader reads the Leases from the API server (not a cache): the
	// manager's API reader.
	Reader client.Reader
	// Writer writes them.
	Writer client.Writer
	// Namespace holds the Leases: the speaker's.
	Namespace string
	// Node is the holder this client writes.
	Node string
	// Duration is written as leaseDurationSeconds, rounded up.
	Duration time.Duration
	// Now returns the time written into the Leases; nil means
	// time.Now.
	Now func() time.Time
}

func (c *Client) now() metav1.MicroTime {
	if c.Now != nil {
		return metav1.NewMicroTime(c.Now())
	}
	return metav1.NowMicro()
}

func (c *Client) key(ip netip.Addr) client.ObjectKey {
	return client.ObjectKey{Namespace: c.Namespace, Name: Name(ip)}
}

// recordOf returns the Record of a Lease.
func recordOf(l *coordinationv1.Lease) Record {
	r := Record{Version: l.ResourceVersion}
	if l.Spec.HolderIdentity != nil {
		r.Holder = *l.Spec.HolderIdentity
	}
	if l.Spec.LeaseDurationSeconds != nil {
		r.Duration = time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second
	}
	return r
}

// Get reads the Lease of ip; a missing Lease is the zero Record.
func (c *Client) Get(ctx context.Context, ip netip.Addr) (Record, error) {
	var l coordinationv1.Lease
	err := c.Reader.Get(ctx, c.key(ip), &l)
	if apierrors.IsNotFound(err) {
		return Record{}, nil
	}
	if err != nil {
		return Record{}, fmt.Errorf("reading lease %s: %w", Name(ip), err)
	}
	return recordOf(&l), nil
}

// Acquire makes this node the holder of the Lease of ip over last, the
// record last read: it creates the Lease when last.Version is "".
func (c *Client) Acquire(ctx context.Context, ip netip.Addr, last Record) (Record, error) {
	now := c.now()
	secs := int32((c.Duration + time.Second - 1) / time.Second)
	if last.Version == "" {
		l := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{
				Namespace:   c.Namespace,
				Name:        Name(ip),
				Labels:      map[string]string{LabelComponent: ComponentValue, LabelManagedBy: ManagedByValue},
				Annotations: map[string]string{AnnotationServiceIP: ip.Unmap().String()},
			},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity: &c.Node, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now,
			},
		}
		err := c.Writer.Create(ctx, l)
		if apierrors.IsAlreadyExists(err) {
			return c.changed(ctx, ip, "acquire")
		}
		if err != nil {
			return Record{}, fmt.Errorf("creating lease %s: %w", Name(ip), err)
		}
		return recordOf(l), nil
	}
	return c.patch(ctx, ip, last, "acquire", map[string]any{
		"holderIdentity": c.Node, "leaseDurationSeconds": secs, "acquireTime": now, "renewTime": now,
	})
}

// Renew writes a new renewTime into the Lease this node holds.
func (c *Client) Renew(ctx context.Context, ip netip.Addr, last Record) (Record, error) {
	secs := int32((c.Duration + time.Second - 1) / time.Second)
	return c.patch(ctx, ip, last, "renew", map[string]any{
		"holderIdentity": c.Node, "leaseDurationSeconds": secs, "renewTime": c.now(),
	})
}

// Release removes this node as the holder of the Lease, so that the
// next node takes it at once.
func (c *Client) Release(ctx context.Context, ip netip.Addr, last Record) (Record, error) {
	return c.patch(ctx, ip, last, "release", map[string]any{"holderIdentity": nil, "acquireTime": nil, "renewTime": nil})
}

// Delete removes the Lease of ip if it is still at last.Version.
func (c *Client) Delete(ctx context.Context, ip netip.Addr, last Record) error {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: c.Namespace, Name: Name(ip)}}
	err := c.Writer.Delete(ctx, l, client.Preconditions{ResourceVersion: &last.Version})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // gone already, or written since: the next sweep sees it
	}
	if err != nil {
		return fmt.Errorf("deleting lease %s: %w", Name(ip), err)
	}
	return nil
}

// Listed is a Lease List found.
type Listed struct {
	IP     netip.Addr
	Record Record
}

// List returns the Service IP Leases in the namespace, with their IPs;
// Leases whose IP annotation does not parse are left out.
func (c *Client) List(ctx context.Context) ([]Listed, error) {
	var list coordinationv1.LeaseList
	err := c.Reader.List(ctx, &list, client.InNamespace(c.Namespace),
		client.MatchingLabels{LabelComponent: ComponentValue, LabelManagedBy: ManagedByValue})
	if err != nil {
		return nil, fmt.Errorf("listing leases: %w", err)
	}
	var out []Listed
	for i := range list.Items {
		l := &list.Items[i]
		ip, err := netip.ParseAddr(l.Annotations[AnnotationServiceIP])
		if err != nil || l.Name != Name(ip) {
			continue
		}
		out = append(out, Listed{IP: ip.Unmap(), Record: recordOf(l)})
	}
	return out, nil
}

// patch merges spec into the Lease with last.Version as precondition.
func (c *Client) patch(ctx context.Context, ip netip.Addr, last Record, op string, spec map[string]any) (Record, error) {
	body, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": last.Version},
		"spec":     spec,
	})
	if err != nil {
		return Record{}, fmt.Errorf("encoding the %s of lease %s: %w", op, Name(ip), err)
	}
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: c.Namespace, Name: Name(ip)}}
	err = c.Writer.Patch(ctx, l, client.RawPatch(types.MergePatchType, body))
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return c.changed(ctx, ip, op)
	}
	if err != nil {
		return Record{}, fmt.Errorf("%s of lease %s: %w", op, Name(ip), err)
	}
	return recordOf(l), nil
}

// changed reads the Lease after a write found it changed.
func (c *Client) changed(ctx context.Context, ip netip.Addr, op string) (Record, error) {
	r, err := c.Get(ctx, ip)
	if err != nil {
		return Record{}, fmt.Errorf("%s of lease %s: it changed, and reading it again: %w", op, Name(ip), err)
	}
	return r, fmt.Errorf("%s of lease %s: %w", op, Name(ip), ErrChanged)
}
