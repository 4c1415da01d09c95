// Package noderouter merges the pieces of one node's router
// configuration: ironlb's own announcements (the frr.Config that
// frr.Build computes from the metallb.io objects) and every
// frrk8s.metallb.io FRRConfiguration that selects the node. It is pure:
// inputs in, one merged Model or an error out.
//
// The rules are frr-k8s's. A piece can only add: routers, neighbors,
// prefixes, filters. Two pieces that name the same router (VRF) or the
// same neighbor (VRF and address or interface) must agree on its
// settings (ASN, router ID, port, timers, password, BFD profile, ...);
// otherwise the merge fails with a ConflictError that names both objects
// and the field. For one neighbor the more permissive filter wins
// (accepting all beats accepting some beats accepting none), and the
// communities and local preference of one advertised prefix combine. Raw
// configuration is kept in priority order.
//
// ToFRR turns a merged Model into the frr.Config that package frr renders:
// ironlb's own configuration plus what the FRRConfigurations add (on
// ironlb's own lines only a `call` where they add attributes to its
// Service prefixes). What it numbers is numbered by a hash of the
// content, so one changed object changes only its own lines.
//
// Cache does what ForNode and ToFRR do across reconciles, converting
// again only the inputs that changed; ForNode and ToFRR stay the
// reference its tests compare it with.
package noderouter
