package speaker

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/l2/members"
)

// FuzzMemberMeta gives the Layer 2 election arbitrary metadata from the
// other members (memberlist carries what any member publishes): the
// election never panics, a node whose metadata does not decode is no
// candidate, and this node's own metadata is never taken from the view.
func FuzzMemberMeta(f *testing.F) {
	f.Add(metaOf(nodeMeta{Any: true}), metaOf(nodeMeta{Draining: true, Links: []string{"eth0"}}), true)
	f.Add([]byte(`{"any":true,"links":null,"allLinks":true}`), []byte(`{"drain":1}`), false)
	f.Add([]byte(`{"links":["`+string(make([]byte, 300))+`"]}`), []byte(`leaving`), true)
	f.Add([]byte(nil), []byte(`[]`), false)
	f.Fuzz(func(t *testing.T, meta2, meta3 []byte, refused bool) {
		view := &members.View{Live: []string{"n1", "n2", "n3"}, Meta: map[string][]byte{"n1": meta2, "n2": meta2, "n3": meta3}}
		if refused {
			view.Refused = "wrong key"
		}
		c := l2Cluster(readyNode("n1", true), readyNode("n2", true), readyNode("n3", true))
		res, live := electL2(l2Inputs{cluster: c, node: "n1", self: nodeMeta{Any: true}, view: view})
		if refused == slices.Contains(live, "n1") {
			t.Fatalf("live = %v with refused %v", live, refused)
		}
		for _, s := range res.Services {
			if s.Node == "" {
				continue
			}
			if s.Node != "n1" {
				if _, ok := decodeMeta(view.Meta[s.Node]); !ok {
					t.Fatalf("%s owns %s/%s with metadata %q that does not decode", s.Node, s.Namespace, s.Name, view.Meta[s.Node])
				}
			}
		}
		if m, ok := decodeMeta(meta2); ok {
			if _, err := json.Marshal(m); err != nil {
				t.Fatalf("decoded metadata does not encode: %v", err)
			}
		}
	})
}

// FuzzSessionsFrom turns arbitrary agent status answers into the
// SpeakerStatus' sessions: never a panic, one session per neighbor at
// most.
func FuzzSessionsFrom(f *testing.F) {
	f.Add([]byte(`{"sessions":[{"address":"192.0.2.1","description":"router","state":"Established","vrf":"default"}],"bfdPeers":[{"peer":"192.0.2.1","status":"up"}]}`))
	f.Add([]byte(`{"sessions":[{"address":"eth0","interface":"eth0","state":"Active"}],"bfdPeers":[{"peer":"fe80::1","interface":"eth0","status":"down"}]}`))
	f.Add([]byte(`{"sessions":[{"address":"not an ip","addressFamilies":{"ipv4Unicast":{"sent":-1}}}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var st agent.Status
		if err := json.Unmarshal(data, &st); err != nil {
			return
		}
		got := sessionsFrom(st, time.Unix(0, 0))
		if len(got) > len(st.Sessions) {
			t.Fatalf("%d sessions from %d neighbors", len(got), len(st.Sessions))
		}
	})
}
