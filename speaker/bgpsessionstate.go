package speaker

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/frr/agent"
)

// sessionKey names one BGP session of the node: its VRF ("" for the
// default one) and its peer as BGPSessionState labels spell it.
type sessionKey struct{ vrf, peer string }

// sessionStatesFrom returns what the node's BGPSessionState objects are
// to say, one per BGP neighbor FRR has (ironlb's own peers and those of
// FRRConfigurations alike, as frr-k8s reports every neighbor of its FRR).
func sessionStatesFrom(st agent.Status, node string) map[sessionKey]frrk8s.BGPSessionStateStatus {
	bfd := map[string]string{}
	bfdByIface := map[string]string{}
	for _, p := range st.BFDPeers {
		bfd[vrfName(p.VRF)+"|"+p.Peer] = p.Status
		if a, err := netip.ParseAddr(p.Peer); err == nil && a.IsLinkLocalUnicast() && p.Interface != "" {
			bfdByIface[vrfName(p.VRF)+"|"+p.Interface] = p.Status
		}
	}
	out := make(map[sessionKey]frrk8s.BGPSessionStateStatus, len(st.Sessions))
	for _, n := range st.Sessions {
		vrf := vrfName(n.VRF)
		b := bfd[vrf+"|"+n.Address]
		if _, err := netip.ParseAddr(n.Address); err != nil && b == "" {
			b = bfdByIface[vrf+"|"+n.Address]
		}
		if b == "" {
			b = frrk8s.BFDStatusNotConfigured
		}
		peer := peerLabel(n.Address)
		out[sessionKey{vrf, peer}] = frrk8s.BGPSessionStateStatus{BGPStatus: n.State, BFDStatus: b, Node: node, Peer: peer, VRF: vrf}
	}
	return out
}

// peerLabel spells a neighbor as frr-k8s does in the peer label and
// status: an IPv4 address or an interface as it is, an IPv6 address in
// full with "-" for ":" (a label value has no ":").
func peerLabel(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || a.Is4() {
		return addr
	}
	return strings.ReplaceAll(a.StringExpanded(), ":", "-")
}

// sessionStates writes the node's BGPSessionState objects in ironlb's
// namespace, named as frr-k8s names them (the node's name and a suffix
// the API server generates) and labeled with the node, peer and VRF. It
// writes only what changed, and deletes the objects of sessions that are
// gone. Only the session poller uses it.
type sessionStates struct {
	client client.Client
	// reader lists the objects from the API server (the speaker's cache
	// holds none).
	reader   client.Reader
	ns, node string
	// owner, when set, owns the objects (the speaker's Pod, as frr-k8s's
	// daemon Pod owns its objects).
	owner *metav1.OwnerReference
	// objs are the objects after the last write that went through; nil
	// when unknown, and then listed again. They are also listed again
	// every fullEvery (by now), which repairs objects others deleted.
	objs      map[sessionKey]*frrk8s.BGPSessionState
	fullEvery time.Duration
	now       func() time.Time
	loadedAt  time.Time
}

// write makes the objects say want.
func (s *sessionStates) write(ctx context.Context, want map[sessionKey]frrk8s.BGPSessionStateStatus) error {
	if s.objs == nil || s.now().Sub(s.loadedAt) >= s.fullEvery {
		if err := s.load(ctx); err != nil {
			return err
		}
	}
	var errs []error
	for k, st := range want {
		cur := s.objs[k]
		if cur != nil && cur.Status == st {
			continue
		}
		if cur == nil {
			cur = &frrk8s.BGPSessionState{ObjectMeta: metav1.ObjectMeta{
				Namespace: s.ns, GenerateName: s.node + "-",
				Labels: map[string]string{frrk8s.LabelNode: s.node, frrk8s.LabelPeer: k.peer, frrk8s.LabelVRF: k.vrf},
			}}
			if s.owner != nil {
				cur.OwnerReferences = []metav1.OwnerReference{*s.owner}
			}
			if err := s.client.Create(ctx, cur); err != nil {
				errs = append(errs, fmt.Errorf("creating the BGPSessionState of peer %s in VRF %q: %w", k.peer, k.vrf, err))
				continue
			}
			s.objs[k] = cur
		}
		cur.Status = st
		if err := s.client.Status().Update(ctx, cur); err != nil {
			errs = append(errs, fmt.Errorf("updating BGPSessionState %s: %w", cur.Name, err))
		}
	}
	for k, obj := range s.objs {
		if _, ok := want[k]; ok {
			continue
		}
		if err := s.client.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting BGPSessionState %s: %w", obj.Name, err))
			continue
		}
		delete(s.objs, k)
	}
	if err := errors.Join(errs...); err != nil {
		s.objs = nil
		return err
	}
	return nil
}

// load reads the node's objects; of two for one session, the second is
// deleted. An object of a speaker Pod before this one gets this one as
// an owner too, or the garbage collector would delete it once that Pod
// is gone.
func (s *sessionStates) load(ctx context.Context) error {
	var list frrk8s.BGPSessionStateList
	if err := s.reader.List(ctx, &list, client.InNamespace(s.ns), client.MatchingLabels{frrk8s.LabelNode: s.node}); err != nil {
		return fmt.Errorf("listing BGPSessionStates: %w", err)
	}
	objs := make(map[sessionKey]*frrk8s.BGPSessionState, len(list.Items))
	for i := range list.Items {
		o := &list.Items[i]
		k := sessionKey{o.Labels[frrk8s.LabelVRF], o.Labels[frrk8s.LabelPeer]}
		if _, dup := objs[k]; dup {
			if err := s.client.Delete(ctx, o); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting BGPSessionState %s: %w", o.Name, err)
			}
			continue
		}
		if s.owner != nil && !slices.ContainsFunc(o.OwnerReferences, func(r metav1.OwnerReference) bool { return r.UID == s.owner.UID }) {
			o.OwnerReferences = append(o.OwnerReferences, *s.owner)
			if err := s.client.Update(ctx, o); err != nil {
				return fmt.Errorf("adding the owner of BGPSessionState %s: %w", o.Name, err)
			}
		}
		objs[k] = o
	}
	s.objs, s.loadedAt = objs, s.now()
	return nil
}
