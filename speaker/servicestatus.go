package speaker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
)

// Labels of the per-Service status objects, as MetalLB sets them.
const (
	labelNode             = "metallb.io/node"
	labelServiceName      = "metallb.io/service-name"
	labelServiceNamespace = "metallb.io/service-namespace"
)

// serviceRef names a Service.
type serviceRef struct{ Namespace, Name string }

// statusObjectName is the stable name of a node's status object for a
// Service, so a restart finds and updates its own objects.
func statusObjectName(prefix, node string, s serviceRef) string {
	sum := sha256.Sum256([]byte(node + "\x00" + s.Namespace + "\x00" + s.Name))
	return prefix + "-" + hex.EncodeToString(sum[:8])
}

// syncBGPStatuses makes the node's ServiceBGPStatus objects match want:
// one per Service announced by the node, listing its peers.
func syncBGPStatuses(ctx context.Context, c client.Client, ns, node string, want map[serviceRef][]string) error {
	var list v1beta1.ServiceBGPStatusList
	if err := c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{labelNode: node}); err != nil {
		return fmt.Errorf("listing ServiceBGPStatus: %w", err)
	}
	var errs []error
	seen := map[serviceRef]bool{}
	for i := range list.Items {
		obj := &list.Items[i]
		ref := serviceRef{Namespace: obj.Status.ServiceNamespace, Name: obj.Status.ServiceName}
		peers, ok := want[ref]
		if !ok || seen[ref] {
			if err := c.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting ServiceBGPStatus %s: %w", obj.Name, err))
			}
			continue
		}
		seen[ref] = true
		if slices.Equal(obj.Status.Peers, peers) {
			continue
		}
		obj.Status.Peers = peers
		if err := c.Status().Update(ctx, obj); err != nil {
			errs = append(errs, fmt.Errorf("updating ServiceBGPStatus %s: %w", obj.Name, err))
		}
	}
	for ref, peers := range want {
		if seen[ref] {
			continue
		}
		obj := &v1beta1.ServiceBGPStatus{ObjectMeta: metav1.ObjectMeta{
			Namespace: ns,
			Name:      statusObjectName("bgp-"+node, node, ref),
			Labels:    map[string]string{labelNode: node, labelServiceName: ref.Name, labelServiceNamespace: ref.Namespace},
		}}
		if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			errs = append(errs, fmt.Errorf("creating ServiceBGPStatus for %s/%s: %w", ref.Namespace, ref.Name, err))
			continue
		}
		obj.Status = v1beta1.MetalLBServiceBGPStatus{Node: node, ServiceName: ref.Name, ServiceNamespace: ref.Namespace, Peers: peers}
		if err := c.Status().Update(ctx, obj); err != nil {
			errs = append(errs, fmt.Errorf("writing ServiceBGPStatus for %s/%s: %w", ref.Namespace, ref.Name, err))
		}
	}
	return errors.Join(errs...)
}

// syncL2Statuses makes the node's ServiceL2Status objects match want:
// one per Service whose IPs the node answers for, with the interfaces.
func syncL2Statuses(ctx context.Context, c client.Client, ns, node string, want map[serviceRef][]string) error {
	var list v1beta1.ServiceL2StatusList
	if err := c.List(ctx, &list, client.InNamespace(ns), client.MatchingLabels{labelNode: node}); err != nil {
		return fmt.Errorf("listing ServiceL2Status: %w", err)
	}
	ifaces := func(names []string) []v1beta1.InterfaceInfo {
		out := make([]v1beta1.InterfaceInfo, 0, len(names))
		for _, n := range names {
			out = append(out, v1beta1.InterfaceInfo{Name: n})
		}
		return out
	}
	var errs []error
	seen := map[serviceRef]bool{}
	for i := range list.Items {
		obj := &list.Items[i]
		ref := serviceRef{Namespace: obj.Status.ServiceNamespace, Name: obj.Status.ServiceName}
		names, ok := want[ref]
		if !ok || seen[ref] {
			if err := c.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting ServiceL2Status %s: %w", obj.Name, err))
			}
			continue
		}
		seen[ref] = true
		if slices.Equal(obj.Status.Interfaces, ifaces(names)) {
			continue
		}
		obj.Status.Interfaces = ifaces(names)
		if err := c.Status().Update(ctx, obj); err != nil {
			errs = append(errs, fmt.Errorf("updating ServiceL2Status %s: %w", obj.Name, err))
		}
	}
	for ref, names := range want {
		if seen[ref] {
			continue
		}
		obj := &v1beta1.ServiceL2Status{ObjectMeta: metav1.ObjectMeta{
			Namespace: ns,
			Name:      statusObjectName("l2-"+node, node, ref),
			Labels:    map[string]string{labelNode: node, labelServiceName: ref.Name, labelServiceNamespace: ref.Namespace},
		}}
		if err := c.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			errs = append(errs, fmt.Errorf("creating ServiceL2Status for %s/%s: %w", ref.Namespace, ref.Name, err))
			continue
		}
		obj.Status = v1beta1.MetalLBServiceL2Status{Node: node, ServiceName: ref.Name, ServiceNamespace: ref.Namespace, Interfaces: ifaces(names)}
		if err := c.Status().Update(ctx, obj); err != nil {
			errs = append(errs, fmt.Errorf("writing ServiceL2Status for %s/%s: %w", ref.Namespace, ref.Name, err))
		}
	}
	return errors.Join(errs...)
}
