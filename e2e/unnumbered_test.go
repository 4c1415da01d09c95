package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/e2e/lab"
)

// TestUnnumbered peers ilb-n1 with the router over the lab's unnumbered
// link (IPv6 link-local addresses only) through a BGPPeer with
// spec.interface, and checks that a dual-stack Service's IPv4 and IPv6
// prefixes both reach the router over that one session, with the node's
// link-local address as next hop, and that the speaker reports the
// session as Established with its BFD session up (the router's peer
// group runs BFD).
func TestUnnumbered(t *testing.T) {
	l := startSpeakerLab(t)
	ctx := t.Context()
	kube := l.Kube()

	const peerName = "router-unnumbered"
	peer := &v1beta2.BGPPeer{
		ObjectMeta: metav1.ObjectMeta{Namespace: lab.MetalLBNamespace, Name: peerName},
		Spec: v1beta2.BGPPeerSpec{
			MyASN: lab.NodeAS, ASN: lab.RouterAS, Interface: lab.UnnumberedNodeLink, BFDProfile: "lab",
			NodeSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"kubernetes.io/hostname": lab.UnnumberedNode}}},
		},
	}
	if err := kube.Create(ctx, peer); err != nil {
		t.Fatalf("creating BGPPeer %s: %v", peerName, err)
	}
	t.Cleanup(func() {
		if err := kube.Delete(context.Background(), peer); err != nil {
			t.Errorf("deleting BGPPeer %s: %v", peerName, err)
		}
	})

	ips := newService(t, l, "unnumbered", dualStack)
	if err := l.CreateEndpoints(ctx, "lab", "unnumbered", lab.UnnumberedNode); err != nil {
		t.Fatal(err)
	}

	waitUnnumbered(t, l, ips, peerName, lab.UnnumberedNodeLink, lab.UnnumberedNodeLinkLocal)

	// The same session named by the router's link-local address on the
	// link: `neighbor fe80::X interface IFACE` on the node, applied as a
	// delta that removes the unnumbered neighbor and adds this one. FRR
	// then gives IPv4 routes an IPv4 next hop of the node (its router ID,
	// the LAN address here), not the link-local one.
	if err := kube.Get(ctx, client.ObjectKeyFromObject(peer), peer); err != nil {
		t.Fatal(err)
	}
	peer.Spec.Address = lab.UnnumberedRouterLinkLocal
	if err := kube.Update(ctx, peer); err != nil {
		t.Fatalf("setting peerAddress %s on BGPPeer %s: %v", lab.UnnumberedRouterLinkLocal, peerName, err)
	}
	node, _ := lab.NodeByName(lab.UnnumberedNode)
	waitUnnumbered(t, l, ips, peerName, lab.UnnumberedRouterLinkLocal, node.IPv4.String())
}

// waitUnnumbered waits until each of ips reaches the router over its
// unnumbered link, IPv6 ones with the node's link-local next hop, IPv4
// ones with v4NextHop, and until
// UnnumberedNode's SpeakerStatus shows the session of peerName, at
// address (as FRR names the neighbor), Established with BFD up.
func waitUnnumbered(t *testing.T, l *lab.Lab, ips []netip.Addr, peerName, address, v4NextHop string) {
	t.Helper()
	for _, ip := range ips {
		fam, nextHop := "ipv4", v4NextHop
		if ip.Is6() {
			fam, nextHop = "ipv6", lab.UnnumberedNodeLinkLocal
		}
		prefix := netip.PrefixFrom(ip, ip.BitLen()).String()
		waitCond(t, prefix+" on the router over "+lab.UnnumberedRouterLink+" via "+nextHop, func(ctx context.Context) (bool, string) {
			paths, err := routerPaths(ctx, l, fam, prefix)
			if err != nil {
				return false, err.Error()
			}
			return slices.ContainsFunc(paths, func(p routerPath) bool {
				return p.Peer.Interface == lab.UnnumberedRouterLink && p.hasNextHop(nextHop)
			}), fmt.Sprintf("%+v", paths)
		})
	}
	waitCond(t, "ilb-n1's SpeakerStatus shows "+peerName+" at "+address+" Established with BFD up", func(ctx context.Context) (bool, string) {
		var st v1beta1.SpeakerStatusList
		if err := l.Kube().List(ctx, &st, client.InNamespace(lab.MetalLBNamespace)); err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, s := range st.Items {
			for _, sess := range s.Status.Sessions {
				seen = append(seen, s.Name+":"+sess.Peer+"@"+sess.Address+"="+sess.State+"/bfd="+sess.BFD)
				if s.Status.Node == lab.UnnumberedNode && sess.Peer == peerName && sess.Address == address && sess.State == "Established" && sess.BFD == "up" {
					return true, ""
				}
			}
		}
		return false, strings.Join(seen, " ")
	})
}

// routerPath is the part of a path of `show bgp FAMILY unicast PREFIX
// json` that tells the session it came over.
type routerPath struct {
	Peer struct {
		PeerID    string `json:"peerId"`
		Interface string `json:"interface"`
	} `json:"peer"`
	NextHops []struct {
		IP    string `json:"ip"`
		Scope string `json:"scope"`
	} `json:"nexthops"`
}

func (p routerPath) hasNextHop(ip string) bool {
	for _, nh := range p.NextHops {
		if nh.IP == ip {
			return true
		}
	}
	return false
}

// routerPaths returns the router's paths to prefix.
func routerPaths(ctx context.Context, l *lab.Lab, family, prefix string) ([]routerPath, error) {
	out, err := l.RouterVtysh(ctx, "show bgp "+family+" unicast "+prefix+" json")
	if err != nil {
		return nil, err
	}
	var r struct {
		Paths []routerPath `json:"paths"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("decoding the router's paths to %s: %w: %s", prefix, err, out)
	}
	return r.Paths, nil
}
