// Package apply gets a desired frr.conf into a running FRR without
// resetting BGP sessions that the change does not concern.
//
// It works on the config TEXT: Parse turns frr.conf into a tree of
// contexts (router bgp, address-family, route-map entries, bfd peers and
// profiles...) and lines; Diff compares the last applied tree with the
// desired one and emits only the delta as vtysh commands, in an order FRR
// accepts: new referenced objects (prefix-lists, community-lists,
// route-map entries, bfd profiles) first, then the router contexts, then
// the removal of referenced objects. Commands that set a single value
// (`neighbor X remote-as`, `set local-preference`, `ip prefix-list L seq
// N`...) are replaced in place, never removed and re-added, and a removed
// neighbor is deleted with one `no neighbor X`.
//
// Applier runs the two paths through a narrow VTY interface: the fast
// path sends the delta in one session and reads `show running-config`
// back in the same session to verify the touched lines; the full path
// hands the whole config to frr-reload.py. The full path runs at the
// first apply, after any failure of the fast path, and whenever the
// caller asks for a resync (Reconcile). When both paths fail (the
// desired config is bad), the last good config is reloaded, so FRR never
// keeps half of a delta. Vtysh is the VTY over `vtysh -N PATHSPACE` and
// frr-reload.py. VtySock sends deltas straight to the daemons' vty
// sockets over connections it keeps open, dispatching each command to
// the daemons vtysh would, and leaves to a Vtysh the reloads and the
// scripts it cannot dispatch.
//
// Lines holding a password never reach a log or a Result: Redact masks
// them.
package apply
