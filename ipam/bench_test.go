package ipam

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// BenchmarkAllocate allocates n single-stack services into a fresh
// allocator per iteration: ns/op is the time for all n, and ns/alloc the
// time per service. A /16 holds only 65,536 addresses, so the 100,000
// services case of the /16 uses a /15 instead.
func BenchmarkAllocate(b *testing.B) {
	tests := []struct {
		name  string
		cidr  string
		avoid bool
		fam   Family
		n     int
		share int // services per sharing key, 0 for exclusive IPs
	}{
		{name: "v4_16/n=10000", cidr: "10.0.0.0/16", fam: IPv4, n: 10_000},
		{name: "v4_16_avoidbuggy/n=10000", cidr: "10.0.0.0/16", avoid: true, fam: IPv4, n: 10_000},
		{name: "v4_16_shared8/n=10000", cidr: "10.0.0.0/16", fam: IPv4, n: 10_000, share: 8},
		{name: "v4_15/n=100000", cidr: "10.0.0.0/15", fam: IPv4, n: 100_000},
		{name: "v4_8/n=10000", cidr: "10.0.0.0/8", fam: IPv4, n: 10_000},
		{name: "v4_8/n=100000", cidr: "10.0.0.0/8", fam: IPv4, n: 100_000},
		{name: "v6_64/n=10000", cidr: "2001:db8::/64", fam: IPv6, n: 10_000},
		{name: "v6_64/n=100000", cidr: "2001:db8::/64", fam: IPv6, n: 100_000},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			pools := []Pool{mkPool("p", tt.avoid, tt.cidr)}
			reqs := make([]Request, tt.n)
			for i := range reqs {
				reqs[i] = Request{Key: "ns/svc-" + strconv.Itoa(i), Pools: []string{"p"}, Families: []Family{tt.fam}}
				if tt.share > 0 {
					group := i / tt.share
					reqs[i].Sharing = Sharing{
						Key:     "share-" + strconv.Itoa(group),
						Backend: "backend-" + strconv.Itoa(group),
						Ports:   []Port{tcp(int32(8000 + i%tt.share))},
					}
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				a, err := New(pools)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range reqs {
					if _, _, err := a.Allocate(r); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tt.n), "ns/alloc")
		})
	}
}

// BenchmarkChurn releases a random service and allocates it again, with n
// services held in a pool fragmented into n single-address holes: each
// op is one Release and one Allocate.
func BenchmarkChurn(b *testing.B) {
	tests := []struct {
		name string
		cidr string
		fam  Family
		n    int
	}{
		{name: "v4_16/n=10000", cidr: "10.0.0.0/16", fam: IPv4, n: 10_000},
		{name: "v4_8/n=100000", cidr: "10.0.0.0/8", fam: IPv4, n: 100_000},
		{name: "v6_64/n=100000", cidr: "2001:db8::/64", fam: IPv6, n: 100_000},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			a := newAllocator(b, mkPool("p", false, tt.cidr))
			reqs := make([]Request, 2*tt.n)
			for i := range reqs {
				reqs[i] = Request{Key: "ns/svc-" + strconv.Itoa(i), Pools: []string{"p"}, Families: []Family{tt.fam}}
				mustAllocate(b, a, reqs[i])
			}
			for i := 1; i < len(reqs); i += 2 {
				a.Release(reqs[i].Key)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			for b.Loop() {
				r := reqs[2*rng.IntN(tt.n)]
				a.Release(r.Key)
				if _, _, err := a.Allocate(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
