package vtyshjson

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// BGPTable is `show bgp ipv4|ipv6 unicast json`: the local BGP table.
type BGPTable struct {
	VRF              string
	RouterID         string
	LocalAS          int64
	DefaultLocalPref int64
	TableVersion     int64
	// Routes are sorted by prefix.
	Routes []Route
}

// Route is a prefix with its paths.
type Route struct {
	Prefix netip.Prefix
	Paths  []Path
}

// Best returns the best path and whether there is one.
func (r Route) Best() (Path, bool) {
	for _, p := range r.Paths {
		if p.Best {
			return p, true
		}
	}
	return Path{}, false
}

// Path is one path of a route. Attributes the output lacks are zero;
// FRR 8.4 prints communities only per prefix (`show bgp ipv4 unicast
// PREFIX json`), not in the whole table.
type Path struct {
	Valid bool
	Best  bool
	// From is "external" or "internal".
	From string
	// PeerID is the neighbor it came from; "(unspec)" or empty for a
	// local route.
	PeerID       string
	ASPath       string
	Origin       string
	Metric       int64
	LocalPref    int64
	HasLocalPref bool
	Weight       int64
	NextHops     []NextHop
	// Communities and LargeCommunities in FRR's text form ("64512:100").
	Communities      []string
	LargeCommunities []string
}

// NextHop is a path's next hop.
type NextHop struct {
	IP       string
	Hostname string
	AFI      string // ipv4, ipv6
	Scope    string // global, link-local (IPv6)
	Used     bool
}

type rawTable struct {
	VRFName      string                       `json:"vrfName"`
	RouterID     string                       `json:"routerId"`
	LocalAS      int64                        `json:"localAS"`
	DefaultLocPr int64                        `json:"defaultLocPrf"`
	TableVersion int64                        `json:"tableVersion"`
	Routes       map[string][]json.RawMessage `json:"routes"`
}

type rawPath struct {
	Valid    bool     `json:"valid"`
	Best     flexBest `json:"bestpath"`
	PathFrom string   `json:"pathFrom"`
	PeerID   string   `json:"peerId"`
	Peer     *struct {
		PeerID string `json:"peerId"`
		Type   string `json:"type"`
	} `json:"peer"`
	Path     string      `json:"path"`
	ASPath   flexASPath  `json:"aspath"`
	Origin   string      `json:"origin"`
	Metric   int64       `json:"metric"`
	LocPrf   *int64      `json:"locPrf"`
	Weight   int64       `json:"weight"`
	NextHops []NextHop   `json:"nexthops"`
	Comm     communities `json:"community"`
	Large    communities `json:"largeCommunity"`
}

// ParseBGPIPv4Unicast parses `show bgp ipv4 unicast json`.
func ParseBGPIPv4Unicast(data []byte) (BGPTable, error) { return parseTable(CmdBGPIPv4, data) }

// ParseBGPIPv6Unicast parses `show bgp ipv6 unicast json`.
func ParseBGPIPv6Unicast(data []byte) (BGPTable, error) { return parseTable(CmdBGPIPv6, data) }

func parseTable(cmd string, data []byte) (BGPTable, error) {
	var r rawTable
	if err := decode(cmd, data, &r); err != nil {
		return BGPTable{}, err
	}
	t := BGPTable{VRF: r.VRFName, RouterID: r.RouterID, LocalAS: r.LocalAS,
		DefaultLocalPref: r.DefaultLocPr, TableVersion: r.TableVersion}
	for key, raws := range r.Routes {
		p, err := netip.ParsePrefix(key)
		if err != nil {
			return BGPTable{}, &Error{Command: cmd, Err: fmt.Errorf("route %q: %w", key, err)}
		}
		route := Route{Prefix: p}
		for i, raw := range raws {
			if !isObject(raw) {
				continue
			}
			path, err := parsePath(raw)
			if err != nil {
				return BGPTable{}, &Error{Command: cmd, Err: fmt.Errorf("route %s path %d: %w", key, i, err)}
			}
			route.Paths = append(route.Paths, path)
		}
		t.Routes = append(t.Routes, route)
	}
	slices.SortFunc(t.Routes, func(a, b Route) int {
		return cmp.Or(a.Prefix.Addr().Compare(b.Prefix.Addr()), cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits()))
	})
	return t, nil
}

// CmdBGPPrefix describes the per-prefix command in errors.
const CmdBGPPrefix = "show bgp ipv4|ipv6 unicast PREFIX json"

// ParseBGPPrefix parses `show bgp ipv4|ipv6 unicast PREFIX json`, which
// in FRR 8.4 is where a route's communities show. An empty object (no
// such route) gives a Route with no prefix and no paths.
func ParseBGPPrefix(data []byte) (Route, error) {
	var r struct {
		Prefix string            `json:"prefix"`
		Paths  []json.RawMessage `json:"paths"`
	}
	if err := decode(CmdBGPPrefix, data, &r); err != nil {
		return Route{}, err
	}
	var route Route
	if r.Prefix != "" {
		p, err := netip.ParsePrefix(r.Prefix)
		if err != nil {
			return Route{}, &Error{Command: CmdBGPPrefix, Err: fmt.Errorf("prefix %q: %w", r.Prefix, err)}
		}
		route.Prefix = p
	}
	for i, raw := range r.Paths {
		if !isObject(raw) {
			continue
		}
		path, err := parsePath(raw)
		if err != nil {
			return Route{}, &Error{Command: CmdBGPPrefix, Err: fmt.Errorf("path %d: %w", i, err)}
		}
		route.Paths = append(route.Paths, path)
	}
	return route, nil
}

func parsePath(raw json.RawMessage) (Path, error) {
	var r rawPath
	if err := json.Unmarshal(raw, &r); err != nil {
		return Path{}, err
	}
	p := Path{Valid: r.Valid, Best: bool(r.Best), From: r.PathFrom, PeerID: r.PeerID,
		ASPath: r.Path, Origin: r.Origin, Metric: r.Metric, Weight: r.Weight,
		NextHops: r.NextHops, Communities: r.Comm, LargeCommunities: r.Large}
	if r.Peer != nil {
		p.PeerID = cmp.Or(p.PeerID, r.Peer.PeerID)
		p.From = cmp.Or(p.From, r.Peer.Type)
	}
	p.ASPath = cmp.Or(p.ASPath, string(r.ASPath))
	if r.LocPrf != nil {
		p.LocalPref, p.HasLocalPref = *r.LocPrf, true
	}
	return p, nil
}

// flexBest is "bestpath": true in the table and {"overall": true} per
// prefix.
type flexBest bool

func (b *flexBest) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		var o struct {
			Overall bool `json:"overall"`
		}
		if err := json.Unmarshal(data, &o); err != nil {
			return err
		}
		*b = flexBest(o.Overall)
		return nil
	}
	var v bool
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*b = flexBest(v)
	return nil
}

// flexASPath is {"string": "64512 64513"} per prefix.
type flexASPath string

func (a *flexASPath) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		var o struct {
			String string `json:"string"`
		}
		if err := json.Unmarshal(data, &o); err != nil {
			return err
		}
		*a = flexASPath(o.String)
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	*a = flexASPath(s)
	return nil
}

// communities is {"string": "a b", "list": ["a", "b"]}, or a bare
// string.
type communities []string

func (c *communities) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '{' {
		var o struct {
			String string   `json:"string"`
			List   []string `json:"list"`
		}
		if err := json.Unmarshal(data, &o); err != nil {
			return err
		}
		if o.List != nil {
			*c = o.List
		} else {
			*c = strings.Fields(o.String)
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return err
	}
	*c = strings.Fields(s)
	return nil
}
