package noderouter

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/frr"
)

// genObject is a generated FRRConfiguration and the words that belong to
// it: the prefixes it names, its neighbors, its own names.
type genObject struct {
	key, spec string
	// prefixes are every prefix the object names (advertised or
	// received), as frr.conf writes them.
	prefixes []string
	// neighbors are the keys of the neighbors it configures.
	neighbors []string
	// names are its own words: its key and its BFD profile.
	names []string
	// all are the neighbors it receives every prefix from: their
	// received-prefix lists, which mode all replaces, are its too.
	all []string
}

// genObjectFor makes FRRConfiguration number i from r. Objects share
// ironlb's two sessions (192.0.2.1, 2001:db8::1 of labOwn), a collector
// 192.0.2.7, ironlb's Service prefix 203.0.113.5/32 and three /26
// prefixes; the rest (prefixes, a neighbor of
// its own, its BFD profile, received prefixes) is the object's alone.
// The shared values are chosen so that no two objects conflict: only the
// object's own prefixes get a local preference. Some objects import a VRF
// of their own into the default VRF.
func genObjectFor(r *rand.Rand, i int) genObject {
	g := genObject{key: fmt.Sprintf("metallb-system/obj-%02d", i)}
	g.names = []string{g.key}
	var v4, v6, shared []string
	for k := range 1 + r.IntN(3) {
		v4 = append(v4, fmt.Sprintf("198.51.%d.%d/28", 100+i, 16*k))
	}
	if r.IntN(2) == 0 {
		v6 = append(v6, pfx(fmt.Sprintf("2001:db8:%x:%x::/64", 0x100+i, r.IntN(4))).String())
	}
	// 203.0.113.5/32 is a Service prefix ironlb announces to its peers.
	for _, p := range []string{"203.0.113.5/32", "203.0.113.64/26", "203.0.113.128/26", "203.0.113.192/26"} {
		if r.IntN(3) == 0 {
			shared = append(shared, p)
		}
	}
	all := slices.Concat(v4, shared, v6)
	g.prefixes = slices.Clone(all)
	communities := []string{"65000:1", "65000:2", "65000:3", "no-export", "large:64512:1:1"}

	var b strings.Builder
	fmt.Fprintf(&b, "bgp:\n")
	bfd := fmt.Sprintf("bfd-%02d", i)
	fmt.Fprintf(&b, "  bfdProfiles: [{name: %s, receiveInterval: %d}]\n", bfd, 100+10*r.IntN(20))
	g.names = append(g.names, bfd)
	fmt.Fprintf(&b, "  routers:\n  - asn: 64512\n    prefixes: [%s]\n", quoteAll(all))
	if r.IntN(4) == 0 {
		// A VRF of its own that the default VRF imports (FRR makes its
		// instance, so ToFRR writes a router block for it).
		vrf := fmt.Sprintf("vrf-%02d", i)
		g.names = append(g.names, vrf)
		fmt.Fprintf(&b, "    imports: [{vrf: %s}]\n", vrf)
	}
	b.WriteString("    neighbors:\n")

	// advertise writes a toAdvertise of a random part of ps, with
	// communities on some and a local preference on some own ones.
	advertise := func(ps, own []string) {
		var adv []string
		for _, p := range ps {
			if r.IntN(3) > 0 {
				adv = append(adv, p)
			}
		}
		if len(adv) == 0 {
			return
		}
		fmt.Fprintf(&b, "      toAdvertise:\n        allowed: {prefixes: [%s]}\n", quoteAll(adv))
		var comms, lps []string
		for _, p := range adv {
			if r.IntN(2) == 0 {
				comms = append(comms, fmt.Sprintf("{prefixes: [%q], community: %q}", p, communities[r.IntN(len(communities))]))
			}
			if slices.Contains(own, p) && r.IntN(3) == 0 {
				lps = append(lps, fmt.Sprintf("{prefixes: [%q], localPref: %d}", p, 100*(1+r.IntN(3))))
			}
		}
		if len(comms) > 0 {
			fmt.Fprintf(&b, "        withCommunity: [%s]\n", strings.Join(comms, ", "))
		}
		if len(lps) > 0 {
			fmt.Fprintf(&b, "        withLocalPref: [%s]\n", strings.Join(lps, ", "))
		}
	}
	receive := func(v6 bool) {
		switch r.IntN(4) {
		case 0:
			g.all = append(g.all, g.neighbors[len(g.neighbors)-1])
			fmt.Fprintf(&b, "      toReceive: {allowed: {mode: all}}\n")
		case 1, 2:
			p := fmt.Sprintf("198.18.%d.0/24", i)
			if v6 {
				p = fmt.Sprintf("2001:db8:%x::/48", 0x200+i)
			}
			g.prefixes = append(g.prefixes, p)
			fmt.Fprintf(&b, "      toReceive: {allowed: {prefixes: [{prefix: %q, le: %d}]}}\n", p, map[bool]int{false: 28, true: 64}[v6])
		}
	}
	if r.IntN(2) == 0 {
		g.neighbors = append(g.neighbors, "192.0.2.1")
		fmt.Fprintf(&b, "    - address: 192.0.2.1\n      asn: 64512\n      holdTime: 90s\n      keepaliveTime: 30s\n")
		advertise(slices.Concat(v4, shared), v4)
		receive(false)
	}
	if r.IntN(2) == 0 && len(v6) > 0 {
		g.neighbors = append(g.neighbors, "2001:db8::1")
		fmt.Fprintf(&b, "    - address: \"2001:db8::1\"\n      asn: 64500\n")
		advertise(v6, v6)
		receive(true)
	}
	if r.IntN(2) == 0 {
		g.neighbors = append(g.neighbors, "192.0.2.7")
		fmt.Fprintf(&b, "    - address: 192.0.2.7\n      asn: 64512\n")
		advertise(slices.Concat(v4, shared), v4)
	}
	own := fmt.Sprintf("192.0.2.%d", 100+i)
	g.neighbors = append(g.neighbors, own)
	fmt.Fprintf(&b, "    - address: %s\n      asn: %d\n      bfdProfile: %s\n", own, 65000+i, bfd)
	advertise(slices.Concat(v4, shared), v4)
	receive(false)
	g.spec = b.String()
	return g
}

func quoteAll(ps []string) string {
	q := make([]string, len(ps))
	for i, p := range ps {
		q[i] = fmt.Sprintf("%q", p)
	}
	return strings.Join(q, ", ")
}

// renderObjects merges and renders labOwn with the objects.
func renderObjects(t *testing.T, own *frr.Config, rd *frr.Renderer, objs []genObject) []byte {
	t.Helper()
	var cfgs []frrk8s.FRRConfiguration
	for _, o := range objs {
		cfgs = append(cfgs, frrConfig(t, o.key, o.spec))
	}
	m, err := ForNode(own, cfgs, nil, Options{AlwaysBlock: []netip.Prefix{pfx("10.96.0.0/12"), pfx("fd00::/8")}})
	if err != nil {
		t.Fatalf("merging: %v\nspecs:\n%s", err, specs(objs))
	}
	cfg, err := ToFRR(own, m)
	if err != nil {
		t.Fatalf("ToFRR: %v", err)
	}
	out, err := rd.Render(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func specs(objs []genObject) string {
	var b strings.Builder
	for _, o := range objs {
		fmt.Fprintf(&b, "--- %s\n%s", o.key, o.spec)
	}
	return b.String()
}

// unit is a piece of frr.conf that changes as one: a line with the
// contexts it is in, or a whole route-map entry.
type unit struct {
	// text is the context path and line, or the route-map entry's lines.
	text string
	// routeMap is the name of the route-map of an entry, else "".
	routeMap string
	// prefixList is the name of the list of a prefix-list line, else "",
	// and prefix the prefix it matches.
	prefixList, prefix string
	// router is set for the lines of a router block.
	router bool
}

// units splits a rendered frr.conf into its units.
func units(conf []byte) map[string]unit {
	out := map[string]unit{}
	var ctx []string
	var rm []string // the route-map entry being read
	for _, line := range strings.Split(string(conf), "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed == "!" {
			continue
		}
		if rm != nil {
			if strings.HasPrefix(trimmed, "call ") {
				// A call is a line of the map it calls.
				text := rm[0] + " > " + trimmed
				out[text] = unit{text: text, routeMap: strings.TrimPrefix(trimmed, "call ")}
				continue
			}
			if trimmed == "exit" {
				text := strings.Join(rm, "\n")
				out[text] = unit{text: text, routeMap: strings.Fields(rm[0])[1]}
				rm = nil
				continue
			}
			rm = append(rm, trimmed)
			continue
		}
		f := strings.Fields(trimmed)
		switch {
		case f[0] == "route-map":
			rm = []string{trimmed}
			continue
		case f[0] == "exit" || f[0] == "exit-address-family" || f[0] == "exit-vrf":
			if len(ctx) > 0 {
				ctx = ctx[:len(ctx)-1]
			}
			continue
		case (f[0] == "ip" || f[0] == "ipv6") && len(f) > 5 && f[1] == "prefix-list" && len(ctx) == 0:
			out[trimmed] = unit{text: trimmed, prefixList: f[2], prefix: f[6]}
			continue
		}
		u := unit{text: strings.Join(append(slices.Clone(ctx), trimmed), " > "), router: len(ctx) > 0 && strings.HasPrefix(ctx[0], "router bgp")}
		out[u.text] = u
		if f[0] == "router" || f[0] == "address-family" || f[0] == "bfd" || f[0] == "profile" || f[0] == "vrf" {
			ctx = append(ctx, trimmed)
		}
	}
	return out
}

// owner says which changed units an object (or two versions of it)
// accounts for.
type owner struct {
	prefixes, neighbors, names, lists, inLists map[string]bool
}

func newOwner(renders [][]byte, objs ...genObject) *owner {
	o := &owner{prefixes: map[string]bool{}, neighbors: map[string]bool{}, names: map[string]bool{}, lists: map[string]bool{}, inLists: map[string]bool{}}
	for _, g := range objs {
		for _, p := range g.prefixes {
			o.prefixes[p] = true
		}
		for _, n := range g.neighbors {
			o.neighbors[n] = true
		}
		for _, n := range g.names {
			o.names[n] = true
		}
		for _, n := range g.all {
			o.inLists[inMapPrefix+n+"-4"] = true
			o.inLists[inMapPrefix+n+"-6"] = true
		}
	}
	// A prefix-list that holds one of the object's prefixes is its.
	for _, r := range renders {
		for _, u := range units(r) {
			if u.prefixList != "" && o.prefixes[u.prefix] {
				o.lists[u.prefixList] = true
			}
		}
	}
	return o
}

// accounts reports whether u is one of the object's lines: a prefix-list
// line of its prefix, a route-map entry that matches its prefix-list (or,
// for the maps of its neighbors, that matches no advertised prefixes),
// a router line of its neighbor or prefix, a line with its names.
func (o *owner) accounts(u unit) bool {
	words := strings.Fields(u.text)
	switch {
	case u.prefixList != "":
		return o.prefixes[u.prefix] || o.inLists[u.prefixList]
	case u.routeMap != "":
		if slices.ContainsFunc(words, func(w string) bool { return o.lists[w] }) {
			return true
		}
		if strings.Contains(u.text, "prefix-list "+outMapPrefix) || strings.Contains(u.text, "prefix-list "+ownMapPrefix) {
			return false // an advertising entry, of another object
		}
		for n := range o.neighbors {
			if strings.HasSuffix(u.routeMap, "-"+n) && strings.HasPrefix(u.routeMap, "ilb-nr-") {
				return true
			}
		}
		return false
	}
	for i, w := range words {
		if o.prefixes[w] || o.names[w] {
			return true
		}
		if u.router && w == "neighbor" && i+1 < len(words) && o.neighbors[words[i+1]] {
			return true
		}
	}
	return false
}

// changedUnits returns the units of a and b that the other lacks.
func changedUnits(a, b []byte) []unit {
	ua, ub := units(a), units(b)
	var out []unit
	for k, u := range ua {
		if _, ok := ub[k]; !ok {
			out = append(out, u)
		}
	}
	for k, u := range ub {
		if _, ok := ua[k]; !ok {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(x, y unit) int { return strings.Compare(x.text, y.text) })
	return out
}

// TestRenderStable checks, for generated sets of FRRConfigurations, that
// adding, removing or changing one object changes only lines of frr.conf
// that belong to it: its prefixes in network statements and
// prefix-lists, the route-map entries that match its prefixes, the
// lines of the neighbors it configures, its BFD profile. The lines of
// every other object keep their names and sequence numbers.
func TestRenderStable(t *testing.T) {
	own := labOwn(t)
	rd, err := frr.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	calls := 0   // renders where an object adds to ironlb's own prefixes
	imports := 0 // renders with a VRF import
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 14))
		n := 4 + r.IntN(8)
		objs := make([]genObject, n)
		for i := range objs {
			objs[i] = genObjectFor(r, i)
		}
		full := renderObjects(t, own, rd, objs)
		if strings.Contains(string(full), " call "+ownMapPrefix) {
			calls++
		}
		if strings.Contains(string(full), " import vrf ") {
			imports++
		}
		check := func(what string, other []byte, changed ...genObject) {
			t.Helper()
			o := newOwner([][]byte{full, other}, changed...)
			var bad []string
			for _, u := range changedUnits(full, other) {
				if !o.accounts(u) {
					bad = append(bad, u.text)
				}
			}
			if len(bad) > 0 {
				t.Errorf("seed %d: %s changes lines that are not its own:\n%s\nspecs:\n%s", seed, what, strings.Join(bad, "\n"), specs(objs))
			}
		}
		for i, x := range objs {
			without := slices.Delete(slices.Clone(objs), i, i+1)
			check("removing "+x.key, renderObjects(t, own, rd, without), x)
			changed := slices.Clone(objs)
			changed[i] = genObjectFor(rand.New(rand.NewPCG(seed, 1000+uint64(i))), i)
			check("changing "+x.key, renderObjects(t, own, rd, changed), x, changed[i])
		}
	}
	if calls == 0 || imports == 0 {
		t.Errorf("of the generated sets, %d add to ironlb's own prefixes and %d import a VRF; want some of each", calls, imports)
	}
	t.Logf("%d of 40 sets add to ironlb's own prefixes, %d import a VRF", calls, imports)
}
