package status

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/config"
)

// threeModes has a pool per mode and one no advertisement covers.
func threeModes() config.Objects {
	return config.Objects{
		Namespace: ns,
		Pools: []v1beta1.IPAddressPool{
			pool("bgp", "192.0.2.0/28"), pool("l2", "192.0.2.16/28"),
			pool("both", "192.0.2.32/28"), pool("dark", "192.0.2.48/28"),
		},
		BGPPeers:          []v1beta2.BGPPeer{peer("rtr", "198.51.100.1")},
		BGPAdvertisements: []v1beta1.BGPAdvertisement{bgpAdv("b", "bgp", "both")},
		L2Advertisements:  []v1beta1.L2Advertisement{l2Adv("l", "l2", "both")},
	}
}

func TestBuildServices(t *testing.T) {
	otherClass := lbService("shop", "other-class", "192.0.2.5")
	otherClass.Spec.LoadBalancerClass = ptr.To("example.com/lb")
	clusterIP := lbService("shop", "cluster-ip")
	clusterIP.Spec.Type = corev1.ServiceTypeClusterIP

	tests := []struct {
		name string
		in   Objects
		want []Service
	}{
		{
			name: "mode from the advertisements covering the pool",
			in: Objects{
				Config: threeModes(),
				Services: []corev1.Service{
					fromPool(lbService("shop", "a", "192.0.2.1"), "bgp"),
					fromPool(lbService("shop", "b", "192.0.2.17"), "l2"),
					fromPool(lbService("shop", "c", "192.0.2.33"), "both"),
					fromPool(lbService("shop", "d", "192.0.2.49"), "dark"),
				},
				BGPStatuses: []v1beta1.ServiceBGPStatus{
					bgpStatus("n2", "shop", "a", "rtr"), bgpStatus("n1", "shop", "a", "rtr"),
					bgpStatus("n1", "shop", "c", "rtr"),
				},
				L2Statuses: []v1beta1.ServiceL2Status{l2Status("n2", "shop", "b", "eth1", "eth0"), l2Status("n1", "shop", "c")},
			},
			want: []Service{
				{Namespace: "shop", Name: "a", IPs: []string{"192.0.2.1"}, Pool: "bgp", Mode: ModeBGP, Announcers: []Announcer{
					{Node: "n1", BGP: &BGPAnnouncement{Peers: []string{"rtr"}}},
					{Node: "n2", BGP: &BGPAnnouncement{Peers: []string{"rtr"}}},
				}},
				{Namespace: "shop", Name: "b", IPs: []string{"192.0.2.17"}, Pool: "l2", Mode: ModeL2, Announcers: []Announcer{
					{Node: "n2", L2: &L2Announcement{Interfaces: []string{"eth0", "eth1"}}},
				}},
				{Namespace: "shop", Name: "c", IPs: []string{"192.0.2.33"}, Pool: "both", Mode: ModeBoth, Announcers: []Announcer{
					{Node: "n1", BGP: &BGPAnnouncement{Peers: []string{"rtr"}}, L2: &L2Announcement{Interfaces: []string{}}},
				}},
				{Namespace: "shop", Name: "d", IPs: []string{"192.0.2.49"}, Pool: "dark", Mode: ModeNone,
					Note: `no BGPAdvertisement or L2Advertisement covers pool "dark"`},
			},
		},
		{
			name: "pool from the IP without the annotation, dual stack IPv4 first",
			in: Objects{
				Config:   config.Objects{Namespace: ns, Pools: []v1beta1.IPAddressPool{pool("p", "192.0.2.0/24", "2001:db8::/64")}, L2Advertisements: []v1beta1.L2Advertisement{l2Adv("l")}},
				Services: []corev1.Service{lbService("shop", "dual", "2001:db8::1", "192.0.2.1", "not-an-ip")},
			},
			want: []Service{{
				Namespace: "shop", Name: "dual", IPs: []string{"192.0.2.1", "2001:db8::1"}, Pool: "p", Mode: ModeL2,
				Note: "no node announces it (no serving endpoint on an eligible node, or no speaker running)",
			}},
		},
		{
			name: "other types and classes are left out",
			in: Objects{
				Config:   threeModes(),
				Services: []corev1.Service{otherClass, clusterIP},
			},
			want: []Service{},
		},
		{
			name: "the class ironlb serves is in",
			in: Objects{
				Config:   threeModes(),
				Services: []corev1.Service{otherClass},
				LBClass:  "example.com/lb",
			},
			want: []Service{{Namespace: "shop", Name: "other-class", IPs: []string{"192.0.2.5"}, Pool: "bgp", Mode: ModeBGP,
				Note: "no node announces it (no serving endpoint on an eligible node, or no speaker running)"}},
		},
		{
			name: "pending: the newest AllocationFailed event explains",
			in: Objects{
				Config:   threeModes(),
				Services: []corev1.Service{lbService("shop", "pending"), lbService("shop", "quiet"), fromPool(lbService("shop", "done", "192.0.2.1"), "bgp")},
				Events: []eventsv1.Event{
					failedEvent("e1", "shop", "pending", "old reason", now.Add(-time.Hour)),
					failedEvent("e2", "shop", "pending", "new reason", now.Add(-time.Minute)),
					failedEvent("e3", "shop", "done", "stale", now),
					{Reason: "IPAllocated", Regarding: corev1.ObjectReference{Kind: "Service", Namespace: "shop", Name: "quiet"}, Note: "not a failure"},
				},
				BGPStatuses: []v1beta1.ServiceBGPStatus{bgpStatus("n1", "shop", "done")},
			},
			want: []Service{
				{Namespace: "shop", Name: "done", IPs: []string{"192.0.2.1"}, Pool: "bgp", Mode: ModeBGP, Announcers: []Announcer{
					{Node: "n1", BGP: &BGPAnnouncement{Peers: []string{}}},
				}},
				{Namespace: "shop", Name: "pending", IPs: []string{}, Note: "AllocationFailed: new reason"},
				{Namespace: "shop", Name: "quiet", IPs: []string{}, Note: "no IP assigned yet"},
			},
		},
		{
			name: "invalid configuration: mode unknown",
			in: Objects{
				Config:   config.Objects{Namespace: ns, Pools: []v1beta1.IPAddressPool{pool("p", "192.0.2.0/24")}, BGPAdvertisements: []v1beta1.BGPAdvertisement{bgpAdv("b", "missing")}},
				Services: []corev1.Service{lbService("shop", "a", "192.0.2.1")},
			},
			want: []Service{{Namespace: "shop", Name: "a", IPs: []string{"192.0.2.1"}, Mode: ModeUnknown,
				Note: "the current configuration is invalid (see CONFIGURATION ERRORS)"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Build(tt.in).Services
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Build().Services (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildNodes(t *testing.T) {
	speakers := []v1beta1.SpeakerStatus{
		{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "n2"},
			Status: v1beta1.SpeakerStatusStatus{
				Node:  "n2",
				Phase: "graceful-shutdown",
				LastApply: &v1beta1.ApplyResult{
					Time: metav1.NewTime(now.Add(-90 * time.Second)), Path: "full", Stage: "reload",
					Message: "line 3: % Unknown command", DurationMilliseconds: 1200,
				},
				Sessions: []v1beta1.BGPSession{
					{Peer: "rtr-b", Address: "198.51.100.2", State: "Active", LastError: "Hold Timer Expired"},
					{Peer: "rtr-a", Address: "198.51.100.1", State: "Established", Since: before(3 * time.Hour), PrefixesSent: 4, BFD: "up", EstablishedTransitions: 2},
				},
			},
		},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "n1"}},
	}
	tests := []struct {
		name string
		now  time.Time
		want []Node
	}{
		{
			name: "with a time",
			now:  now,
			want: []Node{
				{Name: "n1", Sessions: []Session{}},
				{Name: "n2", Phase: "graceful-shutdown",
					LastApply: &Apply{Time: now.Add(-90 * time.Second), AgeSeconds: 90, Path: "full", Stage: "reload", Message: "line 3: % Unknown command", DurationMilliseconds: 1200},
					Sessions: []Session{
						{Peer: "rtr-a", Address: "198.51.100.1", State: "Established", Since: ptr.To(now.Add(-3 * time.Hour)), UptimeSeconds: 3 * 3600, EstablishedTransitions: 2, PrefixesSent: 4, BFD: "up"},
						{Peer: "rtr-b", Address: "198.51.100.2", State: "Active", LastError: "Hold Timer Expired"},
					},
				},
			},
		},
		{
			name: "without a time there are no ages",
			want: []Node{
				{Name: "n1", Sessions: []Session{}},
				{Name: "n2", Phase: "graceful-shutdown",
					LastApply: &Apply{Time: now.Add(-90 * time.Second), Path: "full", Stage: "reload", Message: "line 3: % Unknown command", DurationMilliseconds: 1200},
					Sessions: []Session{
						{Peer: "rtr-a", Address: "198.51.100.1", State: "Established", Since: ptr.To(now.Add(-3 * time.Hour)), EstablishedTransitions: 2, PrefixesSent: 4, BFD: "up"},
						{Peer: "rtr-b", Address: "198.51.100.2", State: "Active", LastError: "Hold Timer Expired"},
					},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Build(Objects{Speakers: speakers, Now: tt.now}).Nodes
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Build().Nodes (-want +got):\n%s", diff)
			}
			if n := got[1].Established(); n != 1 {
				t.Errorf("Established() = %d, want 1", n)
			}
		})
	}
}

func TestBuildConfiguration(t *testing.T) {
	const (
		errPool = `BGPAdvertisement "b": spec.ipAddressPools[0]: no IPAddressPool is named "missing"`
		errPeer = `BGPPeer "rtr": spec.myASN: must be set`
	)
	invalid := config.Objects{Namespace: ns, Pools: []v1beta1.IPAddressPool{pool("p", "192.0.2.0/24")}, BGPAdvertisements: []v1beta1.BGPAdvertisement{bgpAdv("b", "missing")}}
	withSecret := threeModes()
	withSecret.BGPPeers[0].Spec.PasswordSecret = corev1.SecretReference{Name: "not-readable"}

	tests := []struct {
		name       string
		in         Objects
		wantStates []ConfigState
		wantErrors []ConfigError
	}{
		{
			name: "all valid",
			in: Objects{
				Config: threeModes(),
				ConfigurationStates: []v1beta1.ConfigurationState{
					configState("speaker-n1", "speaker", "n1", v1beta1.ConfigurationStateResultValid, ""),
					configState("controller", "controller", "", v1beta1.ConfigurationStateResultValid, ""),
				},
			},
			wantStates: []ConfigState{
				{Name: "controller", Component: "controller", Result: "Valid"},
				{Name: "speaker-n1", Component: "speaker", Node: "n1", Result: "Valid"},
			},
		},
		{
			name:       "a password Secret need not be readable",
			in:         Objects{Config: withSecret},
			wantStates: []ConfigState{},
		},
		{
			name: "the same problem from several components is listed once",
			in: Objects{
				Config: invalid,
				ConfigurationStates: []v1beta1.ConfigurationState{
					configState("speaker-n1", "speaker", "n1", v1beta1.ConfigurationStateResultInvalid, errPeer+"\n"+errPool),
					configState("controller", "controller", "", v1beta1.ConfigurationStateResultInvalid, errPool),
					configState("speaker-n2", "speaker", "n2", "", ""),
				},
			},
			wantStates: []ConfigState{
				{Name: "controller", Component: "controller", Result: "Invalid"},
				{Name: "speaker-n1", Component: "speaker", Node: "n1", Result: "Invalid"},
				{Name: "speaker-n2", Component: "speaker", Node: "n2", Result: "Unknown"},
			},
			wantErrors: []ConfigError{
				{Error: errPool, ReportedBy: []string{"controller", "speaker-n1", CurrentObjects}},
				{Error: errPeer, ReportedBy: []string{"speaker-n1"}},
			},
		},
		{
			name: "an invalid state without an error still shows",
			in: Objects{
				Config:              threeModes(),
				ConfigurationStates: []v1beta1.ConfigurationState{configState("controller", "controller", "", v1beta1.ConfigurationStateResultInvalid, "")},
			},
			wantStates: []ConfigState{{Name: "controller", Component: "controller", Result: "Invalid"}},
			wantErrors: []ConfigError{{Error: "invalid (no error recorded)", ReportedBy: []string{"controller"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Build(tt.in)
			if diff := cmp.Diff(tt.wantStates, got.Configuration); diff != "" {
				t.Errorf("Build().Configuration (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantErrors, got.ConfigErrors); diff != "" {
				t.Errorf("Build().ConfigErrors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBuildPools(t *testing.T) {
	objs := threeModes()
	objs.Pools[0].Status = v1beta1.IPAddressPoolStatus{AssignedIPv4: 1, AvailableIPv4: 15}
	got := Build(Objects{Config: objs}).Pools
	want := []Pool{
		{Name: "bgp", Mode: ModeBGP, AssignedIPv4: 1, AvailableIPv4: 15},
		{Name: "both", Mode: ModeBoth},
		{Name: "dark", Mode: ModeNone},
		{Name: "l2", Mode: ModeL2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Build().Pools (-want +got):\n%s", diff)
	}
}

// TestBuildOrder feeds the same objects in many orders and expects the
// same report, and leaves the caller's objects untouched.
func TestBuildOrder(t *testing.T) {
	in := goldenObjects()
	in.Config.BGPPeers[0].Spec.Password = "secret"
	want := Build(in)
	if in.Config.BGPPeers[0].Spec.Password != "secret" {
		t.Fatal("Build changed the caller's BGPPeer")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		o := goldenObjects()
		o.Config.BGPPeers[0].Spec.Password = "secret"
		shuffle(rng, o.Config.Pools)
		shuffle(rng, o.Config.BGPPeers)
		shuffle(rng, o.Config.BGPAdvertisements)
		shuffle(rng, o.Config.L2Advertisements)
		shuffle(rng, o.Services)
		shuffle(rng, o.BGPStatuses)
		shuffle(rng, o.L2Statuses)
		shuffle(rng, o.Speakers)
		shuffle(rng, o.ConfigurationStates)
		shuffle(rng, o.Events)
		for j := range o.Speakers {
			shuffle(rng, o.Speakers[j].Status.Sessions)
		}
		if diff := cmp.Diff(want, Build(o)); diff != "" {
			t.Fatalf("order %d: Build() (-want +got):\n%s", i, diff)
		}
	}
}

func shuffle[T any](rng *rand.Rand, s []T) {
	rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}
