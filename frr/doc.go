// Package frr is the speaker's BGP side: it turns the cluster state into
// the frr.conf of one node. Build (pure, table-tested) computes a render
// model, Config, from a state.Cluster; a Renderer (golden-tested, and
// loaded into a real FRR by TestGoldenFRR) writes it with the templates
// of package templates. Applying the file to FRR and reading FRR's JSON
// live in sub-packages (frr/apply, frr/vtyshjson).
//
// # What a node announces
//
// A node opens a session to every BGPPeer whose nodeSelectors match it,
// one `router bgp` per VRF. Every BGPAdvertisement that selects the node
// announces the IPs of the Services of its pools, masked to its
// aggregation length, to its peers (all the node's peers when it names
// none). A Service with externalTrafficPolicy Cluster is announced while
// any node serves it, one with Local only while this node does. An
// advertisement with serviceSelectors applies only to the Services of its
// pools whose labels one of them matches, always with one route per
// address (MetalLB's CRD forbids aggregating them). A node
// that may not announce (excluded, network unavailable) keeps its
// sessions and announces nothing, unless the speaker puts it in
// PhaseGracefulShutdown. Config.Announced lists, per Service, the peers
// it goes to.
//
// # Stable output: classes and tags instead of prefix-lists
//
// The prefixes of one node fall into classes: a class is the set of
// BGPAdvertisements that produce a prefix, and all prefixes of a class go
// to the same peers with the same communities and local preference. A
// prefix is written once, as `network P route-map ironlb-adv-<class>`;
// that origin route-map only sets the class's tag. Each peer's outbound
// route-map has one entry per class it receives, matching the tag and
// setting the attributes, then denies the rest. Tags are local to the
// router and never sent to peers.
//
// Classes come from the configuration alone (a pool's advertisements
// without serviceSelectors with the same aggregation length form one;
// each advertisement with serviceSelectors forms one with those of the
// pool that announce per address), so adding or removing a Service adds
// or removes exactly its network lines; no sequence number moves,
// unlike per-peer prefix-lists that MetalLB renumbers. The exceptions
// are two pools whose aggregated routes coincide, whose prefix belongs
// to the union of both classes, and a Service that the serviceSelectors
// of several advertisements select: these are extra classes, numbered
// after the others. A configuration without serviceSelectors has exactly
// the classes it had before they existed.
//
// # Incremental builds
//
// Build recomputes everything, which takes milliseconds with 10,000
// Services. A Builder, kept across reconciles, returns what Build
// returns (Build is the reference, and tests compare the two) but, while
// the model, the node and the options stay the same, updates its
// previous result with the network statements and Announced entries of
// the Services that changed; whatever its update does not cover, such
// as a union class that appears or goes, takes the full computation.
// The network statements are written by the template function networks,
// not by a range in the template, which was most of the rendering time.
//
// # Rendering choices
//
//   - The file is written the way FRR 8.4's show running-config writes
//     it: FRR's defaults are left out (port 179, BFD intervals),
//     ebgp-multihop carries its TTL of 255, well-known communities are
//     named (65535:0 is graceful-shutdown) and standard communities are
//     in numeric order. Reloading an unchanged file is then a no-op, which
//     TestGoldenFRR checks with a second frr-reload.py --test.
//   - `frr defaults traditional` is FRR's built-in profile, so a reload
//     never tries to change it; the settings that matter are explicit.
//   - `no bgp default ipv4-unicast`: a family is activated only where the
//     peer's address (or DualStackAddressFamily) says so. DisableMP needs
//     nothing more, as sessions carry one family unless dual stack is
//     asked for.
//   - `no bgp network import-check`: Service IPs are not in the node's
//     routing table, and network statements must announce them anyway.
//   - `ip nht resolve-via-default` and `ipv6 nht resolve-via-default`,
//     also per VRF: a multihop or iBGP peer is often reachable only
//     through the default route, which FRR's next-hop tracking ignores
//     otherwise, so the session would never come up.
//   - Every neighbor gets the inbound deny-all route-map ironlb-in (the
//     speaker learns no routes) and its own outbound map.
//   - Graceful restart: `bgp graceful-restart` when all of a router's
//     peers enable it, else `neighbor X graceful-restart` on those that
//     do, plus `bgp graceful-restart preserve-fw-state` since the
//     announced routes do not depend on FRR's forwarding state. FRR 8.4
//     fails on a repeated per-neighbor line (FRRouting/frr#15880), so
//     frr-reload.py exits 1 after adding one although the configuration
//     is applied; the router-wide form avoids that in the common case.
//   - `log stdout LEVEL` (the speaker's sidecar logs to its stdout) and
//     `hostname NODE`.
//   - `bgp route-map delay-timer 1`: bgpd applies a changed route-map
//     entry to the routes it already has only when this timer fires (5 s
//     by default; 0 would never apply it). A drain changes the outbound
//     entries in place (GRACEFUL_SHUTDOWN, local preference 0), and real
//     nodes saw it reach the router 5.05 s after the pod's deletion, a
//     third of the drain delay lost; with 1 s it takes a second at most.
//     New Services are not concerned: their network lines name entries
//     that exist already.
//   - A BGPPeer's localASN is `neighbor X local-as N no-prepend
//     replace-as`: the peer sees N alone, as if it were the router's AS.
//   - `neighbor X disable-connected-check` on single-hop eBGP sessions to
//     an IPv6 address, as MetalLB writes it (Neighbor.DisableConnectedCheck
//     is decided in Build, not in the template).
package frr
