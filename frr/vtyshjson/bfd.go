package vtyshjson

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// BFDPeer is one session of `show bfd peers json`. Fields the output
// lacks are zero.
type BFDPeer struct {
	Peer      string
	Local     string
	VRF       string
	Interface string
	Multihop  bool
	// Status is up, down, init or shutdown (FRR's words).
	Status string
	// Uptime is set while the session is up, Downtime while it is not.
	Uptime   time.Duration
	Downtime time.Duration
	// Diagnostic and RemoteDiagnostic are FRR's texts for the last
	// reason the session went down on each side ("ok" when none).
	Diagnostic       string
	RemoteDiagnostic string
	// Intervals are in milliseconds.
	ReceiveInterval        int64
	TransmitInterval       int64
	EchoReceiveInterval    int64
	DetectMultiplier       int64
	RemoteReceiveInterval  int64
	RemoteTransmitInterval int64
	RemoteDetectMultiplier int64
	PassiveMode            bool
	ID                     uint32
	RemoteID               uint32
}

// Up tells whether the session is up.
func (p BFDPeer) Up() bool { return p.Status == "up" }

type rawBFDPeer struct {
	Peer                   string `json:"peer"`
	Local                  string `json:"local"`
	VRF                    string `json:"vrf"`
	Interface              string `json:"interface"`
	Multihop               bool   `json:"multihop"`
	Status                 string `json:"status"`
	Uptime                 int64  `json:"uptime"`
	Downtime               int64  `json:"downtime"`
	Diagnostic             string `json:"diagnostic"`
	RemoteDiagnostic       string `json:"remote-diagnostic"`
	ReceiveInterval        int64  `json:"receive-interval"`
	TransmitInterval       int64  `json:"transmit-interval"`
	EchoReceiveInterval    int64  `json:"echo-receive-interval"`
	DetectMultiplier       int64  `json:"detect-multiplier"`
	RemoteReceiveInterval  int64  `json:"remote-receive-interval"`
	RemoteTransmitInterval int64  `json:"remote-transmit-interval"`
	RemoteDetectMultiplier int64  `json:"remote-detect-multiplier"`
	PassiveMode            bool   `json:"passive-mode"`
	ID                     uint32 `json:"id"`
	RemoteID               uint32 `json:"remote-id"`
}

// ParseBFDPeers parses `show bfd peers json` and returns the sessions
// sorted by peer, then local address, then VRF. Array elements that are
// not objects are skipped.
func ParseBFDPeers(data []byte) ([]BFDPeer, error) {
	var raws []json.RawMessage
	if err := decode(CmdBFDPeers, data, &raws); err != nil {
		return nil, err
	}
	out := make([]BFDPeer, 0, len(raws))
	for i, raw := range raws {
		if !isObject(raw) {
			continue
		}
		var r rawBFDPeer
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, &Error{Command: CmdBFDPeers, Err: fmt.Errorf("peer %d: %w", i, err)}
		}
		out = append(out, BFDPeer{
			Peer: r.Peer, Local: r.Local, VRF: r.VRF, Interface: r.Interface, Multihop: r.Multihop,
			Status: r.Status, Uptime: time.Duration(r.Uptime) * time.Second,
			Downtime:   time.Duration(r.Downtime) * time.Second,
			Diagnostic: r.Diagnostic, RemoteDiagnostic: r.RemoteDiagnostic,
			ReceiveInterval: r.ReceiveInterval, TransmitInterval: r.TransmitInterval,
			EchoReceiveInterval: r.EchoReceiveInterval, DetectMultiplier: r.DetectMultiplier,
			RemoteReceiveInterval: r.RemoteReceiveInterval, RemoteTransmitInterval: r.RemoteTransmitInterval,
			RemoteDetectMultiplier: r.RemoteDetectMultiplier, PassiveMode: r.PassiveMode,
			ID: r.ID, RemoteID: r.RemoteID,
		})
	}
	slices.SortFunc(out, func(a, b BFDPeer) int {
		return cmp.Or(cmp.Compare(a.Peer, b.Peer), cmp.Compare(a.Local, b.Local), cmp.Compare(a.VRF, b.VRF))
	})
	return out, nil
}

// BFDCounters are one session's counters of `show bfd peers counters
// json`. FRR keeps them per session: they start again from zero when
// the session is deleted and created anew.
type BFDCounters struct {
	Peer      string
	Local     string
	VRF       string
	Interface string
	Multihop  bool
	// Control and echo packets received (Input) and sent (Output).
	ControlPacketInput  int64
	ControlPacketOutput int64
	EchoPacketInput     int64
	EchoPacketOutput    int64
	// SessionUp and SessionDown count the session's transitions to up
	// and out of it.
	SessionUp          int64
	SessionDown        int64
	ZebraNotifications int64
}

type rawBFDCounters struct {
	Peer                string `json:"peer"`
	Local               string `json:"local"`
	VRF                 string `json:"vrf"`
	Interface           string `json:"interface"`
	Multihop            bool   `json:"multihop"`
	ControlPacketInput  int64  `json:"control-packet-input"`
	ControlPacketOutput int64  `json:"control-packet-output"`
	EchoPacketInput     int64  `json:"echo-packet-input"`
	EchoPacketOutput    int64  `json:"echo-packet-output"`
	SessionUp           int64  `json:"session-up"`
	SessionDown         int64  `json:"session-down"`
	ZebraNotifications  int64  `json:"zebra-notifications"`
}

// ParseBFDCounters parses `show bfd peers counters json` and returns the
// sessions' counters sorted by peer, then local address, then VRF. Array
// elements that are not objects are skipped.
func ParseBFDCounters(data []byte) ([]BFDCounters, error) {
	var raws []json.RawMessage
	if err := decode(CmdBFDCounters, data, &raws); err != nil {
		return nil, err
	}
	out := make([]BFDCounters, 0, len(raws))
	for i, raw := range raws {
		if !isObject(raw) {
			continue
		}
		var r rawBFDCounters
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, &Error{Command: CmdBFDCounters, Err: fmt.Errorf("peer %d: %w", i, err)}
		}
		out = append(out, BFDCounters(r))
	}
	slices.SortFunc(out, func(a, b BFDCounters) int {
		return cmp.Or(cmp.Compare(a.Peer, b.Peer), cmp.Compare(a.Local, b.Local), cmp.Compare(a.VRF, b.VRF))
	})
	return out, nil
}
