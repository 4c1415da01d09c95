// Package controller is ironlb's IP allocation controller: thin
// controller-runtime reconcilers around the pure assign package. The
// config reconciler builds the configuration model (keeping the last
// valid one), the service reconciler books and releases IPs and writes
// them to Service status, the pool reconciler reports pool usage, the
// webhook rejects configuration that the model would reject, the
// webhooks of both kinds refuse a change that the node router's merge
// (package noderouter) would report as a conflict between the
// metallb.io objects and the FRRConfigurations, and the conversion
// webhook converts BGPPeers between v1beta1 and v1beta2.
package controller
