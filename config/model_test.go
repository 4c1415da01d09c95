package config

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/ipam"
)

// fullObjects is a valid configuration that uses every kind of object.
func fullObjects() Objects {
	gold := v1beta1.Community{ObjectMeta: meta("communities"), Spec: v1beta1.CommunitySpec{Communities: []v1beta1.CommunityAlias{{Name: "gold", Value: "65000:1"}}}}
	edge := mkPool("edge", "192.0.2.0/24", "2001:db8::/120")
	edge.Labels = map[string]string{"tier": "edge"}
	internal := mkPool("internal", "10.0.0.10-10.0.0.20")
	internal.Spec.AutoAssign = ptr(false)
	web := mkPool("web", "198.51.100.0/25")
	web.Spec.ServiceAllocation = &v1beta1.ServiceAllocation{Priority: 1, Namespaces: []string{"web"}}
	tor := mkPeer("tor", "192.0.2.254", 64512, 64513)
	tor.Spec.BFDProfile = "fast"
	tor.Spec.PasswordSecret = corev1.SecretReference{Name: "tor-auth"}
	tor.Spec.HoldTime = &metav1.Duration{Duration: 9 * time.Second}
	return Objects{
		Namespace:   testNS,
		Pools:       []v1beta1.IPAddressPool{web, edge, internal},
		BGPPeers:    []v1beta2.BGPPeer{tor, mkPeer("rr", "2001:db8::ffff", 64512, 64512)},
		BFDProfiles: []v1beta1.BFDProfile{{ObjectMeta: meta("fast"), Spec: v1beta1.BFDProfileSpec{TransmitInterval: ptr(uint32(100))}}},
		Communities: []v1beta1.Community{gold},
		BGPAdvertisements: []v1beta1.BGPAdvertisement{
			{ObjectMeta: meta("edge"), Spec: v1beta1.BGPAdvertisementSpec{
				IPAddressPoolSelectors: []metav1.LabelSelector{labelSel("tier", "edge")},
				Communities:            []string{"gold"},
				Peers:                  []string{"tor"},
				AggregationLength:      ptr(int32(24)),
			}},
			{ObjectMeta: meta("rest"), Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"web", "internal"}, LocalPref: 50}},
		},
		L2Advertisements: []v1beta1.L2Advertisement{{ObjectMeta: meta("lan"), Spec: v1beta1.L2AdvertisementSpec{Interfaces: []string{"eth0"}}}},
		Secrets: []corev1.Secret{
			mkSecret(testNS, "tor-auth", corev1.SecretTypeBasicAuth, map[string]string{"password": "md5pass"}),
			mkSecret(testNS, "unrelated", corev1.SecretTypeOpaque, nil),
		},
	}
}

func TestBuildFull(t *testing.T) {
	fast := BFDProfile{Name: "fast", ReceiveInterval: 300, TransmitInterval: 100, DetectMultiplier: 3, EchoInterval: 50, MinimumTTL: 254}
	want := &Model{
		Pools: []Pool{
			{Name: "edge", Labels: labels.Set{"tier": "edge"}, Ranges: ranges(t, "192.0.2.0/24", "2001:db8::/120"), AutoAssign: true},
			{Name: "internal", Ranges: ranges(t, "10.0.0.10-10.0.0.20")},
			{Name: "web", Ranges: ranges(t, "198.51.100.0/25"), AutoAssign: true, ServiceAllocation: &ServiceAllocation{Priority: 1, Namespaces: []string{"web"}}},
		},
		Peers: []Peer{
			{Name: "rr", MyASN: 64512, PeerASN: 64512, Address: netip.MustParseAddr("2001:db8::ffff"), Port: 179},
			{
				Name: "tor", MyASN: 64512, PeerASN: 64513, Address: netip.MustParseAddr("192.0.2.254"), Port: 179,
				HoldTime: ptr(9 * time.Second), KeepaliveTime: ptr(3 * time.Second),
				Password: NewPassword("md5pass"), BFDProfile: &fast,
			},
		},
		BGPAdvertisements: []BGPAdvertisement{
			{
				Name: "edge", AggregationLength: 24, AggregationLengthV6: 128,
				Communities: []Community{{Global: 65000, Local1: 1}}, Pools: []string{"edge"}, Peers: []string{"tor"},
			},
			{Name: "rest", AggregationLength: 32, AggregationLengthV6: 128, LocalPref: 50, Pools: []string{"internal", "web"}},
		},
		L2Advertisements: []L2Advertisement{{Name: "lan", Pools: []string{"edge", "internal", "web"}, Interfaces: []string{"eth0"}}},
		BFDProfiles:      []BFDProfile{fast},
		Communities:      map[string]Community{"gold": {Global: 65000, Local1: 1}},
	}
	got, err := Build(fullObjects())
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if diff := cmp.Diff(want, got, cmpOpts); diff != "" {
		t.Errorf("Model mismatch (-want +got):\n%s", diff)
	}
	if p := got.Pool("web"); p == nil || p.Name != "web" {
		t.Errorf("Pool(web) = %v", p)
	}
	if p := got.Pool("nope"); p != nil {
		t.Errorf("Pool(nope) = %v, want nil", p)
	}
	if p := got.Peer("tor"); p == nil || p.Name != "tor" {
		t.Errorf("Peer(tor) = %v", p)
	}
	if p := got.Peer("nope"); p != nil {
		t.Errorf("Peer(nope) = %v, want nil", p)
	}
}

func TestBuildEmpty(t *testing.T) {
	got, err := Build(Objects{})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if diff := cmp.Diff(&Model{Communities: map[string]Community{}}, got, cmpOpts); diff != "" {
		t.Errorf("Model mismatch (-want +got):\n%s", diff)
	}
}

func TestBuildNames(t *testing.T) {
	other := func(m metav1.ObjectMeta) metav1.ObjectMeta { m.Namespace = "other"; return m }
	tests := []struct {
		name    string
		in      Objects
		wantErr []FieldError
	}{
		{
			name: "duplicate names of every kind",
			in: Objects{
				Namespace:   testNS,
				Pools:       []v1beta1.IPAddressPool{mkPool("a", "192.0.2.0/24"), mkPool("a", "192.0.2.0/24"), mkPool("a", "198.51.100.0/24")},
				BGPPeers:    []v1beta2.BGPPeer{mkPeer("p", "192.0.2.1", 1, 2), mkPeer("p", "192.0.2.2", 1, 2)},
				BFDProfiles: []v1beta1.BFDProfile{{ObjectMeta: meta("b")}, {ObjectMeta: meta("b")}},
				Communities: []v1beta1.Community{{ObjectMeta: meta("c")}, {ObjectMeta: meta("c")}},
				BGPAdvertisements: []v1beta1.BGPAdvertisement{
					// References to duplicated names are not reported as unknown.
					{ObjectMeta: meta("x"), Spec: v1beta1.BGPAdvertisementSpec{IPAddressPools: []string{"a"}, Peers: []string{"p"}}},
					{ObjectMeta: meta("x")},
				},
				L2Advertisements: []v1beta1.L2Advertisement{{ObjectMeta: meta("l")}, {ObjectMeta: meta("l")}},
			},
			wantErr: []FieldError{
				{Kind: KindCommunity, Name: "c", Field: "metadata.name", Reason: "2 objects have this name"},
				{Kind: KindBFDProfile, Name: "b", Field: "metadata.name", Reason: "2 objects have this name"},
				{Kind: KindIPAddressPool, Name: "a", Field: "metadata.name", Reason: "3 objects have this name"},
				{Kind: KindBGPPeer, Name: "p", Field: "metadata.name", Reason: "2 objects have this name"},
				{Kind: KindBGPAdvertisement, Name: "x", Field: "metadata.name", Reason: "2 objects have this name"},
				{Kind: KindL2Advertisement, Name: "l", Field: "metadata.name", Reason: "2 objects have this name"},
			},
		},
		{
			name: "empty names and other namespaces",
			in: Objects{
				Namespace:   testNS,
				Pools:       []v1beta1.IPAddressPool{{ObjectMeta: other(meta("a")), Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.0/24"}}}},
				BFDProfiles: []v1beta1.BFDProfile{{}, {}},
			},
			wantErr: []FieldError{
				{Kind: KindBFDProfile, Name: "", Field: "metadata.name", Reason: "must not be empty"},
				{Kind: KindIPAddressPool, Name: "a", Field: "metadata.namespace", Reason: `is "other", but ironlb reads its configuration from namespace "ironlb-system"`},
			},
		},
		{
			name: "no namespace given accepts any",
			in: Objects{
				Pools: []v1beta1.IPAddressPool{{ObjectMeta: other(meta("a")), Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.0/24"}}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.in)
			checkErrs(t, err, tt.wantErr)
		})
	}
}

// brokenObjects is fullObjects with a problem in every kind of object.
func brokenObjects() Objects {
	o := fullObjects()
	o.Pools = append(o.Pools, mkPool("overlap", "192.0.2.128/25", "bad"), mkPool("edge", "203.0.113.0/24"))
	o.BGPPeers = append(o.BGPPeers, mkPeer("bad", "nope", 0, 1))
	o.BFDProfiles = append(o.BFDProfiles, v1beta1.BFDProfile{ObjectMeta: meta("slow"), Spec: v1beta1.BFDProfileSpec{DetectMultiplier: ptr(uint32(1))}})
	o.Communities = append(o.Communities, v1beta1.Community{ObjectMeta: meta("more"), Spec: v1beta1.CommunitySpec{Communities: []v1beta1.CommunityAlias{{Name: "gold", Value: "1:1"}}}})
	o.BGPAdvertisements = append(o.BGPAdvertisements, v1beta1.BGPAdvertisement{ObjectMeta: meta("bad"), Spec: v1beta1.BGPAdvertisementSpec{
		Communities: []string{"silver"}, Peers: []string{"ghost"}, IPAddressPools: []string{"nope"},
	}})
	o.L2Advertisements = append(o.L2Advertisements, v1beta1.L2Advertisement{ObjectMeta: meta("lan"), Spec: v1beta1.L2AdvertisementSpec{Interfaces: []string{"a b"}}})
	return o
}

// shuffled returns a copy of o with every slice in a random order.
func shuffled(r *rand.Rand, o Objects) Objects {
	shuffle := func(n int, swap func(i, j int)) { r.Shuffle(n, swap) }
	out := o
	out.Pools = append([]v1beta1.IPAddressPool(nil), o.Pools...)
	out.BGPPeers = append([]v1beta2.BGPPeer(nil), o.BGPPeers...)
	out.BGPAdvertisements = append([]v1beta1.BGPAdvertisement(nil), o.BGPAdvertisements...)
	out.L2Advertisements = append([]v1beta1.L2Advertisement(nil), o.L2Advertisements...)
	out.BFDProfiles = append([]v1beta1.BFDProfile(nil), o.BFDProfiles...)
	out.Communities = append([]v1beta1.Community(nil), o.Communities...)
	out.Secrets = append([]corev1.Secret(nil), o.Secrets...)
	shuffle(len(out.Pools), func(i, j int) { out.Pools[i], out.Pools[j] = out.Pools[j], out.Pools[i] })
	shuffle(len(out.BGPPeers), func(i, j int) { out.BGPPeers[i], out.BGPPeers[j] = out.BGPPeers[j], out.BGPPeers[i] })
	shuffle(len(out.BGPAdvertisements), func(i, j int) {
		out.BGPAdvertisements[i], out.BGPAdvertisements[j] = out.BGPAdvertisements[j], out.BGPAdvertisements[i]
	})
	shuffle(len(out.L2Advertisements), func(i, j int) {
		out.L2Advertisements[i], out.L2Advertisements[j] = out.L2Advertisements[j], out.L2Advertisements[i]
	})
	shuffle(len(out.BFDProfiles), func(i, j int) { out.BFDProfiles[i], out.BFDProfiles[j] = out.BFDProfiles[j], out.BFDProfiles[i] })
	shuffle(len(out.Communities), func(i, j int) { out.Communities[i], out.Communities[j] = out.Communities[j], out.Communities[i] })
	shuffle(len(out.Secrets), func(i, j int) { out.Secrets[i], out.Secrets[j] = out.Secrets[j], out.Secrets[i] })
	return out
}

// TestBuildDeterministic feeds the same objects in many orders and
// expects the same Model, or the same errors in the same order.
func TestBuildDeterministic(t *testing.T) {
	tests := []struct {
		name string
		in   Objects
	}{
		{name: "valid", in: fullObjects()},
		{name: "broken", in: brokenObjects()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantModel, wantErr := Build(tt.in)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range 200 {
				got, err := Build(shuffled(r, tt.in))
				if diff := cmp.Diff(wantModel, got, cmpOpts); diff != "" {
					t.Fatalf("shuffle %d: Model mismatch (-want +got):\n%s", i, diff)
				}
				if diff := cmp.Diff(Errors(wantErr), Errors(err)); diff != "" {
					t.Fatalf("shuffle %d: errors mismatch (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestBuildBrokenReportsEveryKind(t *testing.T) {
	_, err := Build(brokenObjects())
	kinds := map[string]bool{}
	for _, e := range Errors(err) {
		kinds[e.Kind] = true
	}
	for _, k := range []string{KindCommunity, KindBFDProfile, KindIPAddressPool, KindBGPPeer, KindBGPAdvertisement, KindL2Advertisement} {
		if !kinds[k] {
			t.Errorf("no error about a %s in:\n%v", k, err)
		}
	}
}

// FuzzBuild checks that Build never panics, whatever the objects.
func FuzzBuild(f *testing.F) {
	for _, o := range []Objects{fullObjects(), brokenObjects(), {}} {
		b, err := yaml.Marshal(o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var o Objects
		if err := yaml.Unmarshal(b, &o); err != nil {
			return
		}
		m, err := Build(o)
		if (m == nil) == (err == nil) {
			t.Fatalf("Build returned model %v and error %v", m, err)
		}
	})
}

func TestPoolHolding(t *testing.T) {
	rng := func(first, last string) ipam.Range {
		return ipam.Range{First: netip.MustParseAddr(first), Last: netip.MustParseAddr(last)}
	}
	m := &Model{Pools: []Pool{
		{Name: "a", Ranges: []ipam.Range{rng("192.0.2.0", "192.0.2.9"), rng("2001:db8::", "2001:db8::ff")}},
		{Name: "b", Ranges: []ipam.Range{rng("192.0.2.5", "192.0.2.20")}},
	}}
	for _, tc := range []struct {
		model *Model
		ip    string
		want  string
	}{
		{m, "192.0.2.0", "a"},
		{m, "192.0.2.7", "a"}, // in both: the first pool
		{m, "192.0.2.20", "b"},
		{m, "192.0.2.21", ""},
		{m, "2001:db8::ff", "a"},
		{m, "2001:db8::100", ""},
		{nil, "192.0.2.1", ""},
	} {
		if got := tc.model.PoolHolding(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("PoolHolding(%s) = %q, want %q", tc.ip, got, tc.want)
		}
	}
}
