// Package members keeps the set of live speakers with
// hashicorp/memberlist, the input of the Layer 2 election.
//
// Members wraps a memberlist: one flat Config (member name = node name,
// join addresses, an encryption key that is required unless
// AllowInsecure), a named timing Profile (FastLAN, the default, sees a
// failed node in about half a second; LAN is memberlist's own), Run(ctx)
// that joins, reports every change of the View (live, failed, left) and
// leaves gracefully when ctx ends, and memberlist's log routed to slog.
//
// Each member may publish a little metadata (SetMeta), which the others
// see in their View: the speaker uses it to say that a node drains or
// cannot serve. The View also says why this member is alone when the
// others refused it (another key or label), so that the speaker can
// stay out of the election rather than take every IP.
//
// Run joins again every RejoinInterval: every member of the join list
// while alone, else those of the list it does not see live, so that the
// halves of a healed partition merge even when neither is a single
// member. SetJoin replaces the list as the speakers come and go.
//
// Suspected members count as live: a suspicion either ends in a refute
// or, within the suspicion timeout, in a failure, and moving IPs on a
// mere suspicion would make false alarms costlier.
package members
