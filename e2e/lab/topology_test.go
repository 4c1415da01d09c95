package lab

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestSetupPlan(t *testing.T) {
	var b strings.Builder
	for _, argv := range setupPlan() {
		b.WriteString(strings.Join(argv, " "))
		b.WriteByte('\n')
	}
	golden(t, []byte(b.String()))
}

// TestSetupPlanStaysInLab checks the network safety rules on the plan:
// every command acts inside a lab namespace, and every address is a
// documentation address.
func TestSetupPlanStaysInLab(t *testing.T) {
	allowed := []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"),
		netip.MustParsePrefix("2001:db8::/32"),
	}
	lab := Namespaces()
	for _, argv := range setupPlan() {
		cmd := strings.Join(argv, " ")
		var ns string
		switch {
		case len(argv) > 3 && argv[0] == "ip" && argv[1] == "netns" && argv[2] == "exec":
			ns = argv[3]
		case len(argv) > 2 && argv[0] == "ip" && argv[1] == "-n":
			ns = argv[2]
		default:
			t.Errorf("%q: not scoped to a namespace", cmd)
			continue
		}
		if !slices.Contains(lab, ns) {
			t.Errorf("%q: namespace %q is not the lab's", cmd, ns)
		}
		for i, tok := range argv {
			// A "netns" argument of a veth peer must be a lab namespace too.
			if tok == "netns" && i+1 < len(argv) && i > 1 && !slices.Contains(lab, argv[i+1]) {
				t.Errorf("%q: peer namespace %q is not the lab's", cmd, argv[i+1])
			}
			addr, err := netip.ParsePrefix(tok)
			if err != nil {
				a, aerr := netip.ParseAddr(tok)
				if aerr != nil {
					continue
				}
				addr = netip.PrefixFrom(a, a.BitLen())
			}
			if !slices.ContainsFunc(allowed, func(p netip.Prefix) bool { return p.Contains(addr.Addr()) }) {
				t.Errorf("%q: address %s is not a documentation address", cmd, tok)
			}
		}
	}
}

func TestNamespacesAreDistinct(t *testing.T) {
	ns := Namespaces()
	sorted := slices.Clone(ns)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(ns) {
		t.Errorf("Namespaces() = %q: duplicates", ns)
	}
	for _, n := range ns {
		if !strings.HasPrefix(n, "ilb-") {
			t.Errorf("namespace %q lacks the ilb- prefix Teardown relies on", n)
		}
	}
}
