package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/e2e/lab"
	"github.com/ironlb/ironlb/frr/vtyshjson"
)

// TestCordonKeepsRoutes cordons a node, as for maintenance, with the
// speakers' default flags: as in MetalLB since v0.15.0, nothing changes,
// and the router keeps its three ECMP next hops.
//
// The node gets a label in the same update as its cordon. A second
// advertisement tags the pool's routes from nodes with that label with
// a community: once the router sees it on the node's path, the node's
// speaker has acted on the cordoned node, and the path must still be
// there, without the GRACEFUL_SHUTDOWN community.
func TestCordonKeepsRoutes(t *testing.T) {
	l := startSpeakerLab(t)
	waitSessions(t, l)
	ctx := t.Context()
	kube := l.Kube()
	const marker, mark = "ironlb.test/cordon-marker", "64512:901"
	for _, o := range []client.Object{
		&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "cordon"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.224/28"}}},
		&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "cordon"}, Spec: v1beta1.BGPAdvertisementSpec{
			IPAddressPools: []string{"cordon"}, Peers: []string{"router-v4"},
		}},
		&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: "cordon-marked"}, Spec: v1beta1.BGPAdvertisementSpec{
			IPAddressPools: []string{"cordon"}, Communities: []string{mark}, Peers: []string{"router-v4"},
			NodeSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{marker: "yes"}}},
		}},
	} {
		if err := kube.Create(ctx, o); err != nil {
			t.Fatalf("creating %T: %v", o, err)
		}
	}
	ips := newService(t, l, "cordon", func(s *corev1.Service) { s.Annotations["metallb.io/address-pool"] = "cordon" })
	if err := l.CreateEndpoints(ctx, "lab", "cordon", "ilb-n1", "ilb-n2", "ilb-n3"); err != nil {
		t.Fatal(err)
	}
	ip, all := ips[0], nodeIPv4s("ilb-n1", "ilb-n2", "ilb-n3")
	waitCond(t, "three next hops to "+ip.String(), func(ctx context.Context) (bool, string) {
		gws, err := nextHops(ctx, ip)
		return err == nil && slices.Equal(gws, all), fmt.Sprint(gws, err)
	})

	n1, _ := lab.NodeByName("ilb-n1")
	setNode(t, l, "ilb-n1", func(n *corev1.Node) {
		n.Spec.Unschedulable = true
		n.Labels[marker] = "yes"
	})
	t.Cleanup(func() {
		setNode(t, l, "ilb-n1", func(n *corev1.Node) {
			n.Spec.Unschedulable = false
			delete(n.Labels, marker)
		})
	})
	var path vtyshjson.Path
	waitCond(t, "ilb-n1's path tagged "+mark, func(ctx context.Context) (bool, string) {
		p, seen, err := pathFrom(ctx, l, ip, n1.IPv4.String())
		if err != nil {
			return false, err.Error()
		}
		path = p
		return slices.Contains(p.Communities, mark), seen
	})
	for _, c := range path.Communities {
		if c == "65535:0" || c == "gshut" {
			t.Errorf("the cordoned node announces %s with the GRACEFUL_SHUTDOWN community (%v); a cordon must change nothing", ip, path.Communities)
		}
	}
	gws, err := nextHops(ctx, ip)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gws, all) {
		t.Errorf("next hops to %s after the cordon: %v, want all three %v", ip, gws, all)
	}
	var st v1beta1.SpeakerStatus
	if err := kube.Get(ctx, client.ObjectKey{Namespace: lab.MetalLBNamespace, Name: "ilb-n1"}, &st); err != nil {
		t.Fatal(err)
	}
	if st.Status.Phase != "normal" {
		t.Errorf("ilb-n1's SpeakerStatus phase %q after the cordon, want normal", st.Status.Phase)
	}
}

// setNode changes a node through edit and updates it.
func setNode(t *testing.T, l *lab.Lab, name string, edit func(*corev1.Node)) {
	t.Helper()
	var n corev1.Node
	if err := l.Kube().Get(context.Background(), client.ObjectKey{Name: name}, &n); err != nil {
		t.Fatal(err)
	}
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	edit(&n)
	if err := l.Kube().Update(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
}

// pathFrom returns the router's path to ip whose next hop is nh, and
// the whole route as text for the failure message.
func pathFrom(ctx context.Context, l *lab.Lab, ip netip.Addr, nh string) (vtyshjson.Path, string, error) {
	out, err := l.RouterVtysh(ctx, "show bgp ipv4 unicast "+netip.PrefixFrom(ip, 32).String()+" json")
	if err != nil {
		return vtyshjson.Path{}, "", err
	}
	r, err := vtyshjson.ParseBGPPrefix(out)
	if err != nil {
		return vtyshjson.Path{}, "", err
	}
	for _, p := range r.Paths {
		for _, h := range p.NextHops {
			if h.IP == nh {
				return p, fmt.Sprintf("%+v", r), nil
			}
		}
	}
	return vtyshjson.Path{}, fmt.Sprintf("%+v", r), nil
}
