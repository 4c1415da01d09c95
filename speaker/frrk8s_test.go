package speaker

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/yaml"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/internal/testenv"
)

// TestDesiredFRRConfiguration checks the object a node's frr.Config
// becomes: named and labelled after the node, in frr-k8s's namespace,
// selecting the node by hostname; none for a node without routers.
func TestDesiredFRRConfiguration(t *testing.T) {
	own := &frr.Config{
		Routers: []frr.Router{{ASN: 64512, Neighbors: []frr.Neighbor{{Peer: "router", Address: "192.0.2.1", RemoteAS: "64500"}}}},
	}
	got, err := desiredFRRConfiguration("node-1", "frr-k8s-system", own)
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: frrk8s.metallb.io/v1beta1
kind: FRRConfiguration
metadata:
  labels:
    app.kubernetes.io/managed-by: ironlb
    metallb.io/node: node-1
  name: ironlb-node-1
  namespace: frr-k8s-system
spec:
  bgp:
    routers:
    - asn: 64512
      neighbors:
      - address: 192.0.2.1
        asn: 64500
        passwordSecret: {}
        toAdvertise:
          allowed:
            mode: filtered
        toReceive:
          allowed:
            mode: filtered
  nodeSelector:
    matchLabels:
      kubernetes.io/hostname: node-1
  raw: {}
status: {}
`
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("FRRConfiguration (-want +got):\n%s", diff)
	}
	for _, empty := range []*frr.Config{nil, {}} {
		if got, err := desiredFRRConfiguration("node-1", "frr-k8s-system", empty); got != nil || err != nil {
			t.Errorf("desiredFRRConfiguration(%v) = %v, %v; want nil, nil", empty, got, err)
		}
	}
	_, err = desiredFRRConfiguration("node-1", "frr-k8s-system", &frr.Config{
		Routers: []frr.Router{{ASN: 64512, Neighbors: []frr.Neighbor{{Peer: "router", Address: "192.0.2.1", RemoteAS: "64500", LocalAS: 64999}}}},
	})
	if err == nil || !strings.Contains(err.Error(), `BGPPeer "router": spec.localASN`) {
		t.Errorf("a local AS gave error %v, want one naming BGPPeer router and spec.localASN", err)
	}
}

// writeCounter counts the writes a client makes.
type writeCounter struct {
	mu     sync.Mutex
	writes []string
}

func (w *writeCounter) client(base client.WithWatch) client.WithWatch {
	rec := func(op string, o client.Object) {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.writes = append(w.writes, op+" "+o.GetName())
	}
	return interceptor.NewClient(base, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.CreateOption) error {
			rec("create", o)
			return c.Create(ctx, o, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.UpdateOption) error {
			rec("update", o)
			return c.Update(ctx, o, opts...)
		},
		Delete: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.DeleteOption) error {
			rec("delete", o)
			return c.Delete(ctx, o, opts...)
		},
	})
}

func (w *writeCounter) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.writes
	w.writes = nil
	return out
}

// TestFRRK8sWriterWritesOnlyChanges runs the writer against a real API
// server: it creates, updates and deletes the node's FRRConfiguration
// only when the desired one changes, restores it after an edit or a
// deletion by someone else, and keeps labels others added.
func TestFRRK8sWriterWritesOnlyChanges(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	const ns = "frr-k8s-system"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	base, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	counter := &writeCounter{}
	c := counter.client(base)
	w := &frrk8sWriter{client: c, apiReader: base, node: "n1", ns: ns}

	desired := func(prefixes ...string) *frrk8s.FRRConfiguration {
		r := frr.Router{ASN: 64512, Neighbors: []frr.Neighbor{{Peer: "router", Address: "192.0.2.1", RemoteAS: "64500"}}}
		if len(prefixes) > 0 {
			af := frr.AddressFamily{Name: "ipv4 unicast", Neighbors: []frr.AFNeighbor{{Address: "192.0.2.1", RouteMapOut: "out"}}}
			for _, p := range prefixes {
				af.Networks = append(af.Networks, frr.Network{Prefix: netip.MustParsePrefix(p), RouteMap: "origin"})
			}
			r.AddressFamilies = []frr.AddressFamily{af}
		}
		d, err := desiredFRRConfiguration("n1", ns, &frr.Config{
			Routers: []frr.Router{r},
			RouteMaps: []frr.RouteMap{
				{Name: "origin", Entries: []frr.RouteMapEntry{{Action: "permit", Seq: 1, SetTag: 1}}},
				{Name: "out", Entries: []frr.RouteMapEntry{{Action: "permit", Seq: 1, MatchTag: 1}}},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	key := client.ObjectKey{Namespace: ns, Name: "ironlb-n1"}
	read := func() *frrk8s.FRRConfiguration {
		t.Helper()
		var o frrk8s.FRRConfiguration
		if err := base.Get(ctx, key, &o); err != nil {
			t.Fatalf("reading %s: %v", key, err)
		}
		return &o
	}
	step := func(what string, want *frrk8s.FRRConfiguration, wantRes frrk8sResult, wantWrites ...string) {
		t.Helper()
		res, err := w.sync(ctx, want)
		if err != nil {
			t.Fatalf("%s: sync: %v", what, err)
		}
		if res != wantRes {
			t.Errorf("%s: result %s, want %s", what, res, wantRes)
		}
		if diff := cmp.Diff(wantWrites, counter.take()); diff != "" {
			t.Errorf("%s: writes (-want +got):\n%s", what, diff)
		}
	}

	one, two := desired("203.0.113.1/32"), desired("203.0.113.1/32", "203.0.113.2/32")
	step("first", one, frrk8sCreated, "create ironlb-n1")
	step("same again", one, frrk8sUnchanged)
	step("changed", two, frrk8sUpdated, "update ironlb-n1")
	if got := read(); got.Generation != 2 || len(got.Spec.BGP.Routers[0].Prefixes) != 2 {
		t.Errorf("after the update: generation %d, prefixes %v; want 2 and both", got.Generation, got.Spec.BGP.Routers[0].Prefixes)
	}
	step("same again", two, frrk8sUnchanged)

	// Someone edits the spec and adds a label: the spec is restored, the
	// label kept.
	edited := read()
	edited.Spec.BGP.Routers[0].Prefixes = []string{"198.51.100.0/24"}
	edited.Labels["team"] = "net"
	if err := base.Update(ctx, edited); err != nil {
		t.Fatal(err)
	}
	step("edited by someone else", two, frrk8sUpdated, "update ironlb-n1")
	if got := read(); got.Labels["team"] != "net" || fmt.Sprint(got.Spec.BGP.Routers[0].Prefixes) != "[203.0.113.1/32 203.0.113.2/32]" {
		t.Errorf("after restoring: labels %v, prefixes %v", got.Labels, got.Spec.BGP.Routers[0].Prefixes)
	}

	// Someone deletes it: it is made again.
	if err := base.Delete(ctx, read()); err != nil {
		t.Fatal(err)
	}
	step("deleted by someone else", two, frrk8sCreated, "create ironlb-n1")

	// No routers left: deleted, once.
	step("nothing to run", nil, frrk8sDeleted, "delete ironlb-n1")
	step("still nothing", nil, frrk8sUnchanged)

	// A writer started anew (a restarted speaker) finds the object as it
	// wants it and writes nothing.
	step("again", one, frrk8sCreated, "create ironlb-n1")
	fresh := &frrk8sWriter{client: c, apiReader: base, node: "n1", ns: ns}
	if res, err := fresh.sync(ctx, one); err != nil || res != frrk8sUnchanged {
		t.Errorf("a restarted writer: %s, %v; want unchanged", res, err)
	}
	if got := counter.take(); len(got) != 0 {
		t.Errorf("a restarted writer wrote %v", got)
	}
}
