package config

import (
	"bytes"
	"cmp"
	"encoding/json"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
)

// Objects is everything the model is built from, as listed from the API
// server or read from YAML. The order of every slice is irrelevant.
type Objects struct {
	Pools             []v1beta1.IPAddressPool
	BGPPeers          []v1beta2.BGPPeer
	BGPAdvertisements []v1beta1.BGPAdvertisement
	L2Advertisements  []v1beta1.L2Advertisement
	BFDProfiles       []v1beta1.BFDProfile
	Communities       []v1beta1.Community
	// Secrets are the Secrets that BGPPeers may name in passwordSecret.
	Secrets []corev1.Secret
	// Namespace is ironlb's own namespace: the metallb.io objects must be
	// in it (or have no namespace, as in a YAML file), and a
	// passwordSecret without a namespace is looked up in it.
	Namespace string
}

// Model is ironlb's validated configuration. Every slice is sorted by
// name, every default is explicit and every reference is resolved.
type Model struct {
	Pools             []Pool
	Peers             []Peer
	BGPAdvertisements []BGPAdvertisement
	L2Advertisements  []L2Advertisement
	BFDProfiles       []BFDProfile
	// Communities maps each alias defined by a Community object to its
	// value.
	Communities map[string]Community
}

// Build validates the objects and turns them into a Model. It reports
// every problem it finds, each a FieldError, joined with errors.Join in
// a stable order (see Errors); it then returns no Model. The same
// objects in any order give an equal Model and the same errors.
func Build(o Objects) (*Model, error) {
	b := &builder{namespace: o.Namespace}
	m := &Model{}
	m.Communities = b.communities(inOrder(o.Communities))
	m.BFDProfiles = b.bfdProfiles(inOrder(o.BFDProfiles))
	m.Pools = b.pools(inOrder(o.Pools))
	b.secrets = indexSecrets(o.Secrets)
	m.Peers = b.peers(inOrder(o.BGPPeers))
	m.BGPAdvertisements = b.bgpAdvertisements(inOrder(o.BGPAdvertisements), m.Pools)
	m.L2Advertisements = b.l2Advertisements(inOrder(o.L2Advertisements), m.Pools)
	b.bfdEchoTowardsIPv6(m)
	if err := b.err(); err != nil {
		return nil, err
	}
	return m, nil
}

// Pool returns the pool of that name, or nil.
func (m *Model) Pool(name string) *Pool {
	if m == nil {
		return nil
	}
	i, ok := slices.BinarySearchFunc(m.Pools, name, func(p Pool, name string) int { return cmp.Compare(p.Name, name) })
	if !ok {
		return nil
	}
	return &m.Pools[i]
}

// Holds reports whether ip lies in one of the pool's ranges; a nil pool
// holds nothing.
func (p *Pool) Holds(ip netip.Addr) bool {
	if p == nil {
		return false
	}
	for _, r := range p.Ranges {
		if r.Contains(ip) {
			return true
		}
	}
	return false
}

// PoolHolding returns the name of the first pool whose ranges hold ip,
// or "": the pool of a Service whose pool the controller did not record.
func (m *Model) PoolHolding(ip netip.Addr) string {
	if m == nil {
		return ""
	}
	for _, p := range m.Pools {
		for _, r := range p.Ranges {
			if r.Contains(ip) {
				return p.Name
			}
		}
	}
	return ""
}

// Peer returns the BGP peer of that name, or nil.
func (m *Model) Peer(name string) *Peer {
	if m == nil {
		return nil
	}
	i, ok := slices.BinarySearchFunc(m.Peers, name, func(p Peer, name string) int { return cmp.Compare(p.Name, name) })
	if !ok {
		return nil
	}
	return &m.Peers[i]
}

// builder holds what Build has learnt so far: the problems found and
// the objects that later objects refer to.
type builder struct {
	problems
	namespace string
	aliases   map[string]aliasDef
	bfdRef    refs[*BFDProfile]
	poolRef   refs[*poolInfo]
	peerRef   refs[*Peer]
	secrets   map[secretKey]*corev1.Secret
}

// refs resolves the names of the objects of one kind.
type refs[T any] struct {
	byName map[string]T // objects whose name no other object has
	dup    map[string]bool
}

// add records the object named name; a name that comes twice resolves
// to nothing, since its duplicates are already an error.
func (r *refs[T]) add(name string, v T) {
	if r.byName == nil {
		r.byName, r.dup = map[string]T{}, map[string]bool{}
	}
	if r.dup[name] {
		return
	}
	if _, ok := r.byName[name]; ok {
		delete(r.byName, name)
		r.dup[name] = true
		return
	}
	r.byName[name] = v
}

// get returns the object named name, and whether such a name exists at
// all. A duplicated name exists but has no object.
func (r *refs[T]) get(name string) (v T, exists bool) {
	v, ok := r.byName[name]
	return v, ok || r.dup[name]
}

// object is what inOrder needs from a metallb.io object.
type object[T any] interface {
	*T
	metav1.Object
}

// inOrder returns pointers to the items sorted by name. Objects that
// share a name are ordered by their JSON form, so the order does not
// depend on the input either.
func inOrder[T any, P object[T]](items []T) []P {
	out := make([]P, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	slices.SortStableFunc(out, func(a, b P) int {
		if c := cmp.Compare(a.GetName(), b.GetName()); c != 0 {
			return c
		}
		return bytes.Compare(jsonOf(a), jsonOf(b))
	})
	return out
}

// jsonOf returns the JSON form of v, used only to order objects.
func jsonOf(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// checkNames reports objects without a name, in another namespace than
// ironlb's, or sharing their name with another object of their kind. The
// objects must be in name order.
func checkNames[T any, P object[T]](b *builder, kind string, objs []P) {
	for i, o := range objs {
		name := o.GetName()
		if name == "" {
			b.add(kind, name, "metadata.name", "must not be empty")
		}
		if ns := o.GetNamespace(); ns != "" && b.namespace != "" && ns != b.namespace {
			b.add(kind, name, "metadata.namespace", "is %q, but ironlb reads its configuration from namespace %q", ns, b.namespace)
		}
		if name == "" || (i > 0 && objs[i-1].GetName() == name) {
			continue
		}
		n := 1
		for n < len(objs)-i && objs[i+n].GetName() == name {
			n++
		}
		if n > 1 {
			b.add(kind, name, "metadata.name", "%d objects have this name", n)
		}
	}
}
