package status

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/request"
)

// ReasonAllocationFailed is the reason of the controller's event for a
// Service it could not give IPs.
const ReasonAllocationFailed = "AllocationFailed"

// Labels of ConfigurationState objects.
const (
	labelComponent = "metallb.io/component-type"
	labelNode      = "metallb.io/node-name"
)

// Build makes the report from the objects. It is pure: the same objects
// in any order give the same Report.
func Build(o Objects) Report {
	model, buildErr := config.Build(withoutPasswords(o.Config))
	modes := poolModes(model)
	modeOf := func(pool string) Mode {
		if model == nil {
			return ModeUnknown
		}
		if m, ok := modes[pool]; ok {
			return m
		}
		return ModeNone
	}

	r := Report{
		Services:      services(o, model, modeOf),
		Nodes:         nodes(o.Speakers, o.Now, nodeRouters(o.FRRConfigurations, o.FRRNodeStates, o.Nodes)),
		Pools:         pools(o.Config.Pools, modeOf),
		Configuration: configStates(o.ConfigurationStates),
	}
	r.ConfigErrors = configErrors(o.ConfigurationStates, buildErr)
	return r
}

// withoutPasswords returns the objects with the BGPPeers' passwords
// cleared: the report needs no password, and the Secrets holding them
// need not be readable. The caller's objects are left untouched.
func withoutPasswords(in config.Objects) config.Objects {
	peers := make([]v1beta2.BGPPeer, len(in.BGPPeers))
	for i := range in.BGPPeers {
		p := in.BGPPeers[i].DeepCopy()
		p.Spec.Password = ""
		p.Spec.PasswordSecret = corev1.SecretReference{}
		peers[i] = *p
	}
	in.BGPPeers = peers
	in.Secrets = nil
	return in
}

// poolModes maps each pool an advertisement covers to its mode.
func poolModes(m *config.Model) map[string]Mode {
	if m == nil {
		return nil
	}
	bgp, l2 := map[string]bool{}, map[string]bool{}
	for _, a := range m.BGPAdvertisements {
		for _, p := range a.Pools {
			bgp[p] = true
		}
	}
	for _, a := range m.L2Advertisements {
		for _, p := range a.Pools {
			l2[p] = true
		}
	}
	out := map[string]Mode{}
	for _, p := range m.Pools {
		switch {
		case bgp[p.Name] && l2[p.Name]:
			out[p.Name] = ModeBoth
		case bgp[p.Name]:
			out[p.Name] = ModeBGP
		case l2[p.Name]:
			out[p.Name] = ModeL2
		}
	}
	return out
}

// services reports the Services ironlb handles.
func services(o Objects, model *config.Model, modeOf func(string) Mode) []Service {
	type key struct{ ns, name string }
	announcers := map[key]map[string]*Announcer{}
	announcer := func(k key, node string) *Announcer {
		if announcers[k] == nil {
			announcers[k] = map[string]*Announcer{}
		}
		a := announcers[k][node]
		if a == nil {
			a = &Announcer{Node: node}
			announcers[k][node] = a
		}
		return a
	}
	for _, s := range o.BGPStatuses {
		st := s.Status
		if st.Node == "" {
			continue
		}
		a := announcer(key{st.ServiceNamespace, st.ServiceName}, st.Node)
		if a.BGP == nil {
			a.BGP = &BGPAnnouncement{Peers: []string{}}
		}
		a.BGP.Peers = sortedUnique(append(a.BGP.Peers, st.Peers...))
	}
	for _, s := range o.L2Statuses {
		st := s.Status
		if st.Node == "" {
			continue
		}
		a := announcer(key{st.ServiceNamespace, st.ServiceName}, st.Node)
		if a.L2 == nil {
			a.L2 = &L2Announcement{Interfaces: []string{}}
		}
		for _, i := range st.Interfaces {
			a.L2.Interfaces = append(a.L2.Interfaces, i.Name)
		}
		a.L2.Interfaces = sortedUnique(a.L2.Interfaces)
	}
	failures := allocationFailures(o.Events)

	out := []Service{}
	for i := range o.Services {
		svc := &o.Services[i]
		if !request.Handled(svc, o.LBClass) {
			continue
		}
		s := Service{Namespace: svc.Namespace, Name: svc.Name, IPs: []string{}}
		ips := request.IngressIPs(svc)
		slices.SortFunc(ips, netip.Addr.Compare)
		for _, ip := range slices.Compact(ips) {
			s.IPs = append(s.IPs, ip.String())
		}
		for _, a := range announcers[key{svc.Namespace, svc.Name}] {
			s.Announcers = append(s.Announcers, *a)
		}
		slices.SortFunc(s.Announcers, func(a, b Announcer) int { return cmp.Compare(a.Node, b.Node) })
		if len(ips) == 0 {
			s.Note = "no IP assigned yet"
			if msg := failures[s.Key()]; msg != "" {
				s.Note = ReasonAllocationFailed + ": " + msg
			}
		} else {
			s.Pool = poolOf(model, svc, ips)
			s.Mode = modeOf(s.Pool)
			s.Note = announceNote(s)
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Service) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// announceNote explains a Service with IPs that no node announces.
func announceNote(s Service) string {
	if len(s.Announcers) > 0 {
		return ""
	}
	switch s.Mode {
	case ModeNone:
		if s.Pool == "" {
			return "no pool holds its IPs"
		}
		return fmt.Sprintf("no BGPAdvertisement or L2Advertisement covers pool %q", s.Pool)
	case ModeUnknown:
		return "the current configuration is invalid (see CONFIGURATION ERRORS)"
	}
	return "no node announces it (no serving endpoint on an eligible node, or no speaker running)"
}

// poolOf returns the pool the controller recorded on the Service, or the
// model's pool that holds its first IP.
func poolOf(model *config.Model, svc *corev1.Service, ips []netip.Addr) string {
	if p := svc.Annotations[request.AnnotationAllocatedFromPool]; p != "" {
		return p
	}
	return model.PoolHolding(ips[0])
}

// allocationFailures maps "namespace/name" of each Service to the note
// of its newest AllocationFailed event.
func allocationFailures(events []eventsv1.Event) map[string]string {
	type seen struct {
		at   time.Time
		name string
		note string
	}
	newest := map[string]seen{}
	for i := range events {
		e := &events[i]
		if e.Reason != ReasonAllocationFailed || e.Regarding.Kind != "Service" {
			continue
		}
		k := e.Regarding.Namespace + "/" + e.Regarding.Name
		cur := seen{at: eventTime(e), name: e.Name, note: e.Note}
		prev, ok := newest[k]
		if !ok || cur.at.After(prev.at) || (cur.at.Equal(prev.at) && cur.name > prev.name) {
			newest[k] = cur
		}
	}
	out := make(map[string]string, len(newest))
	for k, v := range newest {
		out[k] = v.note
	}
	return out
}

// eventTime is when the event was last seen.
func eventTime(e *eventsv1.Event) time.Time {
	t := e.CreationTimestamp.Time
	for _, c := range []time.Time{e.EventTime.Time, e.DeprecatedLastTimestamp.Time} {
		if c.After(t) {
			t = c
		}
	}
	if e.Series != nil && e.Series.LastObservedTime.Time.After(t) {
		t = e.Series.LastObservedTime.Time
	}
	return t
}

// nodes reports the speakers, one per SpeakerStatus, with their node
// router's state.
func nodes(speakers []v1beta1.SpeakerStatus, now time.Time, routers map[string]*NodeRouter) []Node {
	out := []Node{}
	for _, sp := range speakers {
		st := sp.Status
		n := Node{Name: cmp.Or(st.Node, sp.Name), Phase: st.Phase, Sessions: []Session{}}
		n.Router = routers[n.Name]
		if a := st.LastApply; a != nil {
			n.LastApply = &Apply{
				Time:                 a.Time.UTC(),
				AgeSeconds:           secondsSince(now, a.Time.Time),
				Path:                 a.Path,
				Succeeded:            a.Succeeded,
				Stage:                a.Stage,
				Message:              a.Message,
				DurationMilliseconds: a.DurationMilliseconds,
			}
		}
		for _, s := range st.Sessions {
			out := Session{
				Peer:                   s.Peer,
				Address:                s.Address,
				VRF:                    s.VRF,
				State:                  s.State,
				EstablishedTransitions: s.EstablishedTransitions,
				PrefixesSent:           s.PrefixesSent,
				PrefixesReceived:       s.PrefixesReceived,
				BFD:                    s.BFD,
				LastError:              s.LastError,
			}
			if s.Since != nil && !s.Since.IsZero() {
				t := s.Since.UTC()
				out.Since = &t
				out.UptimeSeconds = secondsSince(now, t)
			}
			n.Sessions = append(n.Sessions, out)
		}
		slices.SortFunc(n.Sessions, func(a, b Session) int {
			return cmp.Or(cmp.Compare(a.VRF, b.VRF), cmp.Compare(a.Peer, b.Peer), cmp.Compare(a.Address, b.Address))
		})
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Node) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// secondsSince is now-t in whole seconds, or 0 without a time or for a
// time in the future.
func secondsSince(now, t time.Time) int64 {
	if now.IsZero() || t.IsZero() || !now.After(t) {
		return 0
	}
	return int64(now.Sub(t) / time.Second)
}

// pools reports the pools with their status counts.
func pools(in []v1beta1.IPAddressPool, modeOf func(string) Mode) []Pool {
	out := []Pool{}
	for _, p := range in {
		out = append(out, Pool{
			Name:          p.Name,
			Mode:          modeOf(p.Name),
			AssignedIPv4:  p.Status.AssignedIPv4,
			AvailableIPv4: p.Status.AvailableIPv4,
			AssignedIPv6:  p.Status.AssignedIPv6,
			AvailableIPv6: p.Status.AvailableIPv6,
		})
	}
	slices.SortFunc(out, func(a, b Pool) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// configStates reports the components' verdicts.
func configStates(in []v1beta1.ConfigurationState) []ConfigState {
	out := []ConfigState{}
	for _, cs := range in {
		out = append(out, ConfigState{
			Name:      cs.Name,
			Component: cs.Labels[labelComponent],
			Node:      cs.Labels[labelNode],
			Result:    cmp.Or(string(cs.Status.Result), string(v1beta1.ConfigurationStateResultUnknown)),
		})
	}
	slices.SortFunc(out, func(a, b ConfigState) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// configErrors gathers the problems of the Invalid ConfigurationStates
// and of the current objects, one per line of their errors, in the order
// first reported (components by name, the current objects last).
func configErrors(states []v1beta1.ConfigurationState, buildErr error) []ConfigError {
	invalid := slices.Clone(states)
	invalid = slices.DeleteFunc(invalid, func(cs v1beta1.ConfigurationState) bool {
		return cs.Status.Result != v1beta1.ConfigurationStateResultInvalid
	})
	slices.SortFunc(invalid, func(a, b v1beta1.ConfigurationState) int { return cmp.Compare(a.Name, b.Name) })

	var out []ConfigError
	index := map[string]int{}
	report := func(reporter, text string) {
		for _, line := range strings.Split(text, "\n") {
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			i, ok := index[line]
			if !ok {
				i = len(out)
				index[line] = i
				out = append(out, ConfigError{Error: line})
			}
			if !slices.Contains(out[i].ReportedBy, reporter) {
				out[i].ReportedBy = append(out[i].ReportedBy, reporter)
			}
		}
	}
	for _, cs := range invalid {
		report(cs.Name, cmp.Or(cs.Status.ErrorSummary, "invalid (no error recorded)"))
	}
	if buildErr != nil {
		report(CurrentObjects, buildErr.Error())
	}
	return out
}

// sortedUnique returns the non-empty strings of list sorted, each once.
func sortedUnique(list []string) []string {
	out := slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == "" })
	slices.Sort(out)
	return slices.Compact(out)
}
