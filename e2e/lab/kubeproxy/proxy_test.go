package kubeproxy

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// memTable is an AddrTable in memory.
type memTable struct {
	mu    sync.Mutex
	addrs []netip.Addr
}

func (m *memTable) Addrs() ([]netip.Addr, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.addrs), nil
}

func (m *memTable) Add(a netip.Addr) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.addrs = append(m.addrs, a)
	return nil
}

func (m *memTable) Del(a netip.Addr) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.addrs = slices.DeleteFunc(m.addrs, func(x netip.Addr) bool { return x == a })
	return nil
}

func (m *memTable) sorted() []netip.Addr {
	got, _ := m.Addrs()
	slices.SortFunc(got, netip.Addr.Compare)
	return got
}

// waitTable waits (bounded) until the table holds want.
func waitTable(t *testing.T, table *memTable, want []netip.Addr) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !slices.Equal(table.sorted(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("table = %v, want %v", table.sorted(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProxyFollowsServices(t *testing.T) {
	svc := lbService(corev1.ServiceTypeLoadBalancer, "203.0.113.5", "2001:db8:0:100::5")
	svc.ObjectMeta = metav1.ObjectMeta{Namespace: "lab", Name: "web"}
	cs := fake.NewClientset(svc)
	// A stale address from an earlier run goes away.
	table := &memTable{addrs: addrs("192.0.2.222")}
	p, err := New(Config{Node: "ilb-n1", HTTPAddr: "127.0.0.1:0", Client: cs}, table)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	waitTable(t, table, addrs("203.0.113.5", "2001:db8:0:100::5"))

	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.6"}}
	if _, err := cs.CoreV1().Services("lab").UpdateStatus(t.Context(), svc, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("updating service: %v", err)
	}
	waitTable(t, table, addrs("203.0.113.6"))

	if err := cs.CoreV1().Services("lab").Delete(t.Context(), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("deleting service: %v", err)
	}
	waitTable(t, table, nil)

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run() = %v after cancel, want nil", err)
	}
}

func TestNewValidates(t *testing.T) {
	if _, err := New(Config{Client: fake.NewClientset()}, &memTable{}); err == nil {
		t.Errorf("New without a node name: no error")
	}
	if _, err := New(Config{Node: "n"}, &memTable{}); err == nil {
		t.Errorf("New without a client: no error")
	}
}
