package frr

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/state"
)

// unionMap matches the origin route-map of a union class.
var unionMap = regexp.MustCompile(`route-map ironlb-adv-[^ ]*\+`)

// selectedNetwork matches a network statement of a Service that a
// serviceSelector of the selector model selects.
var selectedNetwork = regexp.MustCompile(`(?m)^  network \S+ route-map ironlb-adv-\S*(web|pub)`)

// cmpPrefixes lets cmp compare the netip values of a Config.
var cmpPrefixes = cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })

// builderModels are the configurations the randomized test swaps
// between. Services pick their pool among all the models' pools (and
// two that no model has), so most models leave some Services out.
func builderModels(t testing.TB) []func() *config.Model {
	comm := func(s string) func(*config.BGPAdvertisement) {
		return func(a *config.BGPAdvertisement) { a.Communities = []config.Community{community(t, s)} }
	}
	agg := func(v4, v6 int) func(*config.BGPAdvertisement) {
		return func(a *config.BGPAdvertisement) { a.AggregationLength, a.AggregationLengthV6 = v4, v6 }
	}
	dual := func(p *config.Peer) { p.DualStackAddressFamily = true }
	peers := func() []config.Peer {
		return []config.Peer{
			mkPeer("rr", "192.0.2.253", 64512, 64512, dual),
			mkPeer("tor", "192.0.2.254", 64512, 64513),
			mkPeer("tor6", "2001:db8::fe", 64512, 64513),
		}
	}
	return []func() *config.Model{
		// The base model: pool-a dual-stack, pool-b, pool-c without an
		// advertisement.
		func() *config.Model { return baseModel(t) },
		// Pools x, y and z aggregate to the same /24 and /120 toward
		// different peers, so their prefixes coincide and union classes
		// come and go (three pools make the union depend on the order of
		// the Services); host announces x and y per address too.
		func() *config.Model {
			return &config.Model{
				Pools: []config.Pool{mkPool(t, "x", "198.51.100.0/26"), mkPool(t, "y", "198.51.100.64/26"), mkPool(t, "z", "198.51.100.128/26")},
				Peers: peers(),
				BGPAdvertisements: []config.BGPAdvertisement{
					mkAdv("adv-x", []string{"x"}, agg(24, 120), comm("65000:1")),
					mkAdv("adv-y", []string{"y"}, agg(24, 120), comm("65000:2"), func(a *config.BGPAdvertisement) { a.Peers = []string{"tor", "tor6"} }),
					mkAdv("adv-z", []string{"z"}, agg(24, 124), func(a *config.BGPAdvertisement) { a.Peers = []string{"rr"}; a.LocalPref = 50 }),
					mkAdv("host", []string{"x", "y"}, agg(32, 128)),
				},
			}
		},
		// Pools p and q coincide at /28 with different local preferences
		// toward the iBGP peer: Build fails exactly while a union exists.
		func() *config.Model {
			return &config.Model{
				Pools: []config.Pool{mkPool(t, "p", "198.51.100.0/26"), mkPool(t, "q", "198.51.100.64/26")},
				Peers: peers(),
				BGPAdvertisements: []config.BGPAdvertisement{
					mkAdv("adv-p", []string{"p"}, agg(28, 124), func(a *config.BGPAdvertisement) { a.LocalPref = 100 }),
					mkAdv("adv-q", []string{"q"}, agg(28, 124), func(a *config.BGPAdvertisement) { a.LocalPref = 200 }),
				},
			}
		},
		// serviceSelectors: on pool-a, "all" per address and "agg" at
		// /24 and /120 for every Service, "web" and "pub" only for the
		// Services they select (both: an extra class); on pool-b, "all"
		// and "web"; pool x has only a selecting advertisement.
		func() *config.Model {
			m := baseModel(t)
			web := []labels.Selector{sel("tier", "web")}
			m.Pools = append(m.Pools, mkPool(t, "x", "198.51.100.0/26"))
			m.BGPAdvertisements = []config.BGPAdvertisement{
				mkAdv("all", []string{"pool-a", "pool-b"}, comm("65000:1")),
				mkAdv("agg", []string{"pool-a"}, agg(24, 120), func(a *config.BGPAdvertisement) { a.Peers = []string{"tor", "tor6"} }),
				mkAdv("web", []string{"pool-a", "pool-b", "x"}, comm("65000:7"), func(a *config.BGPAdvertisement) {
					a.ServiceSelectors, a.Peers = web, []string{"tor"}
				}),
				mkAdv("pub", []string{"pool-a"}, func(a *config.BGPAdvertisement) {
					a.ServiceSelectors, a.Peers = []labels.Selector{sel("exposure", "public")}, []string{"rr"}
				}),
			}
			return m
		},
		// A VRF, and node selectors on peers and advertisements: which
		// ones select node-1 depends on its zone label.
		func() *config.Model {
			m := baseModel(t)
			m.Peers = append(m.Peers,
				mkPeer("red", "192.0.2.1", 64600, 64601, func(p *config.Peer) { p.VRF = "red"; p.DualStackAddressFamily = true }),
				mkPeer("zone-b", "192.0.2.9", 64512, 64514, func(p *config.Peer) { p.NodeSelectors = []labels.Selector{sel("zone", "b")} }),
			)
			m.BGPAdvertisements[0].NodeSelectors = []labels.Selector{sel("zone", "a")}
			m.BGPAdvertisements = append(m.BGPAdvertisements,
				mkAdv("b-only", []string{"pool-b", "x"}, comm("65000:9"), func(a *config.BGPAdvertisement) {
					a.NodeSelectors = []labels.Selector{sel("zone", "b")}
				}),
				mkAdv("agg", []string{"pool-a"}, agg(30, 126), func(a *config.BGPAdvertisement) { a.Peers = []string{"red", "tor6"} }),
			)
			return m
		},
	}
}

// randomWorld is the randomized test's cluster: Services by key, the
// current model and node-1's state.
type randomWorld struct {
	rng    *rand.Rand
	models []func() *config.Model
	model  *config.Model
	svcs   map[string]state.Service
	node   state.Node
	opts   BuildOptions
	// nodeName is the node built, node-1 but for a few steps.
	nodeName string
}

var (
	randomNamespaces = []string{"a", "a-b", "ab", "b", "shop"}
	randomPools      = []string{"pool-a", "pool-b", "pool-c", "x", "y", "z", "p", "q", "", "gone"}
)

// randomIPs returns one to three addresses from a small space, so that
// aggregated prefixes often coincide: IPv4, IPv6 or both. The four /24
// and /120 prefixes of that space are now and then made by no Service.
func (w *randomWorld) randomIPs() []netip.Addr {
	v4 := func() netip.Addr {
		return netip.AddrFrom4([4]byte{198, 51, byte(100 + w.rng.IntN(4)), byte(w.rng.IntN(64))})
	}
	v6 := func() netip.Addr {
		b := netip.MustParseAddr("2001:db8:100::").As16()
		b[14], b[15] = byte(w.rng.IntN(4)), byte(w.rng.IntN(32))
		a := netip.AddrFrom16(b)
		if w.rng.IntN(20) == 0 {
			a = a.WithZone("eth0")
		}
		return a
	}
	var ips []netip.Addr
	switch w.rng.IntN(6) {
	case 0, 1:
		ips = []netip.Addr{v4()}
	case 2:
		ips = []netip.Addr{v6()}
	case 3:
		ips = []netip.Addr{netip.AddrFrom16(v4().As16())} // IPv4-mapped
	default:
		ips = []netip.Addr{v4(), v6()}
		if w.rng.IntN(4) == 0 {
			ips = append(ips, v4())
		}
	}
	slices.SortFunc(ips, func(a, b netip.Addr) int { return a.Compare(b) })
	return ips
}

func (w *randomWorld) randomServingNodes() []string {
	var out []string
	for _, n := range []string{node1, node2, node3} {
		if w.rng.IntN(2) == 0 {
			out = append(out, n)
		}
	}
	return out
}

func (w *randomWorld) randomService() state.Service {
	return state.Service{
		Namespace:    randomNamespaces[w.rng.IntN(len(randomNamespaces))],
		Name:         fmt.Sprintf("s%d", w.rng.IntN(12)),
		IPs:          w.randomIPs(),
		Pool:         randomPools[w.rng.IntN(len(randomPools))],
		ETPLocal:     w.rng.IntN(3) == 0,
		ServingNodes: w.randomServingNodes(),
		Labels:       w.randomLabels(),
	}
}

// randomLabels returns the labels of a Service: none, or some that the
// serviceSelectors of the selector model match, alone or together.
func (w *randomWorld) randomLabels() labels.Set {
	return []labels.Set{nil, {"tier": "web"}, {"exposure": "public"}, {"tier": "web", "exposure": "public"}, {"tier": "db"}}[w.rng.IntN(5)]
}

// someKey returns the key of a random Service, or "" when there is none.
func (w *randomWorld) someKey() string {
	if len(w.svcs) == 0 {
		return ""
	}
	keys := slices.Sorted(maps.Keys(w.svcs))
	return keys[w.rng.IntN(len(keys))]
}

// changeService changes one thing of a Service. It sometimes changes
// the IPs in place, in the slice the previous cluster held, as a caller
// reusing its slices would: a Builder must have kept its own copy.
func (w *randomWorld) changeService(s state.Service) state.Service {
	switch w.rng.IntN(5) {
	case 0:
		if len(s.IPs) > 0 && w.rng.IntN(2) == 0 {
			s.IPs[w.rng.IntN(len(s.IPs))] = w.randomIPs()[0]
			slices.SortFunc(s.IPs, func(a, b netip.Addr) int { return a.Compare(b) })
		} else {
			s.IPs = w.randomIPs()
		}
	case 1:
		s.Pool = randomPools[w.rng.IntN(len(randomPools))]
	case 2:
		s.ETPLocal = !s.ETPLocal
	case 3:
		if w.rng.IntN(3) == 0 {
			s.Labels = w.randomLabels() // a relabelled Service moves to another class
		} else {
			s.ServingNodes = w.randomServingNodes()
		}
	default:
		s.ServingNodes = slices.Clone(s.ServingNodes) // equal: no change
	}
	return s
}

// step changes the world at random and describes the change.
func (w *randomWorld) step() string {
	w.nodeName = node1
	if w.opts.Hostname == "bad name" {
		w.opts.Hostname = "" // an error for one step only
	}
	switch r := w.rng.IntN(100); {
	case r < 30:
		s := w.randomService()
		w.svcs[s.Key()] = s
		return "add or replace " + s.Key()
	case r < 48:
		k := w.someKey()
		delete(w.svcs, k)
		return "remove " + k
	case r < 70:
		k := w.someKey()
		if k == "" {
			return "nothing to change"
		}
		w.svcs[k] = w.changeService(w.svcs[k])
		return "change " + k
	case r < 85: // as when events collapse into one reconcile
		n := 2 + w.rng.IntN(6)
		what := fmt.Sprintf("%d changes at once", n)
		fresh := w.rng.IntN(4) == 0
		if fresh {
			// Start over and add only, so that several new Services
			// make prefixes no Service made before.
			clear(w.svcs)
			what = "all removed, then " + what
		}
		for range n {
			if fresh || w.rng.IntN(2) == 0 {
				s := w.randomService()
				w.svcs[s.Key()] = s
			} else {
				delete(w.svcs, w.someKey())
			}
		}
		return what
	case r < 89:
		i := w.rng.IntN(len(w.models) + 1)
		if i == len(w.models) {
			i = 1 // the model of union classes, twice as often
		}
		w.model = w.models[i]()
		return fmt.Sprintf("model %d", i)
	case r < 93:
		w.node.Labels = maps.Clone(w.node.Labels) // earlier clusters keep theirs
		// A node that may announce, most of the time.
		w.node.Excluded, w.node.NetworkUnavailable, w.node.Unschedulable = false, false, false
		switch w.rng.IntN(6) {
		case 0:
			w.node.Labels["zone"] = map[string]string{"a": "b", "b": "a"}[w.node.Labels["zone"]]
		case 1:
			w.node.Excluded = true
		case 2:
			w.node.Unschedulable = true
		case 3:
			w.node.NetworkUnavailable = true
		}
		return fmt.Sprintf("node %+v", w.node)
	case r < 97:
		w.opts.Phase = []Phase{PhaseNormal, PhaseNormal, PhaseGracefulShutdown, PhaseWithdrawn}[w.rng.IntN(4)]
		return "phase " + w.opts.Phase.String()
	case r < 98:
		w.opts.Hostname = []string{"", "other", "bad name"}[w.rng.IntN(3)]
		return fmt.Sprintf("hostname %q", w.opts.Hostname)
	case r < 99:
		w.nodeName = []string{node2, "nowhere"}[w.rng.IntN(2)]
		return "build " + w.nodeName
	default:
		return "no change"
	}
}

// cluster returns the world's cluster, with its Services sorted by key,
// or now and then not sorted.
func (w *randomWorld) cluster() *state.Cluster {
	nodes := testNodes()
	nodes[0] = w.node
	svcs := make([]state.Service, 0, len(w.svcs))
	for _, s := range w.svcs {
		svcs = append(svcs, s)
	}
	slices.SortFunc(svcs, func(a, b state.Service) int { return strings.Compare(a.Key(), b.Key()) })
	if len(svcs) > 1 && w.rng.IntN(100) == 0 {
		w.rng.Shuffle(len(svcs), func(i, j int) { svcs[i], svcs[j] = svcs[j], svcs[i] })
	}
	return &state.Cluster{Model: w.model, Nodes: nodes, Services: svcs}
}

// TestBuilderMatchesBuild drives one Builder through random changes of
// Services, models, node and options, and expects after each step the
// Config and the error of Build, and the same rendered file. It also
// re-renders every Config the Builder returned at the end: none may have
// changed since.
func TestBuilderMatchesBuild(t *testing.T) {
	const steps = 2000
	r := newTestRenderer(t)
	w := &randomWorld{
		rng:    rand.New(rand.NewPCG(1, 2)),
		models: builderModels(t),
		svcs:   map[string]state.Service{},
		node:   testNodes()[0],
	}
	w.model = w.models[1]()
	bl := NewBuilder()
	type returned struct {
		step int
		cfg  *Config
		text string
	}
	var kept []returned
	var updates, fulls, failures, unions, selected int
	for i := range steps {
		what := w.step()
		c := w.cluster()
		last := bl.last
		got, gotErr := bl.Build(c, w.nodeName, w.opts)
		want, wantErr := Build(c, w.nodeName, w.opts)
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("step %d (%s): Builder error %v, Build error %v", i, what, gotErr, wantErr)
		}
		if wantErr != nil {
			failures++
			if got != nil {
				t.Fatalf("step %d (%s): Builder returned a Config with its error", i, what)
			}
			continue
		}
		if last != nil && bl.last == last {
			updates++
		} else {
			fulls++
		}
		if diff := cmp.Diff(want, got, cmpPrefixes); diff != "" {
			t.Fatalf("step %d (%s): Builder differs from Build (-want +got):\n%s", i, what, diff)
		}
		wantText, err := r.Render(want)
		if err != nil {
			t.Fatal(err)
		}
		gotText, err := r.Render(got)
		if err != nil {
			t.Fatal(err)
		}
		if string(gotText) != string(wantText) {
			t.Fatalf("step %d (%s): rendered files differ:\n%s", i, what, lineDiffText(splitLines(string(wantText)), splitLines(string(gotText))))
		}
		if unionMap.Match(gotText) {
			unions++
		}
		if selectedNetwork.Match(gotText) {
			selected++
		}
		kept = append(kept, returned{i, got, string(gotText)})
	}
	for _, k := range kept {
		text, err := r.Render(k.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if string(text) != k.text {
			t.Errorf("the Config of step %d changed later:\n%s", k.step, lineDiffText(splitLines(k.text), splitLines(string(text))))
		}
	}
	t.Logf("%d steps: %d updates, %d full builds, %d errors, %d with a union class, %d with a Service a serviceSelector selects", steps, updates, fulls, failures, unions, selected)
	// The test is only worth something if every path ran often.
	if updates < steps/2 || fulls < steps/20 || failures == 0 || unions < steps/200 || selected < steps/50 {
		t.Errorf("too few updates (%d), full builds (%d), errors (%d), unions (%d) or selected Services (%d)", updates, fulls, failures, unions, selected)
	}
}

// TestBuilderScale adds, removes and changes Services among 1,000 of the
// scale cluster, whose updates never fall back, and compares with Build.
func TestBuilderScale(t *testing.T) {
	const n, steps = 1000, 200
	rng := rand.New(rand.NewPCG(3, 4))
	c := scaleCluster(t, n)
	bl := NewBuilder()
	if _, err := bl.Build(c, node1, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range steps {
		svcs := slices.Clone(c.Services)
		var what string
		switch k := rng.IntN(len(svcs)); rng.IntN(3) {
		case 0:
			what = "remove " + svcs[k].Key()
			svcs = slices.Delete(svcs, k, k+1)
		case 1:
			s := scaleService(n + i)
			s.IPs = []netip.Addr{v6Addr(2*rng.IntN(2*n) + 1)} // odd: between two others
			what = "add " + s.Key()
			j, _ := slices.BinarySearchFunc(svcs, s, func(a, b state.Service) int { return strings.Compare(a.Key(), b.Key()) })
			svcs = slices.Insert(svcs, j, s)
		default:
			what = "stop serving " + svcs[k].Key()
			svcs[k].ServingNodes = nil
		}
		c = &state.Cluster{Model: c.Model, Nodes: c.Nodes, Services: svcs}
		last := bl.last
		got, err := bl.Build(c, node1, BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if bl.last != last {
			t.Fatalf("step %d (%s): a full build, want an update", i, what)
		}
		want, err := Build(c, node1, BuildOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// DeepEqual first: cmp.Diff of 1,000 networks is slow.
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("step %d (%s): Builder differs from Build (-want +got):\n%s", i, what, cmp.Diff(want, got, cmpPrefixes))
		}
	}
}

// TestBuilderPaths checks which changes a Builder updates and which take
// the full computation.
func TestBuilderPaths(t *testing.T) {
	m := baseModel(t)
	db := mkSvc("data/db", "pool-b", "203.0.113.7")
	web := mkSvc("shop/web", "pool-a", "198.51.100.10", "2001:db8:100::10")
	coinciding := func() *config.Model {
		m := &config.Model{
			Pools: []config.Pool{mkPool(t, "x", "198.51.100.0/26"), mkPool(t, "y", "198.51.100.64/26")},
			Peers: []config.Peer{mkPeer("tor", "192.0.2.254", 64512, 64513)},
			BGPAdvertisements: []config.BGPAdvertisement{
				mkAdv("adv-x", []string{"x"}, func(a *config.BGPAdvertisement) { a.AggregationLength = 24 }),
				mkAdv("adv-y", []string{"y"}, func(a *config.BGPAdvertisement) { a.AggregationLength = 24 }),
			},
		}
		return m
	}()
	// selecting: pool-a's "web" and "pub" advertisements apply only to
	// the Services their serviceSelectors select.
	selecting := func() *config.Model {
		m := baseModel(t)
		m.BGPAdvertisements = append(m.BGPAdvertisements,
			mkAdv("web", []string{"pool-a"}, func(a *config.BGPAdvertisement) {
				a.ServiceSelectors, a.Peers = []labels.Selector{sel("tier", "web")}, []string{"tor"}
			}),
			mkAdv("pub", []string{"pool-a"}, func(a *config.BGPAdvertisement) {
				a.ServiceSelectors = []labels.Selector{sel("exposure", "public")}
			}),
		)
		return m
	}()
	labelled := func(s state.Service, l labels.Set) state.Service { s.Labels = l; return s }
	tests := []struct {
		name  string
		first *state.Cluster
		next  func(*state.Cluster) *state.Cluster
		opts  func(*BuildOptions)
		node  string
		// wantUpdate tells that the second Build updates the first.
		wantUpdate bool
	}{
		{
			name:       "Service added",
			first:      cluster(m, db),
			next:       func(c *state.Cluster) *state.Cluster { c.Services = append(c.Services, web); return c },
			wantUpdate: true,
		},
		{
			name:       "nothing changed",
			first:      cluster(m, db, web),
			next:       func(c *state.Cluster) *state.Cluster { return c },
			wantUpdate: true,
		},
		{
			name:  "new model pointer",
			first: cluster(m, db),
			next: func(c *state.Cluster) *state.Cluster {
				m2 := *m
				c.Model = &m2
				return c
			},
		},
		{
			name:  "node label changed",
			first: cluster(m, db),
			next:  func(c *state.Cluster) *state.Cluster { c.Nodes[0].Labels = labels.Set{"zone": "b"}; return c },
		},
		{
			name:  "node cordoned",
			first: cluster(m, db),
			next:  func(c *state.Cluster) *state.Cluster { c.Nodes[0].Unschedulable = true; return c },
		},
		{
			name:  "phase changed",
			first: cluster(m, db),
			next:  func(c *state.Cluster) *state.Cluster { return c },
			opts:  func(o *BuildOptions) { o.Phase = PhaseGracefulShutdown },
		},
		{
			name:  "other node",
			first: cluster(m, db),
			next:  func(c *state.Cluster) *state.Cluster { return c },
			node:  node2,
		},
		{
			name:       "withdrawn: Services do not matter",
			first:      cluster(m, db),
			next:       func(c *state.Cluster) *state.Cluster { c.Services = nil; return c },
			opts:       func(o *BuildOptions) { o.Phase = PhaseWithdrawn },
			wantUpdate: true,
		},
		{
			name:  "Services not sorted",
			first: cluster(m, db),
			next:  func(c *state.Cluster) *state.Cluster { c.Services = []state.Service{web, db}; return c },
		},
		{
			name:  "a namespace with a slash",
			first: cluster(m, db),
			next: func(c *state.Cluster) *state.Cluster {
				c.Services = append(c.Services, mkSvc("x/y/z", "pool-b", "203.0.113.8"))
				return c
			},
		},
		{
			name:  "a union class appears",
			first: cluster(coinciding, mkSvc("a/x", "x", "198.51.100.1")),
			next: func(c *state.Cluster) *state.Cluster {
				c.Services = append(c.Services, mkSvc("a/y", "y", "198.51.100.70"))
				return c
			},
		},
		{
			name:  "a union class goes",
			first: cluster(coinciding, mkSvc("a/x", "x", "198.51.100.1"), mkSvc("a/y", "y", "198.51.100.70")),
			next:  func(c *state.Cluster) *state.Cluster { c.Services = c.Services[:1]; return c },
		},
		{
			name:  "endpoints moved",
			first: cluster(m, db, web),
			next: func(c *state.Cluster) *state.Cluster {
				c.Services[0].ServingNodes = []string{node3}
				return c
			},
			wantUpdate: true,
		},
		{
			name:  "a union class appears with two new Services",
			first: cluster(coinciding),
			next: func(c *state.Cluster) *state.Cluster {
				c.Services = []state.Service{mkSvc("a/x", "x", "198.51.100.1"), mkSvc("a/y", "y", "198.51.100.70")}
				return c
			},
		},
		{
			name:  "same class, same aggregate",
			first: cluster(coinciding, mkSvc("a/x", "x", "198.51.100.1")),
			next: func(c *state.Cluster) *state.Cluster {
				c.Services = append(c.Services, mkSvc("a/x2", "x", "198.51.100.2"))
				return c
			},
			wantUpdate: true,
		},
		{
			name:  "Service added that a serviceSelector selects",
			first: cluster(selecting, db),
			next: func(c *state.Cluster) *state.Cluster {
				c.Services = append(c.Services, labelled(web, labels.Set{"tier": "web"}))
				return c
			},
			wantUpdate: true,
		},
		{
			name:  "relabelled, with no effect on what selects it",
			first: cluster(selecting, db, labelled(web, labels.Set{"tier": "web", "v": "1"})),
			next: func(c *state.Cluster) *state.Cluster {
				c.Services[1] = labelled(web, labels.Set{"tier": "web", "v": "2"})
				return c
			},
			wantUpdate: true,
		},
		{
			name:  "relabelled into a selecting advertisement: its prefixes move to another class",
			first: cluster(selecting, db, web),
			next: func(c *state.Cluster) *state.Cluster {
				c.Services[1] = labelled(web, labels.Set{"tier": "web"})
				return c
			},
		},
		{
			name:  "relabelled out of it",
			first: cluster(selecting, db, labelled(web, labels.Set{"tier": "web"})),
			next: func(c *state.Cluster) *state.Cluster {
				c.Services[1] = web
				return c
			},
		},
		{
			name:  "two serviceSelectors select a new Service: an extra class",
			first: cluster(selecting, db),
			next: func(c *state.Cluster) *state.Cluster {
				c.Services = append(c.Services, labelled(web, labels.Set{"tier": "web", "exposure": "public"}))
				return c
			},
		},
		{
			name:  "a prefix moves to another class",
			first: cluster(coinciding, mkSvc("a/x", "x", "198.51.100.1")),
			next: func(c *state.Cluster) *state.Cluster {
				c.Services = []state.Service{mkSvc("a/x", "y", "198.51.100.1")}
				return c
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bl := NewBuilder()
			if _, err := bl.Build(tc.first, node1, BuildOptions{}); err != nil {
				t.Fatal(err)
			}
			first := bl.last
			copied := *tc.first
			copied.Nodes, copied.Services = testNodes(), slices.Clone(tc.first.Services)
			second := tc.next(&copied)
			var opts BuildOptions
			if tc.opts != nil {
				tc.opts(&opts)
			}
			if tc.opts != nil && opts.Phase == PhaseWithdrawn {
				// Withdraw first, so that the second call updates.
				if _, err := bl.Build(tc.first, node1, opts); err != nil {
					t.Fatal(err)
				}
				first = bl.last
			}
			node := tc.node
			if node == "" {
				node = node1
			}
			got, err := bl.Build(second, node, opts)
			if err != nil {
				t.Fatal(err)
			}
			if gotUpdate := bl.last == first; gotUpdate != tc.wantUpdate {
				t.Errorf("updated: %t, want %t", gotUpdate, tc.wantUpdate)
			}
			want, err := Build(second, node, opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got, cmpPrefixes); diff != "" {
				t.Errorf("Builder differs from Build (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBuilderError checks that a Builder returns Build's error, and
// builds fully again after it.
func TestBuilderError(t *testing.T) {
	bl := NewBuilder()
	c := cluster(baseModel(t), mkSvc("data/db", "pool-b", "203.0.113.7"))
	for _, node := range []string{"nowhere", node1} {
		got, gotErr := bl.Build(c, node, BuildOptions{})
		want, wantErr := Build(c, node, BuildOptions{})
		if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("node %s: error %v, want %v", node, gotErr, wantErr)
		}
		if diff := cmp.Diff(want, got, cmpPrefixes); diff != "" {
			t.Errorf("node %s: (-want +got):\n%s", node, diff)
		}
	}
	for _, c := range []*state.Cluster{nil, {}} {
		if _, err := bl.Build(c, node1, BuildOptions{}); err == nil {
			t.Errorf("Build(%v) succeeded, want an error", c)
		}
	}
}
