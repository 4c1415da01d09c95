package speaker

import (
	"slices"

	"github.com/ironlb/ironlb/l2/members"
)

// joined returns the members live in cur that were not live in prev,
// sorted: members that joined or came back, as when a partition heals.
// The first view (prev nil) has none: the IPs a node gains then are
// announced anyway.
func joined(prev *members.View, cur members.View) []string {
	if prev == nil {
		return nil
	}
	var out []string
	for _, n := range cur.Live {
		if !slices.Contains(prev.Live, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// healedElsewhere returns the members live in both views whose
// published count of joins (nodeMeta.Heals) went up, sorted: they saw
// members join or come back, possibly this node after declaring it
// dead, while this node saw nothing change. The count is only read,
// never passed on, so two nodes cannot keep each other announcing.
func healedElsewhere(prev *members.View, cur members.View) []string {
	if prev == nil {
		return nil
	}
	var out []string
	for _, n := range cur.Live {
		if !slices.Contains(prev.Live, n) {
			continue // a join: counted by joined
		}
		before, ok1 := decodeMeta(prev.Meta[n])
		after, ok2 := decodeMeta(cur.Meta[n])
		if ok1 && ok2 && after.Heals > before.Heals {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// reannounceAfterJoins announces the node's IPs again when members
// joined or came back, here or on another member, since the last call
// (joins is memberSource.reannounceCount): two halves of a split cluster may each have
// had an owner of an IP, and the clients must come back to the one
// that owns it now. It is called after the announcer got the new
// assignment, so that a node that lost an IP in the merge does not
// announce it.
func (l *l2Runtime) reannounceAfterJoins(joins uint64) {
	// By Lease no two nodes answered during the split, and the keeper,
	// not this reconcile, hands the announcer its assignment.
	if joins == l.joinsSeen || l.keeper != nil {
		return
	}
	l.joinsSeen = joins
	l.ann.Reannounce()
}
