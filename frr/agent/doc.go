// Package agent serves a private FRR to the speaker over a unix socket:
// the agent runs in the FRR container, where vtysh and frr-reload.py
// live, and the speaker (in another container sharing the socket's
// volume) is its Client.
//
// The protocol is HTTP/1.1 over the unix socket. Answers are JSON; the
// apply request's body is the frr.conf text itself (text/plain), which
// spares encoding a config of megabytes as a JSON string:
//
//	POST /apply    <frr.conf text> -> ApplyResponse (apply.Result)
//	GET  /status   -> Status: BGP sessions, BFD peers, last apply, last resync
//	GET  /healthz  -> 200 when vtysh answers, 503 with the reason when not
//
// A config FRR refuses is not a protocol error: /apply answers 200 with
// the Result's Failure, which Client.Apply turns back into an
// *apply.Error, as apply.Applier.Apply returns it. The socket is created
// with mode 0600 (0660 on request), whatever the umask, and removed on
// exit; a connection is served only when the kernel says its process
// runs as the expected uid (SO_PEERCRED, peercred.go), any other is
// logged with the peer's uid and pid and closed.
//
// The agent also watches FRR's pid files: a daemon that was restarted
// behind its back (watchfrr after a crash) runs without configuration,
// so the agent loads the last config into it and reconciles (restart.go).
package agent
