package speaker_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/internal/testenv"
	"github.com/ironlb/ironlb/l2/announcer"
	"github.com/ironlb/ironlb/l2/iface"
	"github.com/ironlb/ironlb/speaker"
)

// TestSpeakerServiceSelectors checks, against a real API server, that a
// BGPAdvertisement's serviceSelectors reach the speaker and decide what
// goes into frr.conf: the Service they select is announced, the other
// one not, and relabelling a Service moves it in or out.
func TestSpeakerServiceSelectors(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	c := env.Client
	create := seedBGP(t, c, nil)
	var adv v1beta1.BGPAdvertisement
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "all"}, &adv); err != nil {
		t.Fatal(err)
	}
	adv.Spec.ServiceSelectors = []metav1.LabelSelector{{MatchLabels: map[string]string{"exposure": "public"}}}
	if err := c.Update(ctx, &adv); err != nil {
		t.Fatal(err)
	}

	service := func(name, ip string, labels map[string]string) {
		t.Helper()
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Labels: labels},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}},
		}
		create(svc)
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
		if err := c.Status().Update(ctx, svc); err != nil {
			t.Fatal(err)
		}
		create(&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: ptr.To("n1"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		})
	}
	relabel := func(name string, labels map[string]string) {
		t.Helper()
		var svc corev1.Service
		if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: name}, &svc); err != nil {
			t.Fatal(err)
		}
		svc.Labels = labels
		if err := c.Update(ctx, &svc); err != nil {
			t.Fatal(err)
		}
	}
	var frr *recordingFRR
	announced := func(want ...string) func() (bool, string) {
		return func() (bool, string) {
			l := frr.last()
			for _, ip := range []string{"203.0.113.5", "203.0.113.6"} {
				if strings.Contains(l, "network "+ip+"/32") != slices.Contains(want, ip) {
					return false, l
				}
			}
			return strings.Contains(l, "neighbor 192.0.2.1 remote-as 64500"), l
		}
	}

	service("public", "203.0.113.5", map[string]string{"exposure": "public"})
	service("private", "203.0.113.6", map[string]string{"exposure": "private"})
	frr = startSpeaker(t, env)

	testenv.Eventually(t, "only the selected Service announced", announced("203.0.113.5"))
	testenv.Eventually(t, "ServiceBGPStatus of the selected Service only", func() (bool, string) {
		var list v1beta1.ServiceBGPStatusList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		var names []string
		for _, s := range list.Items {
			names = append(names, s.Status.ServiceName)
		}
		return len(names) == 1 && names[0] == "public", fmt.Sprint(names)
	})

	relabel("private", map[string]string{"exposure": "public"})
	testenv.Eventually(t, "a relabelled Service announced", announced("203.0.113.5", "203.0.113.6"))

	relabel("public", nil)
	testenv.Eventually(t, "a Service whose label went withdrawn", announced("203.0.113.6"))
}

// ownerOpener opens responders that record the IPs the announcer gives
// them, for a speaker whose Layer 2 side runs without sockets.
type ownerOpener struct {
	mu    sync.Mutex
	owned map[string][]netip.Addr // by "iface/protocol"
}

func (o *ownerOpener) Open(link iface.Link, proto announcer.Protocol, _ announcer.Hooks) (announcer.Responder, error) {
	return &ownerResponder{o: o, name: fmt.Sprintf("%s/%v", link.Name, proto)}, nil
}

// ownedIPs returns every IP some responder answers for.
func (o *ownerOpener) ownedIPs() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, ips := range o.owned {
		for _, ip := range ips {
			out = append(out, ip.String())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

type ownerResponder struct {
	o    *ownerOpener
	name string
}

func (r *ownerResponder) Run(ctx context.Context) error {
	<-ctx.Done()
	r.o.mu.Lock()
	defer r.o.mu.Unlock()
	delete(r.o.owned, r.name)
	return nil
}

func (r *ownerResponder) SetOwned(ips []netip.Addr) error {
	r.o.mu.Lock()
	defer r.o.mu.Unlock()
	if r.o.owned == nil {
		r.o.owned = map[string][]netip.Addr{}
	}
	r.o.owned[r.name] = slices.Clone(ips)
	return nil
}

func (r *ownerResponder) Announce(netip.Addr) error { return nil }

// TestSpeakerL2ServiceSelectors checks, against a real API server, that
// an L2Advertisement's serviceSelectors decide which Services' IPs the
// node answers for, with the host's interfaces and responders that
// record instead of answering.
func TestSpeakerL2ServiceSelectors(t *testing.T) {
	links, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(links, func(l net.Interface) bool { return l.Flags&net.FlagUp != 0 && l.Flags&net.FlagLoopback == 0 }) {
		t.Skip("no interface is up besides the loopback")
	}
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	c := env.Client
	create := func(o client.Object) {
		t.Helper()
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
	create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	create(node)
	node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	if err := c.Status().Update(ctx, node); err != nil {
		t.Fatal(err)
	}
	create(&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "lan"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.0/28"}}})
	create(&v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "lan"}, Spec: v1beta1.L2AdvertisementSpec{
		ServiceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"exposure": "lan"}}},
	}})
	for _, s := range []struct {
		name, ip string
		labels   map[string]string
	}{{"printer", "192.0.2.5", map[string]string{"exposure": "lan"}}, {"backup", "192.0.2.6", nil}} {
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: s.name, Labels: s.labels},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}},
		}
		create(svc)
		svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: s.ip}}
		if err := c.Status().Update(ctx, svc); err != nil {
			t.Fatal(err)
		}
		create(&discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: s.name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: s.name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: ptr.To("n1"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		})
	}

	opener := &ownerOpener{}
	startSpeaker(t, env, func(cfg *speaker.Config) { cfg.L2 = &speaker.L2Config{Opener: opener} })
	testenv.Eventually(t, "only the selected Service's IP owned", func() (bool, string) {
		got := opener.ownedIPs()
		return slices.Equal(got, []string{"192.0.2.5"}), fmt.Sprint(got)
	})
	testenv.Eventually(t, "ServiceL2Status of the selected Service only", func() (bool, string) {
		var list v1beta1.ServiceL2StatusList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		var names []string
		for _, s := range list.Items {
			names = append(names, s.Status.ServiceName)
		}
		return slices.Equal(names, []string{"printer"}), fmt.Sprint(names)
	})
}
