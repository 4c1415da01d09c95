// Package leader holds the controller's leader election settings and its
// Lease lock. The lock remembers when this replica last renewed the
// Lease, so that the controller can refuse to write once the lease may
// have passed to another replica: client-go's election only notices a
// lost lease when it next tries to renew, and a replica that was frozen
// (a paused VM, a stopped process) would otherwise act on stale state in
// the meantime.
package leader
