package speaker

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/internal/testenv"
)

// TestSyncL2StatusAdoptsObjectWithoutStatus checks, against a real API
// server, that a status object the node created but whose status is
// not written yet (as a cache may show it between the two requests) is
// completed, not deleted as stale and made again: a full e2e run saw
// the owner's ServiceL2Status vanish for a moment that way.
func TestSyncL2StatusAdoptsObjectWithoutStatus(t *testing.T) {
	const (
		statusNS = "metallb-system"
		node     = "n1"
	)
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	c := env.Client
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: statusNS}}); err != nil {
		t.Fatal(err)
	}
	ref := serviceRef{Namespace: "default", Name: "web"}
	half := &v1beta1.ServiceL2Status{ObjectMeta: metav1.ObjectMeta{
		Namespace: statusNS,
		Name:      statusObjectName(statusPrefix("l2", node), node, ref),
		Labels:    map[string]string{labelNode: node, labelServiceName: ref.Name, labelServiceNamespace: ref.Namespace},
	}}
	if err := c.Create(ctx, half); err != nil {
		t.Fatal(err)
	}

	if err := syncL2Statuses(ctx, c, statusNS, node, map[serviceRef][]string{ref: {"eth0"}}); err != nil {
		t.Fatal(err)
	}

	var got v1beta1.ServiceL2Status
	if err := c.Get(ctx, client.ObjectKeyFromObject(half), &got); err != nil {
		t.Fatalf("the half-written status is gone: %v", err)
	}
	if got.UID != half.UID {
		t.Errorf("the status object was deleted and made again (uid %s, was %s)", got.UID, half.UID)
	}
	s := got.Status
	if s.Node != node || s.ServiceNamespace != ref.Namespace || s.ServiceName != ref.Name || len(s.Interfaces) != 1 || s.Interfaces[0].Name != "eth0" {
		t.Errorf("status = %+v, want node %s, service %v on eth0", s, node, ref)
	}
}
