// Package leader holds the controller's leader election settings and its
// Lease lock, which client-go's elector (run by controller-runtime) uses.
//
// The lock remembers when this replica last renewed the Lease (Guard), so
// that the controller can refuse to write once the lease may have passed
// to another replica: client-go's election only notices a lost lease when
// it next tries to renew, and a replica that was frozen (a paused VM, a
// stopped process) would otherwise act on stale state in the meantime.
//
// A replica that does not lead watches the Lease (Follower) and holds the
// elector's reads back until the holder's lease runs out by its own
// clock, so that it takes over at that moment instead of at the
// elector's next poll, seconds later.
package leader
