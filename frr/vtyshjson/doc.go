// Package vtyshjson parses the JSON that FRR's vtysh prints for the show
// commands the speaker reads: `show bgp neighbors json` (also `show bgp
// vrf all neighbors json`, every VRF's), `show bfd peers json`, `show bfd
// peers counters json` and `show bgp ipv4|ipv6 unicast json`.
//
// vtysh's JSON is outside input: its fields change between FRR versions
// and depend on the state of each session. The parsers return typed
// structs, leave fields the output lacks at their zero value, keep going
// past entries of an unexpected shape, and return errors that name the
// command. The fixtures in testdata are real outputs of FRR 8.4 captured
// from two peered FRRs (see TestCaptureFixtures and
// TestCaptureVRFFixtures).
package vtyshjson
