package apply

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ironlb/ironlb/internal/frrproc"
)

// config10k renders a speaker-like config announcing n service IPs: /128s
// from 2001:db8::/32 in address-family ipv6 unicast, and the first 512
// as /32s from 198.51.100.0/24 and 203.0.113.0/24 in ipv4 unicast.
func config10k(n int) []byte {
	var v4, v6 strings.Builder
	for i := range n {
		if i < 512 {
			fmt.Fprintf(&v4, "  network %s.%d/32\n", []string{"198.51.100", "203.0.113"}[i/256], i%256)
			continue
		}
		fmt.Fprintf(&v6, "  network 2001:db8:%x::%x/128\n", i/65536, i%65536+1)
	}
	return []byte(`frr defaults traditional
router bgp 64512
 bgp router-id 192.0.2.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 192.0.2.2 remote-as 64513
 address-family ipv4 unicast
` + v4.String() + ` exit-address-family
 address-family ipv6 unicast
  neighbor 192.0.2.2 activate
` + v6.String() + ` exit-address-family
exit
`)
}

// BenchmarkApplyOneServiceInto10k adds one service IP to an FRR that
// already announces 10,000, per iteration: the whole desired config is
// parsed and diffed, then the fast path runs, through vtysh or through
// the daemons' vty sockets (VtySock). The full sub-benchmark does the
// same through frr-reload.py for comparison.
func BenchmarkApplyOneServiceInto10k(b *testing.B) {
	const n = 10000
	for _, bc := range []struct {
		name string
		vty  string
		opts Options
		full bool
	}{
		{name: "fast", vty: "vtysh"},
		{name: "fast-skipverify", vty: "vtysh", opts: Options{SkipVerify: true}},
		{name: "sock", vty: "vtysock"},
		{name: "sock-skipverify", vty: "vtysock", opts: Options{SkipVerify: true}},
		{name: "full", vty: "vtysh", full: true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := frrproc.StartTest(b, frrproc.Config{})
			vty := newVTY(b, f, bc.vty)
			a := New(vty, bc.opts)
			if _, err := a.Apply(b.Context(), config10k(n)); err != nil {
				b.Fatal(err)
			}
			want := PathFast
			if bc.full {
				want = PathFull
			}
			for i := 1; b.Loop(); i++ {
				if bc.full {
					a = New(vty, bc.opts) // a new Applier's first apply is a full one
				}
				res, err := a.Apply(b.Context(), config10k(n+i))
				if err != nil || res.Path != want {
					b.Fatalf("apply %d: %+v, %v; want path %s", i, res, err, want)
				}
			}
		})
	}
}

// BenchmarkDiff10k is the pure part of the fast path: parse the desired
// config and diff it against the applied one.
func BenchmarkDiff10k(b *testing.B) {
	old := Parse(config10k(10000))
	desired := config10k(10001)
	for b.Loop() {
		d := Diff(old, Parse(desired))
		if d.Commands != 1 {
			b.Fatalf("commands = %d, want 1", d.Commands)
		}
	}
}
