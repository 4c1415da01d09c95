package ipam

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// refModel is a trivial allocator over small pools: it lists every address
// and scans them all, so it is obviously right and hopelessly slow. The
// property test checks the Allocator against it.
type refModel struct {
	pools []refPool
	users map[netip.Addr][]refUser
	held  map[string]result
	reqs  map[string]Request
}

type refPool struct {
	name  string
	addrs []netip.Addr // every address of the pool, sorted
	avoid bool
}

type refUser struct {
	key     string
	sharing Sharing
}

func newRefModel(pools []Pool) *refModel {
	m := &refModel{users: map[netip.Addr][]refUser{}, held: map[string]result{}, reqs: map[string]Request{}}
	for _, p := range pools {
		rp := refPool{name: p.Name, avoid: p.AvoidBuggyIPs}
		for _, r := range p.Ranges {
			for ip := r.First; ip.IsValid() && ip.Compare(r.Last) <= 0; ip = ip.Next() {
				rp.addrs = append(rp.addrs, ip)
			}
		}
		slices.SortFunc(rp.addrs, netip.Addr.Compare)
		m.pools = append(m.pools, rp)
	}
	return m
}

func (m *refModel) pool(name string) refPool {
	for _, p := range m.pools {
		if p.name == name {
			return p
		}
	}
	panic("no pool " + name)
}

// refuse says why key with sharing sh may not use ip, or 0.
func (m *refModel) refuse(ip netip.Addr, key string, sh Sharing) Reason {
	for _, u := range m.users[ip] {
		switch {
		case u.key == key:
		case sh.Key == "" || u.sharing.Key == "":
			return ReasonNotShareable
		case sh.Key != u.sharing.Key:
			return ReasonSharingKeyMismatch
		case sh.Backend != u.sharing.Backend:
			return ReasonBackendMismatch
		default:
			for _, p := range sh.Ports {
				if slices.Contains(u.sharing.Ports, p) {
					return ReasonPortsOverlap
				}
			}
		}
	}
	return 0
}

// allocate handles single-stack requests for keys that hold nothing.
func (m *refModel) allocate(r Request) (result, bool) {
	f := r.Families[0]
	pick := func(shared bool) (result, bool) {
		for _, name := range r.Pools {
			p := m.pool(name)
			for _, ip := range p.addrs {
				if familyOf(ip) != f || (p.avoid && isBuggy(ip)) || (len(m.users[ip]) > 0) != shared {
					continue
				}
				if m.refuse(ip, r.Key, r.Sharing) == 0 {
					return result{IPs: []string{ip.String()}, Pool: p.name}, true
				}
			}
		}
		return result{}, false
	}
	res, ok := result{}, false
	if r.Sharing.Key != "" {
		res, ok = pick(true)
	}
	if !ok {
		res, ok = pick(false)
	}
	if ok {
		m.record(r.Key, res, r.Sharing)
		m.reqs[r.Key] = r
	}
	return res, ok
}

func (m *refModel) assign(key string, ip netip.Addr, sh Sharing, allowed []string) Reason {
	for _, p := range m.pools {
		if !slices.Contains(p.addrs, ip) {
			continue
		}
		switch {
		case !slices.Contains(allowed, p.name):
			return ReasonPoolNotAllowed
		case p.avoid && isBuggy(ip):
			return ReasonBuggyIP
		}
		if why := m.refuse(ip, key, sh); why != 0 {
			return why
		}
		m.release(key)
		m.record(key, result{IPs: []string{ip.String()}, Pool: p.name}, sh)
		return 0
	}
	return ReasonNotInAnyPool
}

func (m *refModel) record(key string, res result, sh Sharing) {
	m.held[key] = res
	for _, s := range res.IPs {
		ip := netip.MustParseAddr(s)
		m.users[ip] = append(m.users[ip], refUser{key: key, sharing: sh})
	}
}

func (m *refModel) release(key string) {
	for _, s := range m.held[key].IPs {
		ip := netip.MustParseAddr(s)
		m.users[ip] = slices.DeleteFunc(m.users[ip], func(u refUser) bool { return u.key == key })
		if len(m.users[ip]) == 0 {
			delete(m.users, ip)
		}
	}
	delete(m.held, key)
	delete(m.reqs, key)
}

func (m *refModel) usage(name string) Usage {
	var u [2]FamilyUsage
	p := m.pool(name)
	for _, ip := range p.addrs {
		f := familyOf(ip).index()
		switch {
		case len(m.users[ip]) > 0:
			u[f].Assigned++
		case !p.avoid || !isBuggy(ip):
			u[f].Available++
		}
	}
	return Usage{IPv4: u[0], IPv6: u[1]}
}

func TestAllocatorMatchesModel(t *testing.T) {
	pools := []Pool{
		mkPool("a", true, "192.0.2.0/27", "192.0.2.250-192.0.3.3", "2001:db8::/126"),
		mkPool("b", false, "198.51.100.0/29", "2001:db8:1:0:ffff:ffff:ffff:fffe-2001:db8:1:1::1"),
	}
	var all []netip.Addr
	for _, p := range newRefModel(pools).pools {
		all = append(all, p.addrs...)
	}
	all = append(all, netip.MustParseAddr("203.0.113.1"))
	ports := []Port{tcp(80), tcp(443), udp(53)}
	const keys = 100
	for seed := range uint64(8) {
		t.Run("seed="+strconv.FormatUint(seed, 10), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			a := newAllocator(t, pools...)
			m := newRefModel(pools)
			randomRequest := func(key string) Request {
				r := Request{Key: key, Families: []Family{IPv4}}
				if rng.IntN(4) == 0 {
					r.Families[0] = IPv6
				}
				r.Pools = [][]string{{"a"}, {"b"}, {"a", "b"}, {"b", "a"}}[rng.IntN(4)]
				r.Sharing.Key = []string{"", "", "s1", "s2"}[rng.IntN(4)]
				r.Sharing.Backend = []string{"x", "y"}[rng.IntN(2)]
				for _, p := range ports {
					if rng.IntN(2) == 0 {
						r.Sharing.Ports = append(r.Sharing.Ports, p)
					}
				}
				return r
			}
			fulls := 0
			for step := range 3000 {
				key := "ns/svc-" + strconv.Itoa(rng.IntN(keys))
				switch op := rng.IntN(10); {
				case op < 5:
					r := randomRequest(key)
					if old, held := m.reqs[key]; held {
						r = old // asking again must change nothing
					}
					want, wantOK := m.held[key], true
					if _, held := m.reqs[key]; !held {
						want, wantOK = m.allocate(r)
					}
					ips, pool, err := a.Allocate(r)
					var full *PoolsFullError
					if err != nil && !errors.As(err, &full) {
						t.Fatalf("step %d: Allocate(%v): %v", step, r, err)
					}
					if got := toResult(ips, pool); !slices.Equal(want.IPs, got.IPs) || want.Pool != got.Pool || wantOK != (err == nil) {
						t.Fatalf("step %d: Allocate(%v) err=%v (-model +allocator):\n%s", step, r, err, cmp.Diff(want, got))
					}
					if err != nil {
						fulls++
					}
				case op < 8:
					m.release(key)
					a.Release(key)
				default:
					ip := all[rng.IntN(len(all))]
					r := randomRequest(key)
					want := m.assign(key, ip, r.Sharing, r.Pools)
					var got Reason
					var ae *AssignError
					if err := a.Assign(key, []netip.Addr{ip}, r.Sharing, r.Pools); errors.As(err, &ae) {
						got = ae.Reason
					} else if err != nil {
						t.Fatalf("step %d: Assign: %v", step, err)
					}
					if got != want {
						t.Fatalf("step %d: Assign(%s, %s, %+v, %v) reason = %d, model says %d", step, key, ip, r.Sharing, r.Pools, got, want)
					}
					if want == 0 {
						// The model has no request for assigned keys; allocating
						// them again is only checked through Holding.
						delete(m.reqs, key)
						m.reqs[key] = Request{Key: key, Pools: r.Pools, Families: []Family{familyOf(ip)}, Sharing: r.Sharing}
					}
				}
				if step%10 != 0 {
					continue
				}
				for i := range keys {
					k := "ns/svc-" + strconv.Itoa(i)
					want, got := m.held[k], toResult(a.Holding(k))
					if !slices.Equal(want.IPs, got.IPs) || want.Pool != got.Pool {
						t.Fatalf("step %d: Holding(%s) (-model +allocator):\n%s", step, k, cmp.Diff(want, got))
					}
				}
				for _, p := range pools {
					want, got := m.usage(p.Name), must(a.Usage(p.Name))
					if want != got {
						t.Fatalf("step %d: Usage(%s) (-model +allocator):\n%s", step, p.Name, cmp.Diff(want, got))
					}
				}
			}
			if fulls == 0 {
				t.Errorf("no allocation failed: the pools never filled up")
			}
		})
	}
}

func must[T any](v T, ok bool) T {
	if !ok {
		panic("not found")
	}
	return v
}
