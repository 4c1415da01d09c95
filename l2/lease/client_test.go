package lease

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/internal/testenv"
)

func TestName(t *testing.T) {
	tests := []struct {
		ip   string
		want string
	}{
		{"192.0.2.10", "ironlb-l2-192.0.2.10"},
		{"::ffff:192.0.2.10", "ironlb-l2-192.0.2.10"},
		{"2001:db8::10", "ironlb-l2-2001-0db8-0000-0000-0000-0000-0000-0010"},
		{"2001:db8::", "ironlb-l2-2001-0db8-0000-0000-0000-0000-0000-0000"},
	}
	for _, tt := range tests {
		if got := Name(netip.MustParseAddr(tt.ip)); got != tt.want {
			t.Errorf("Name(%s) = %q, want %q", tt.ip, got, tt.want)
		}
	}
}

// TestClient runs the Lease client against a real API server: two nodes
// compete for one IP's Lease.
func TestClient(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	const ns = "ironlb-lease"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	node := func(name string) *Client {
		return &Client{Reader: env.Client, Writer: env.Client, Namespace: ns, Node: name, Duration: 1500 * time.Millisecond}
	}
	n1, n2 := node("n1"), node("n2")
	ip := netip.MustParseAddr("2001:db8::10")
	other := netip.MustParseAddr("192.0.2.10")
	holder := func(r Record) Record { return Record{Holder: r.Holder, Duration: r.Duration} }

	missing, err := n1.Get(ctx, ip)
	if err != nil || missing != (Record{}) {
		t.Fatalf("Get of a missing lease = %+v, %v; want the zero record", missing, err)
	}

	// Acquire creates it, labelled and annotated.
	r1, err := n1.Acquire(ctx, ip, missing)
	if err != nil {
		t.Fatalf("n1 acquires: %v", err)
	}
	if diff := cmp.Diff(Record{Holder: "n1", Duration: 2 * time.Second}, holder(r1)); diff != "" {
		t.Errorf("n1's record (-want +got):\n%s", diff)
	}
	var obj coordinationv1.Lease
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: Name(ip)}, &obj); err != nil {
		t.Fatal(err)
	}
	if obj.Labels[LabelComponent] != ComponentValue || obj.Labels[LabelManagedBy] != ManagedByValue || obj.Annotations[AnnotationServiceIP] != "2001:db8::10" {
		t.Errorf("lease labels %v, annotations %v", obj.Labels, obj.Annotations)
	}
	if obj.Spec.RenewTime == nil || obj.Spec.AcquireTime == nil {
		t.Errorf("lease spec %+v: want acquire and renew times", obj.Spec)
	}

	// n2, which also saw it missing, loses the create race.
	got, err := n2.Acquire(ctx, ip, missing)
	if !errors.Is(err, ErrChanged) || holder(got).Holder != "n1" {
		t.Fatalf("n2 acquires over a stale record: %+v, %v; want ErrChanged and n1 as holder", got, err)
	}

	// n1 renews; n2, which read the record before the renewal, cannot
	// take it over that record.
	seen, err := n2.Get(ctx, ip)
	if err != nil || seen != r1 {
		t.Fatalf("n2 reads %+v, %v; want %+v", seen, err, r1)
	}
	r2, err := n1.Renew(ctx, ip, r1)
	if err != nil || r2.Holder != "n1" || r2.Version == r1.Version {
		t.Fatalf("n1 renews: %+v, %v", r2, err)
	}
	if got, err := n2.Acquire(ctx, ip, seen); !errors.Is(err, ErrChanged) || got != r2 {
		t.Fatalf("n2 acquires over the record before the renewal: %+v, %v; want ErrChanged and %+v", got, err, r2)
	}

	// Expiry: n1 stops renewing; n2 takes it over the unchanged record,
	// after which n1's renewal fails.
	r3, err := n2.Acquire(ctx, ip, r2)
	if err != nil || r3.Holder != "n2" {
		t.Fatalf("n2 takes over the unchanged record: %+v, %v", r3, err)
	}
	if got, err := n1.Renew(ctx, ip, r2); !errors.Is(err, ErrChanged) || got.Holder != "n2" {
		t.Fatalf("n1 renews after the takeover: %+v, %v; want ErrChanged and n2 as holder", got, err)
	}

	// Release: no holder; n1 acquires it at once.
	r4, err := n2.Release(ctx, ip, r3)
	if err != nil || r4.Holder != "" || r4.Version == "" {
		t.Fatalf("n2 releases: %+v, %v", r4, err)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: Name(ip)}, &obj); err != nil {
		t.Fatal(err)
	}
	if obj.Spec.HolderIdentity != nil || obj.Spec.RenewTime != nil {
		t.Errorf("released lease spec %+v: want no holder and no renew time", obj.Spec)
	}
	r5, err := n1.Acquire(ctx, ip, r4)
	if err != nil || r5.Holder != "n1" {
		t.Fatalf("n1 acquires the released lease: %+v, %v", r5, err)
	}

	// List finds both IPs' Leases; Delete needs the current version.
	if _, err := n2.Acquire(ctx, other, Record{}); err != nil {
		t.Fatal(err)
	}
	listed, err := n1.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ips []string
	for _, l := range listed {
		ips = append(ips, l.IP.String()+"="+l.Record.Holder)
	}
	if diff := cmp.Diff([]string{"192.0.2.10=n2", "2001:db8::10=n1"}, ips); diff != "" {
		t.Errorf("listed (-want +got):\n%s", diff)
	}
	if err := n2.Delete(ctx, ip, r4); err != nil {
		t.Fatalf("delete over a stale record: %v", err)
	}
	if got, err := n2.Get(ctx, ip); err != nil || got != r5 {
		t.Fatalf("after a stale delete: %+v, %v; want it kept as %+v", got, err, r5)
	}
	if err := n2.Delete(ctx, ip, r5); err != nil {
		t.Fatal(err)
	}
	if got, err := n2.Get(ctx, ip); err != nil || got != (Record{}) {
		t.Fatalf("after the delete: %+v, %v; want it gone", got, err)
	}
	if got, err := n1.Renew(ctx, ip, r5); !errors.Is(err, ErrChanged) || got != (Record{}) {
		t.Fatalf("renewing a deleted lease: %+v, %v; want ErrChanged and the zero record", got, err)
	}
}
