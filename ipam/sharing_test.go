package ipam

import "testing"

func TestAllocateSharing(t *testing.T) {
	p := []Pool{mkPool("p", false, "192.0.2.0/29")}
	two := []Pool{mkPool("a", false, "192.0.2.0/29"), mkPool("b", false, "198.51.100.0/29")}
	dual := []Pool{mkPool("d", false, "192.0.2.0/29", "2001:db8::/125")}
	web := shared(v4("ns/web", "p"), "k", "backend", tcp(80))
	on := func(ip string) result { return result{IPs: []string{ip}, Pool: "p"} }
	require := func(key string) Request {
		return Request{Key: key, Pools: []string{"d"}, Families: []Family{IPv4, IPv6}, Policy: RequireDualStack}
	}
	runAllocCases(t, []allocCase{
		{name: "compatible: same key and backend, other port", pools: p, before: []Request{web},
			input: shared(v4("ns/s", "p"), "k", "backend", tcp(443)), want: on("192.0.2.0")},
		{name: "same port number, other protocol", pools: p, before: []Request{web},
			input: shared(v4("ns/s", "p"), "k", "backend", udp(80)), want: on("192.0.2.0")},
		{name: "no ports at all", pools: p, before: []Request{web},
			input: shared(v4("ns/s", "p"), "k", "backend"), want: on("192.0.2.0")},
		{name: "ports overlap", pools: p, before: []Request{web},
			input: shared(v4("ns/s", "p"), "k", "backend", udp(53), tcp(80)), want: on("192.0.2.1")},
		{name: "backend mismatch", pools: p, before: []Request{web},
			input: shared(v4("ns/s", "p"), "k", "other", tcp(443)), want: on("192.0.2.1")},
		{name: "sharing key mismatch", pools: p, before: []Request{web},
			input: shared(v4("ns/s", "p"), "other", "backend", tcp(443)), want: on("192.0.2.1")},
		{name: "new service not shareable", pools: p, before: []Request{web},
			input: v4("ns/s", "p"), want: on("192.0.2.1")},
		{name: "existing service not shareable", pools: p, before: []Request{v4("ns/web", "p")},
			input: shared(v4("ns/s", "p"), "k", "backend", tcp(443)), want: on("192.0.2.1")},
		{name: "lowest compatible shared IP", pools: p,
			before: []Request{
				web,
				shared(v4("ns/web2", "p"), "k", "backend", tcp(80)),
				shared(v4("ns/dns", "p"), "k", "backend", udp(53)),
			},
			input: shared(v4("ns/s", "p"), "k", "backend", udp(53)), want: on("192.0.2.1")},
		{name: "fresh address when every shared IP conflicts", pools: p,
			before: []Request{web, shared(v4("ns/web2", "p"), "k", "backend", tcp(80))},
			input:  shared(v4("ns/s", "p"), "k", "backend", tcp(80)), want: on("192.0.2.2")},
		{name: "shared IP in a later pool beats a free one in an earlier pool", pools: two,
			before: []Request{shared(v4("ns/web", "b"), "k", "backend", tcp(80))},
			input:  shared(v4("ns/s", "a", "b"), "k", "backend", tcp(443)),
			want:   result{IPs: []string{"198.51.100.0"}, Pool: "b"}},
		{name: "pools full: listed in request order even after sharing moved one ahead", pools: two,
			before: []Request{shared(v4("ns/web", "b"), "k", "backend", tcp(80))},
			input: shared(Request{Key: "ns/s", Pools: []string{"a", "b"}, Families: []Family{IPv4, IPv6}, Policy: RequireDualStack},
				"k", "backend", tcp(443)),
			wantErr: `no available IPs in pools "a", "b"`},
		{name: "shared IP only in a pool the service may not use", pools: two,
			before: []Request{shared(v4("ns/web", "b"), "k", "backend", tcp(80))},
			input:  shared(v4("ns/s", "a"), "k", "backend", tcp(443)),
			want:   result{IPs: []string{"192.0.2.0"}, Pool: "a"}},
		{name: "shared IP stays used while a user remains", pools: p,
			before: []Request{web, shared(v4("ns/api", "p"), "k", "backend", tcp(443))}, release: []string{"ns/web"},
			input: v4("ns/s", "p"), want: on("192.0.2.1")},
		{name: "shared IP is freed with its last user", pools: p,
			before: []Request{web, shared(v4("ns/api", "p"), "k", "backend", tcp(443))}, release: []string{"ns/web", "ns/api"},
			input: v4("ns/s", "p"), want: on("192.0.2.0")},
		{name: "port freed by a released user", pools: p,
			before: []Request{web, shared(v4("ns/api", "p"), "k", "backend", tcp(443))}, release: []string{"ns/web"},
			input: shared(v4("ns/s", "p"), "k", "backend", tcp(80)), want: on("192.0.2.0")},
		{name: "dual stack services share both IPs", pools: dual,
			before: []Request{shared(require("ns/web"), "k", "backend", tcp(80))},
			input:  shared(require("ns/s"), "k", "backend", tcp(443)),
			want:   result{IPs: []string{"192.0.2.0", "2001:db8::"}, Pool: "d"}},
		{name: "held IP kept when ports change compatibly", pools: p,
			before: []Request{v4("ns/x", "p"), web, shared(v4("ns/s", "p"), "k", "backend", tcp(443))},
			input:  shared(v4("ns/s", "p"), "k", "backend", tcp(8443)), want: on("192.0.2.1")},
		{name: "held IP left when its ports now overlap", pools: p,
			before: []Request{web, shared(v4("ns/s", "p"), "k", "backend", tcp(443))},
			input:  shared(v4("ns/s", "p"), "k", "backend", tcp(80)), want: on("192.0.2.1")},
		{name: "held IP kept when its other users left", pools: p,
			before: []Request{v4("ns/x", "p"), web, shared(v4("ns/s", "p"), "k", "backend", tcp(443))}, release: []string{"ns/web"},
			input: v4("ns/s", "p"), want: on("192.0.2.1")},
	})
}
