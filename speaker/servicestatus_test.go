package speaker

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/internal/testenv"
)

// l2StatusNS and l2StatusNode are where, and for which node, the
// ServiceL2Status tests write status objects.
const (
	l2StatusNS   = "metallb-system"
	l2StatusNode = "n1"
)

// startL2Status starts a real API server with the namespace l2StatusNS,
// creates objs there, and has l2StatusNode write its status of ref on
// eth0 with syncL2Statuses. It returns the client and the status objects
// listed after that first write (one), as the node's cache would hold
// them.
func startL2Status(t *testing.T, ref serviceRef, objs ...client.Object) (client.Client, v1beta1.ServiceL2StatusList) {
	t.Helper()
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	c := env.Client
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: l2StatusNS}}); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	if err := syncL2Statuses(ctx, c, l2StatusNS, l2StatusNode, map[serviceRef][]string{ref: {"eth0"}}); err != nil {
		t.Fatal(err)
	}
	var cached v1beta1.ServiceL2StatusList
	if err := c.List(ctx, &cached, client.InNamespace(l2StatusNS)); err != nil || len(cached.Items) != 1 {
		t.Fatalf("listing the status objects: %v, %d objects, want 1", err, len(cached.Items))
	}
	return c, cached
}

// TestSyncL2StatusAdoptsObjectWithoutStatus checks, against a real API
// server, that a status object the node created but whose status is
// not written yet (as a cache may show it between the two requests) is
// completed, not deleted as stale and made again: a full e2e run saw
// the owner's ServiceL2Status vanish for a moment that way.
func TestSyncL2StatusAdoptsObjectWithoutStatus(t *testing.T) {
	ref := serviceRef{Namespace: "default", Name: "web"}
	half := &v1beta1.ServiceL2Status{ObjectMeta: metav1.ObjectMeta{
		Namespace: l2StatusNS,
		Name:      statusObjectName(statusPrefix("l2", l2StatusNode), l2StatusNode, ref),
		Labels:    map[string]string{labelNode: l2StatusNode, labelServiceName: ref.Name, labelServiceNamespace: ref.Namespace},
	}}
	c, _ := startL2Status(t, ref, half)
	ctx := t.Context()

	var got v1beta1.ServiceL2Status
	if err := c.Get(ctx, client.ObjectKeyFromObject(half), &got); err != nil {
		t.Fatalf("the half-written status is gone: %v", err)
	}
	if got.UID != half.UID {
		t.Errorf("the status object was deleted and made again (uid %s, was %s)", got.UID, half.UID)
	}
	s := got.Status
	if s.Node != l2StatusNode || s.ServiceNamespace != ref.Namespace || s.ServiceName != ref.Name || len(s.Interfaces) != 1 || s.Interfaces[0].Name != "eth0" {
		t.Errorf("status = %+v, want node %s, service %v on eth0", s, l2StatusNode, ref)
	}
}

// staleList is a client whose List answers from a snapshot taken
// earlier, as the speaker's cache does until a deletion reaches it.
type staleList struct {
	client.Client
	l2 v1beta1.ServiceL2StatusList
}

func (s staleList) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	s.l2.DeepCopyInto(list.(*v1beta1.ServiceL2StatusList))
	return nil
}

// TestSyncL2StatusRemakesObjectDeletedUnderTheCache checks, against a
// real API server, that a node's status object that another node
// deleted while this node's cache still holds it is made again, with no
// error: on real nodes, a speaker that started before the others saw it
// live had its ServiceL2Status cleared as stale by the owner of the
// moment, and logged "updating ServiceL2Status ...: not found".
func TestSyncL2StatusRemakesObjectDeletedUnderTheCache(t *testing.T) {
	ref := serviceRef{Namespace: "default", Name: "web"}
	c, cached := startL2Status(t, ref)
	ctx := t.Context()
	old := cached.Items[0]
	if err := c.Delete(ctx, &old); err != nil {
		t.Fatal(err)
	}

	// The interfaces changed, so the cached object is updated.
	if err := syncL2Statuses(ctx, staleList{Client: c, l2: cached}, l2StatusNS, l2StatusNode, map[serviceRef][]string{ref: {"eth1"}}); err != nil {
		t.Fatalf("sync over a stale cache: %v", err)
	}

	var got v1beta1.ServiceL2Status
	if err := c.Get(ctx, client.ObjectKeyFromObject(&old), &got); err != nil {
		t.Fatalf("the status object was not made again: %v", err)
	}
	if got.UID == old.UID {
		t.Errorf("the status object has the deleted one's uid %s", got.UID)
	}
	s := got.Status
	if s.Node != l2StatusNode || s.ServiceName != ref.Name || len(s.Interfaces) != 1 || s.Interfaces[0].Name != "eth1" {
		t.Errorf("status = %+v, want node %s, service %v on eth1", s, l2StatusNode, ref)
	}
}

// TestSyncL2StatusOverAStaleVersion checks, against a real API server,
// that the node's write of its own status object does not fail when its
// cache holds an older version of it (the node's previous write not seen
// yet): on real nodes the reconcile failed with a conflict right after
// the install.
func TestSyncL2StatusOverAStaleVersion(t *testing.T) {
	ref := serviceRef{Namespace: "default", Name: "web"}
	c, cached := startL2Status(t, ref)
	ctx := t.Context()
	if err := syncL2Statuses(ctx, c, l2StatusNS, l2StatusNode, map[serviceRef][]string{ref: {"eth1"}}); err != nil {
		t.Fatal(err)
	}

	// The cache still has the first version (eth0).
	if err := syncL2Statuses(ctx, staleList{Client: c, l2: cached}, l2StatusNS, l2StatusNode, map[serviceRef][]string{ref: {"eth2"}}); err != nil {
		t.Fatalf("sync over a stale version: %v", err)
	}
	var got v1beta1.ServiceL2Status
	if err := c.Get(ctx, client.ObjectKeyFromObject(&cached.Items[0]), &got); err != nil {
		t.Fatal(err)
	}
	if s := got.Status; len(s.Interfaces) != 1 || s.Interfaces[0].Name != "eth2" || s.ServiceName != ref.Name {
		t.Errorf("status = %+v, want service %v on eth2", s, ref)
	}
}
