package vtyshjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// The commands whose output this package parses; errors name them.
const (
	CmdBGPNeighbors = "show bgp neighbors json"
	// CmdBGPNeighborsAllVRFs is CmdBGPNeighbors for every VRF.
	CmdBGPNeighborsAllVRFs = "show bgp vrf all neighbors json"
	CmdBFDPeers            = "show bfd peers json"
	CmdBFDCounters         = "show bfd peers counters json"
	CmdBGPIPv4             = "show bgp ipv4 unicast json"
	CmdBGPIPv6             = "show bgp ipv6 unicast json"
)

// Error is a parse error; Command names the show command whose output
// did not parse.
type Error struct {
	Command string
	Err     error
}

func (e *Error) Error() string {
	return fmt.Sprintf("parsing output of %q: %v", e.Command, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// errEmpty is returned for output with nothing but blanks.
var errEmpty = errors.New("empty output")

// decode unmarshals vtysh JSON output into v. vtysh prints non-JSON text
// ("% BGP instance not found") on errors; that comes back as an error
// holding the start of the text.
func decode(cmd string, data []byte, v any) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return &Error{Command: cmd, Err: errEmpty}
	}
	if trimmed[0] != '{' && trimmed[0] != '[' {
		msg := trimmed
		if len(msg) > 200 {
			msg = msg[:200]
		}
		return &Error{Command: cmd, Err: fmt.Errorf("not JSON: %q", msg)}
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		return &Error{Command: cmd, Err: err}
	}
	return nil
}

// isObject tells whether a raw JSON value is an object.
func isObject(raw json.RawMessage) bool {
	b := bytes.TrimSpace(raw)
	return len(b) > 0 && b[0] == '{'
}
