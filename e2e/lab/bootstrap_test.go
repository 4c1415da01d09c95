package lab

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/internal/manifest"
)

func TestDecodeDocs(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string // kind/name
		wantErr bool
	}{{
		name: "documents, comments and empty ones",
		in:   "# head\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n---\n# only a comment\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n  namespace: a\n",
		want: []string{"Namespace/a", "Service/b"},
	}, {
		name:    "no kind",
		in:      "apiVersion: v1\nmetadata:\n  name: a\n",
		wantErr: true,
	}, {
		name:    "not YAML",
		in:      "a: [b\n",
		wantErr: true,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := decodeDocs([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("decodeDocs() error = %v, wantErr %v", err, tc.wantErr)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.GetKind()+"/"+o.GetName())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("decodeDocs() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExampleManifests checks that examples/lab decodes, both as the lab
// applies it and into ironlb's typed objects, and holds what the lab's
// tests rely on.
func TestExampleManifests(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "lab")
	objs, err := readManifests([]string{dir})
	if err != nil {
		t.Fatalf("readManifests: %v", err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.GetKind()+"/"+objectKey(o))
	}
	want := []string{
		"Namespace/lab",
		"IPAddressPool/metallb-system/bgp",
		"IPAddressPool/metallb-system/l2",
		"BFDProfile/metallb-system/lab",
		"BGPPeer/metallb-system/router-v4",
		"BGPPeer/metallb-system/router-v6",
		"BGPAdvertisement/metallb-system/bgp",
		"L2Advertisement/metallb-system/l2",
		"Service/lab/web-bgp",
		"Service/lab/web-l2",
		"EndpointSlice/lab/web-bgp-lab-ipv4",
		"EndpointSlice/lab/web-bgp-lab-ipv6",
		"EndpointSlice/lab/web-l2-lab-ipv4",
		"EndpointSlice/lab/web-l2-lab-ipv6",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("examples/lab objects mismatch (-want +got):\n%s", diff)
	}
	set, err := manifest.Load([]string{dir}, nil)
	if err != nil {
		t.Fatalf("manifest.Load: %v", err)
	}
	if len(set.Skipped) > 0 {
		t.Errorf("manifest.Load skipped %q", set.Skipped)
	}
	pools := map[string][]string{}
	for _, p := range set.Pools {
		pools[p.Name] = p.Spec.Addresses
	}
	wantPools := map[string][]string{
		"bgp": {BGPPoolIPv4, BGPPoolIPv6},
		"l2":  {L2PoolIPv4, L2PoolIPv6},
	}
	if diff := cmp.Diff(wantPools, pools); diff != "" {
		t.Errorf("pools mismatch (-want +got):\n%s", diff)
	}
	var peers []string
	for _, p := range set.BGPPeers {
		peers = append(peers, p.Spec.Address)
		if p.Spec.ASN != RouterAS || p.Spec.MyASN != NodeAS {
			t.Errorf("peer %s: ASN %d myASN %d, want %d and %d", p.Name, p.Spec.ASN, p.Spec.MyASN, RouterAS, NodeAS)
		}
	}
	if diff := cmp.Diff([]string{RouterIPv4, RouterIPv6}, peers); diff != "" {
		t.Errorf("peer addresses mismatch (-want +got):\n%s", diff)
	}
}
