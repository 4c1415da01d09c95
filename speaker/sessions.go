package speaker

import (
	"cmp"
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/frr/vtyshjson"
)

// StatusSource reads FRR's session state: the frr-agent client.
type StatusSource interface {
	Status(ctx context.Context) (agent.Status, error)
}

// sessionPoller reads the node's BGP sessions from FRR at an interval
// and reports them in the SpeakerStatus and the metrics. It is a
// manager.Runnable.
type sessionPoller struct {
	client   client.Client
	source   StatusSource
	ns, node string
	interval time.Duration
	metrics  *metrics
	log      *slog.Logger
	now      func() time.Time
	// agentFresh is called when the agent has applied nothing since it
	// started: a restarted agent (with its FRR container) lost the
	// config the speaker gave it, and nothing else tells the speaker.
	agentFresh func()
	// states writes the BGPSessionState objects; nil when the node
	// router is off.
	states *sessionStates
	// running reads FRR's running config for nodeState; nil when the
	// node router is off or has no source.
	running   RunningConfigSource
	nodeState *nodeStateWriter
	// ready is the speaker's readiness, fed by every read; nil for none.
	ready *readyGate
}

// readyPollInterval is how often the poller reads FRR's state while the
// speaker is not ready yet: readiness follows the sessions closely.
const readyPollInterval = time.Second

// Start polls until ctx ends.
func (p *sessionPoller) Start(ctx context.Context) error {
	every := p.interval
	if p.ready != nil {
		every = min(every, readyPollInterval)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		p.poll(ctx)
		if every != p.interval && p.ready.isReady() {
			every = p.interval
			t.Reset(every)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (p *sessionPoller) poll(ctx context.Context) {
	st, err := p.source.Status(ctx)
	if err != nil {
		p.log.Warn("reading FRR session state", "node", p.node, "error", err)
		return
	}
	if st.LastApply == nil && p.agentFresh != nil {
		p.agentFresh()
	}
	if p.ready != nil {
		p.ready.observe(st, p.now())
	}
	sessions := sessionsFrom(st, p.now())
	p.metrics.sessions.set(sessionSamples(st))
	err = updateSpeakerStatus(ctx, p.client, p.ns, p.node, func(s *v1beta1.SpeakerStatusStatus) { s.Sessions = sessions })
	if err != nil && ctx.Err() == nil {
		p.log.Warn("writing session state", "node", p.node, "error", err)
	}
	if p.running != nil {
		if text, err := p.running.RunningConfig(ctx); err != nil {
			p.log.Warn("reading FRR's running config", "node", p.node, "error", err)
		} else if err := p.nodeState.setRunning(ctx, text); err != nil && ctx.Err() == nil {
			p.log.Warn("writing FRRNodeState", "node", p.node, "error", err)
		}
	}
	// Sessions that could not be read are not gone: their objects stay.
	if p.states != nil && (len(st.Errors) == 0 || len(st.Sessions) > 0) {
		if err := p.states.write(ctx, sessionStatesFrom(st, p.node)); err != nil && ctx.Err() == nil {
			p.log.Warn("writing BGPSessionStates", "node", p.node, "error", err)
		}
	}
}

// sessionsFrom turns FRR's neighbors into the status' sessions. FRR's
// neighbor description is the BGPPeer's name (frr.Build writes it). FRR
// names an unnumbered neighbor by its interface, and its BFD session by
// the link-local address it found there and that interface.
func sessionsFrom(st agent.Status, now time.Time) []v1beta1.BGPSession {
	bfd := map[string]string{}
	bfdByIface := map[string]string{}
	for _, p := range st.BFDPeers {
		bfd[vrfName(p.VRF)+"|"+p.Peer] = p.Status
		if a, err := netip.ParseAddr(p.Peer); err == nil && a.IsLinkLocalUnicast() && p.Interface != "" {
			bfdByIface[vrfName(p.VRF)+"|"+p.Interface] = p.Status
		}
	}
	out := make([]v1beta1.BGPSession, 0, len(st.Sessions))
	for _, n := range st.Sessions {
		s := v1beta1.BGPSession{
			Peer:                   n.Description,
			Address:                n.Address,
			VRF:                    vrfName(n.VRF),
			State:                  n.State,
			EstablishedTransitions: n.ConnectionsEstablished,
			PrefixesSent:           sent(n),
			PrefixesReceived:       accepted(n),
			BFD:                    bfd[vrfName(n.VRF)+"|"+n.Address],
			LastError:              lastError(n),
		}
		if _, err := netip.ParseAddr(n.Address); err != nil && s.BFD == "" {
			s.BFD = bfdByIface[vrfName(n.VRF)+"|"+n.Address]
		}
		if s.Peer == "" {
			s.Peer = n.Address
		}
		if n.Established() && n.Uptime > 0 {
			since := metav1.NewTime(now.Add(-n.Uptime).Truncate(time.Second))
			s.Since = &since
		}
		out = append(out, s)
	}
	// The default VRF's (empty) first, then by VRF, peer and address.
	slices.SortFunc(out, func(a, b v1beta1.BGPSession) int {
		return cmp.Or(strings.Compare(a.VRF, b.VRF), strings.Compare(a.Peer, b.Peer), strings.Compare(a.Address, b.Address))
	})
	return out
}

// vrfName is the VRF as the status spells it: FRR calls the default VRF
// "default", the status leaves it empty.
func vrfName(frrVRF string) string {
	if frrVRF == "default" {
		return ""
	}
	return frrVRF
}

func sent(n vtyshjson.BGPNeighbor) int64 {
	var total int64
	for _, af := range n.AddressFamilies {
		total += af.Sent
	}
	return total
}

func accepted(n vtyshjson.BGPNeighbor) int64 {
	var total int64
	for _, af := range n.AddressFamilies {
		total += af.Accepted
	}
	return total
}

func lastError(n vtyshjson.BGPNeighbor) string {
	if n.Established() {
		return ""
	}
	switch {
	case n.LastNotification != "":
		return n.LastNotification
	case n.LastResetReason != "":
		return n.LastResetReason
	}
	return ""
}
