package controller

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Lease says whether this replica still holds the leader lease: Held
// returns nil while it does.
type Lease interface {
	Held() error
}

// leaseClient is a client that writes only while the lease is held. A
// leader that was frozen past its lease wakes up with a stale cache and
// stale allocations while another replica allocates; until its election
// notices the loss (up to the renew deadline later), every write it made
// could move or duplicate an IP. The check is made right before each
// request leaves.
type leaseClient struct {
	client.Client
	lease Lease
}

func (c leaseClient) check(verb string, obj any) error {
	if err := c.lease.Held(); err != nil {
		return fmt.Errorf("refusing to %s %T: %w", verb, obj, err)
	}
	return nil
}

func (c leaseClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	if err := c.check("create", obj); err != nil {
		return err
	}
	return c.Client.Create(ctx, obj, opts...)
}

func (c leaseClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	if err := c.check("update", obj); err != nil {
		return err
	}
	return c.Client.Update(ctx, obj, opts...)
}

func (c leaseClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	if err := c.check("patch", obj); err != nil {
		return err
	}
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func (c leaseClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	if err := c.check("apply", obj); err != nil {
		return err
	}
	return c.Client.Apply(ctx, obj, opts...)
}

func (c leaseClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	if err := c.check("delete", obj); err != nil {
		return err
	}
	return c.Client.Delete(ctx, obj, opts...)
}

func (c leaseClient) DeleteAllOf(ctx context.Context, obj client.Object, opts ...client.DeleteAllOfOption) error {
	if err := c.check("delete", obj); err != nil {
		return err
	}
	return c.Client.DeleteAllOf(ctx, obj, opts...)
}

func (c leaseClient) Status() client.SubResourceWriter {
	return leaseSubResource{SubResourceWriter: c.Client.Status(), c: c}
}

func (c leaseClient) SubResource(name string) client.SubResourceClient {
	sub := c.Client.SubResource(name)
	return struct {
		client.SubResourceReader
		client.SubResourceWriter
	}{sub, leaseSubResource{SubResourceWriter: sub, c: c}}
}

// leaseSubResource writes a subresource only while the lease is held.
type leaseSubResource struct {
	client.SubResourceWriter
	c leaseClient
}

func (s leaseSubResource) Create(ctx context.Context, obj, sub client.Object, opts ...client.SubResourceCreateOption) error {
	if err := s.c.check("create", obj); err != nil {
		return err
	}
	return s.SubResourceWriter.Create(ctx, obj, sub, opts...)
}

func (s leaseSubResource) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if err := s.c.check("update", obj); err != nil {
		return err
	}
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}

func (s leaseSubResource) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	if err := s.c.check("patch", obj); err != nil {
		return err
	}
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

func (s leaseSubResource) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
	if err := s.c.check("apply", obj); err != nil {
		return err
	}
	return s.SubResourceWriter.Apply(ctx, obj, opts...)
}
