package vtyshjson

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// BGPNeighbor is one neighbor of `show bgp neighbors json`. Fields the
// output lacks (FRR leaves many out while a session is down) are zero.
type BGPNeighbor struct {
	// Address is the neighbor's address or interface name (the key).
	Address string
	// VRF is the neighbor's VRF as FRR names it ("default" for the
	// default one), set by ParseBGPNeighborsAllVRFs; ParseBGPNeighbors
	// leaves it empty.
	VRF         string
	Description string
	RemoteAS    int64
	LocalAS     int64
	// State is FRR's FSM state: Idle, Connect, Active, OpenSent,
	// OpenConfirm, Established (or Clearing, Deleted).
	State          string
	RemoteRouterID string
	LocalRouterID  string
	// Uptime is how long the session has been Established; zero when it
	// is not.
	Uptime time.Duration
	// EstablishedEpoch is when the session came up (Unix seconds), zero
	// when it is not up.
	EstablishedEpoch int64
	// ConnectionsEstablished counts the transitions to Established;
	// ConnectionsDropped those out of it. An unchanged pair means no
	// session reset.
	ConnectionsEstablished int64
	ConnectionsDropped     int64
	// LastResetReason is FRR's text for the last reset ("BGP
	// Notification received", "Waiting for peer OPEN"...).
	LastResetReason string
	LastResetCode   int64
	// LastNotification is the last notification's text, e.g.
	// "Cease/Administrative Shutdown", with its code/subcode ("0602")
	// and the shutdown message the peer sent, when there was one.
	LastNotification        string
	LastNotificationCode    string
	LastShutdownDescription string
	MessagesSent            int64
	MessagesReceived        int64
	// Messages counts the messages by type.
	Messages MessageCounts
	// AddressFamilies by FRR's name: ipv4Unicast, ipv6Unicast...
	AddressFamilies map[string]AddressFamily
	// BFD is the neighbor's BFD session, nil when BFD is off for it.
	BFD *NeighborBFD
	// LocalHost and ForeignHost are the TCP endpoints when connected.
	LocalHost   string
	ForeignHost string
	// ForeignPort is the neighbor's TCP port: 179 when this side
	// connected, the neighbor's ephemeral port when it did, -1 when
	// there is no connection (FRR's value).
	ForeignPort int64
}

// Established tells whether the session is up.
func (n BGPNeighbor) Established() bool { return n.State == "Established" }

// MessageCounts are a neighbor's BGP messages by type, sent and
// received (FRR's messageStats).
type MessageCounts struct {
	OpensSent          int64 `json:"opensSent"`
	OpensReceived      int64 `json:"opensRecv"`
	NotificationsSent  int64 `json:"notificationsSent"`
	UpdatesSent        int64 `json:"updatesSent"`
	UpdatesReceived    int64 `json:"updatesRecv"`
	KeepalivesSent     int64 `json:"keepalivesSent"`
	KeepalivesReceived int64 `json:"keepalivesRecv"`
	RouteRefreshSent   int64 `json:"routeRefreshSent"`
}

// AddressFamily is a neighbor's per-family prefix counts.
type AddressFamily struct {
	// Accepted counts the prefixes received and accepted.
	Accepted int64
	// Sent counts the prefixes advertised to the neighbor.
	Sent int64
}

// NeighborBFD is a BGP neighbor's view of its BFD session.
type NeighborBFD struct {
	Type             string // "single hop", "multi hop"
	Status           string // Up, Down, Unknown
	DetectMultiplier int64
	RxMinInterval    int64 // ms
	TxMinInterval    int64 // ms
	LastUpdate       string
}

type rawNeighbor struct {
	Desc                    string `json:"nbrDesc"`
	RemoteAS                int64  `json:"remoteAs"`
	LocalAS                 int64  `json:"localAs"`
	State                   string `json:"bgpState"`
	RemoteRouterID          string `json:"remoteRouterId"`
	LocalRouterID           string `json:"localRouterId"`
	UpMsec                  int64  `json:"bgpTimerUpMsec"`
	UpEpoch                 int64  `json:"bgpTimerUpEstablishedEpoch"`
	ConnectionsEstablished  int64  `json:"connectionsEstablished"`
	ConnectionsDropped      int64  `json:"connectionsDropped"`
	LastResetDueTo          string `json:"lastResetDueTo"`
	LastResetCode           int64  `json:"lastResetCode"`
	LastNotificationReason  string `json:"lastNotificationReason"`
	LastErrorCodeSubcode    string `json:"lastErrorCodeSubcode"`
	LastShutdownDescription string `json:"lastShutdownDescription"`
	HostLocal               string `json:"hostLocal"`
	HostForeign             string `json:"hostForeign"`
	PortForeign             int64  `json:"portForeign"`
	MessageStats            struct {
		MessageCounts
		TotalSent int64 `json:"totalSent"`
		TotalRecv int64 `json:"totalRecv"`
	} `json:"messageStats"`
	AddressFamilyInfo map[string]json.RawMessage `json:"addressFamilyInfo"`
	PeerBfdInfo       *struct {
		Type             string `json:"type"`
		Status           string `json:"status"`
		DetectMultiplier int64  `json:"detectMultiplier"`
		RxMinInterval    int64  `json:"rxMinInterval"`
		TxMinInterval    int64  `json:"txMinInterval"`
		LastUpdate       string `json:"lastUpdate"`
	} `json:"peerBfdInfo"`
}

type rawAF struct {
	Accepted int64 `json:"acceptedPrefixCounter"`
	Sent     int64 `json:"sentPrefixCounter"`
}

// ParseBGPNeighbors parses `show bgp neighbors json` (or `show bgp
// neighbors ADDR json`) and returns the neighbors sorted by address.
// Top-level keys that are not neighbor objects (vrfId, vrfName) are
// skipped.
func ParseBGPNeighbors(data []byte) ([]BGPNeighbor, error) {
	var top map[string]json.RawMessage
	if err := decode(CmdBGPNeighbors, data, &top); err != nil {
		return nil, err
	}
	out, err := parseNeighbors(CmdBGPNeighbors, "", top)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b BGPNeighbor) int { return strings.Compare(a.Address, b.Address) })
	return out, nil
}

// ParseBGPNeighborsAllVRFs parses `show bgp vrf all neighbors json`: one
// object per VRF, keyed by its name, each holding the VRF's neighbors as
// `show bgp neighbors json` prints them. It returns the neighbors of
// every VRF, each with its VRF, sorted by VRF then address. Keys whose
// value is not an object are skipped.
func ParseBGPNeighborsAllVRFs(data []byte) ([]BGPNeighbor, error) {
	var vrfs map[string]json.RawMessage
	if err := decode(CmdBGPNeighborsAllVRFs, data, &vrfs); err != nil {
		return nil, err
	}
	var out []BGPNeighbor
	for name, raw := range vrfs {
		if !isObject(raw) {
			continue
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(raw, &top); err != nil {
			return nil, &Error{Command: CmdBGPNeighborsAllVRFs, Err: fmt.Errorf("vrf %s: %w", name, err)}
		}
		ns, err := parseNeighbors(CmdBGPNeighborsAllVRFs, name, top)
		if err != nil {
			return nil, err
		}
		out = append(out, ns...)
	}
	slices.SortFunc(out, func(a, b BGPNeighbor) int {
		return cmp.Or(strings.Compare(a.VRF, b.VRF), strings.Compare(a.Address, b.Address))
	})
	return out, nil
}

// parseNeighbors parses one VRF's neighbors, the objects of top.
func parseNeighbors(cmd, vrf string, top map[string]json.RawMessage) ([]BGPNeighbor, error) {
	out := make([]BGPNeighbor, 0, len(top))
	for addr, raw := range top {
		if !isObject(raw) {
			continue
		}
		var r rawNeighbor
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, &Error{Command: cmd, Err: fmt.Errorf("neighbor %s: %w", addr, err)}
		}
		n := BGPNeighbor{
			Address:                 addr,
			VRF:                     vrf,
			Description:             r.Desc,
			RemoteAS:                r.RemoteAS,
			LocalAS:                 r.LocalAS,
			State:                   r.State,
			RemoteRouterID:          r.RemoteRouterID,
			LocalRouterID:           r.LocalRouterID,
			ConnectionsEstablished:  r.ConnectionsEstablished,
			ConnectionsDropped:      r.ConnectionsDropped,
			LastResetReason:         r.LastResetDueTo,
			LastResetCode:           r.LastResetCode,
			LastNotification:        r.LastNotificationReason,
			LastNotificationCode:    r.LastErrorCodeSubcode,
			LastShutdownDescription: r.LastShutdownDescription,
			MessagesSent:            r.MessageStats.TotalSent,
			MessagesReceived:        r.MessageStats.TotalRecv,
			Messages:                r.MessageStats.MessageCounts,
			LocalHost:               r.HostLocal,
			ForeignHost:             r.HostForeign,
			ForeignPort:             r.PortForeign,
		}
		if n.Established() {
			n.Uptime = time.Duration(r.UpMsec) * time.Millisecond
			n.EstablishedEpoch = r.UpEpoch
		}
		for name, rawFamily := range r.AddressFamilyInfo {
			if !isObject(rawFamily) {
				continue
			}
			var af rawAF
			if err := json.Unmarshal(rawFamily, &af); err != nil {
				return nil, &Error{Command: cmd, Err: fmt.Errorf("neighbor %s family %s: %w", addr, name, err)}
			}
			if n.AddressFamilies == nil {
				n.AddressFamilies = map[string]AddressFamily{}
			}
			n.AddressFamilies[name] = AddressFamily{Accepted: af.Accepted, Sent: af.Sent}
		}
		if b := r.PeerBfdInfo; b != nil {
			n.BFD = &NeighborBFD{Type: b.Type, Status: b.Status, DetectMultiplier: b.DetectMultiplier,
				RxMinInterval: b.RxMinInterval, TxMinInterval: b.TxMinInterval, LastUpdate: b.LastUpdate}
		}
		out = append(out, n)
	}
	return out, nil
}
