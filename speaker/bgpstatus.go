package speaker

import (
	"context"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/frr"
)

// bgpStatuses writes a node's ServiceBGPStatus objects from the Services
// it announces. After a write that went through, the next looks only at
// the Services whose peers changed, reading their objects by name: with
// 10,000 Services, comparing every object took several milliseconds of
// CPU on each write, on every node. After a failure, and every
// fullEvery, it compares every object again, which also repairs objects
// that others changed or deleted. Only the status writer uses it.
type bgpStatuses struct {
	client    client.Client
	ns, node  string
	fullEvery time.Duration
	now       func() time.Time

	// written is what the objects said after the last write that went
	// through; nil when unknown.
	written []frr.ServicePeers
	fullAt  time.Time
}

// write makes the objects say announced (sorted by Service, as
// frr.Config.Announced is; it is kept, not copied).
func (b *bgpStatuses) write(ctx context.Context, announced []frr.ServicePeers) error {
	var only []serviceRef
	var want map[serviceRef][]string
	now := b.now()
	if b.written == nil || now.Sub(b.fullAt) >= b.fullEvery {
		want = make(map[serviceRef][]string, len(announced))
		for _, sp := range announced {
			want[refOf(sp.Service)] = sp.Peers
		}
	} else {
		only, want = changedPeers(b.written, announced)
		if len(only) == 0 {
			return nil
		}
	}
	if err := syncBGPStatuses(ctx, b.client, b.ns, b.node, want, only); err != nil {
		b.written = nil
		return err
	}
	if only == nil {
		b.fullAt = now
	}
	b.written = announced
	return nil
}

// changedPeers compares two sorted lists of announced Services and
// returns the Services whose peers differ (added and removed ones too),
// and the new peers of those still announced.
func changedPeers(before, after []frr.ServicePeers) ([]serviceRef, map[serviceRef][]string) {
	only := []serviceRef{}
	want := map[serviceRef][]string{}
	i, j := 0, 0
	for i < len(before) || j < len(after) {
		switch {
		case j == len(after) || (i < len(before) && before[i].Service < after[j].Service):
			only = append(only, refOf(before[i].Service))
			i++
		case i == len(before) || after[j].Service < before[i].Service:
			ref := refOf(after[j].Service)
			only, want[ref] = append(only, ref), after[j].Peers
			j++
		default:
			if !slices.Equal(before[i].Peers, after[j].Peers) {
				ref := refOf(after[j].Service)
				only, want[ref] = append(only, ref), after[j].Peers
			}
			i++
			j++
		}
	}
	return only, want
}

func refOf(key string) serviceRef {
	ns, name, _ := strings.Cut(key, "/")
	return serviceRef{Namespace: ns, Name: name}
}
