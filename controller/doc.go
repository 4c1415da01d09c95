// Package controller is ironlb's IP allocation controller: thin
// controller-runtime reconcilers around the pure assign package. The
// config reconciler builds the configuration model (keeping the last
// valid one), the service reconciler books and releases IPs and writes
// them to Service status, the pool reconciler reports pool usage, and the
// webhook rejects configuration that the model would reject.
package controller
