package vtyshjson

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestVRFFixtureMeaning checks what the VRF fixtures were captured to
// show (TestCaptureVRFFixtures), so a recapture that lost it fails.
func TestVRFFixtureMeaning(t *testing.T) {
	ns, err := ParseBGPNeighborsAllVRFs(fixture(t, "bgp_vrf_all_neighbors_speaker.json"))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		VRF, Address, Description, State string
		Received, Sent                   int64
		PortKnown                        bool
	}
	var got []row
	for _, n := range ns {
		got = append(got, row{n.VRF, n.Address, n.Description, n.State,
			n.AddressFamilies["ipv4Unicast"].Accepted, n.AddressFamilies["ipv4Unicast"].Sent, n.ForeignPort > 0})
	}
	want := []row{
		{VRF: "default", Address: "192.0.2.2", Description: "router-default", State: "Established", Received: 1, Sent: 2, PortKnown: true},
		{VRF: "red", Address: "203.0.113.2", Description: "router-red", State: "Idle"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("neighbors of every VRF (-want +got):\n%s", diff)
	}
	if m := ns[0].Messages; m.UpdatesSent == 0 || m.OpensSent == 0 || m.KeepalivesReceived == 0 {
		t.Errorf("default neighbor's messages = %+v, want opens, updates and keepalives counted", m)
	}
	if ns[1].ForeignPort != -1 {
		t.Errorf("red neighbor's port = %d, want FRR's -1 for no connection", ns[1].ForeignPort)
	}

	cs, err := ParseBFDCounters(fixture(t, "bfd_counters_speaker.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Peer != "192.0.2.2" || cs[0].VRF != "default" || cs[0].SessionUp < 1 || cs[0].SessionDown < 1 || cs[0].ControlPacketInput == 0 {
		t.Errorf("bfd counters = %+v, want 192.0.2.2 in the default VRF with an up and a down event", cs)
	}
}

func TestParseVRFTolerance(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    []BGPNeighbor
		wantErr bool
	}{
		{name: "no vrf", in: `{}`, want: nil},
		{name: "non-object vrf skipped", in: `{"x":1,"blue":{"vrfId":3,"vrfName":"blue","192.0.2.7":{"bgpState":"Active","portForeign":-1}}}`,
			want: []BGPNeighbor{{Address: "192.0.2.7", VRF: "blue", State: "Active", ForeignPort: -1}}},
		{name: "sorted by vrf then address", in: `{"red":{"192.0.2.1":{}},"default":{"192.0.2.9":{},"192.0.2.3":{}}}`,
			want: []BGPNeighbor{{Address: "192.0.2.3", VRF: "default"}, {Address: "192.0.2.9", VRF: "default"}, {Address: "192.0.2.1", VRF: "red"}}},
		{name: "bad neighbor", in: `{"default":{"192.0.2.1":{"bgpState":7}}}`, wantErr: true},
		{name: "vtysh error text", in: `% BGP instance not found`, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseBGPNeighborsAllVRFs([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("bfd counters: non-objects skipped", func(t *testing.T) {
		got, err := ParseBFDCounters([]byte(`[null, {"peer":"192.0.2.2","vrf":"default","session-up":2,"session-down":1}]`))
		if err != nil {
			t.Fatal(err)
		}
		want := []BFDCounters{{Peer: "192.0.2.2", VRF: "default", SessionUp: 2, SessionDown: 1}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
