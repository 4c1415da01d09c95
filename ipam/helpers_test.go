package ipam

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// addrComparer lets cmp compare netip.Addr values.
var addrComparer = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// mkPool builds a Pool from range strings; it panics on a bad range,
// which is a bug in the test table.
func mkPool(name string, avoidBuggy bool, ranges ...string) Pool {
	p := Pool{Name: name, AvoidBuggyIPs: avoidBuggy}
	for _, s := range ranges {
		r, err := ParseRange(s)
		if err != nil {
			panic(err)
		}
		p.Ranges = append(p.Ranges, r)
	}
	return p
}

func newAllocator(t testing.TB, pools ...Pool) *Allocator {
	t.Helper()
	a, err := New(pools)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

// v4 is a single-stack IPv4 request.
func v4(key string, pools ...string) Request {
	return Request{Key: key, Pools: pools, Families: []Family{IPv4}}
}

// v6 is a single-stack IPv6 request.
func v6(key string, pools ...string) Request {
	return Request{Key: key, Pools: pools, Families: []Family{IPv6}}
}

// shared returns r with sharing settings.
func shared(r Request, key, backend string, ports ...Port) Request {
	r.Sharing = Sharing{Key: key, Backend: backend, Ports: ports}
	return r
}

func tcp(n int32) Port { return Port{Protocol: "TCP", Number: n} }

func udp(n int32) Port { return Port{Protocol: "UDP", Number: n} }

// result is what Allocate returned, in a form cmp can print.
type result struct {
	IPs  []string
	Pool string
}

func toResult(ips []netip.Addr, pool string) result {
	r := result{Pool: pool}
	for _, ip := range ips {
		r.IPs = append(r.IPs, ip.String())
	}
	return r
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// mustAllocate allocates r and fails the test on error.
func mustAllocate(t testing.TB, a *Allocator, r Request) result {
	t.Helper()
	ips, pool, err := a.Allocate(r)
	if err != nil {
		t.Fatalf("Allocate(%s): %v", r.Key, err)
	}
	return toResult(ips, pool)
}
