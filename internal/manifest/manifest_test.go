package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// counts summarises a set for comparison.
func counts(s *Set) map[string]int {
	return map[string]int{
		"pools": len(s.Pools), "peers": len(s.BGPPeers), "bgpadv": len(s.BGPAdvertisements),
		"l2adv": len(s.L2Advertisements), "bfd": len(s.BFDProfiles), "communities": len(s.Communities),
		"services": len(s.Services), "nodes": len(s.Nodes), "namespaces": len(s.Namespaces),
		"secrets": len(s.Secrets), "slices": len(s.EndpointSlices), "skipped": len(s.Skipped),
	}
}

func TestDecode(t *testing.T) {
	zero := counts(&Set{})
	with := func(kv ...any) map[string]int {
		m := counts(&Set{})
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1].(int)
		}
		return m
	}
	tests := []struct {
		name    string
		input   string
		want    map[string]int
		wantErr string
	}{
		{name: "empty", input: "", want: zero},
		{name: "only comments", input: "# nothing\n---\n# here\n", want: zero},
		{
			name: "every kind",
			input: `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: a}
spec: {addresses: [192.0.2.0/24]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: r}
spec: {myASN: 64512, peerASN: 64500, peerAddress: 192.0.2.1}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: b}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l}
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: f}
---
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: c}
---
apiVersion: v1
kind: Service
metadata: {name: s}
---
apiVersion: v1
kind: Node
metadata: {name: n}
---
apiVersion: v1
kind: Namespace
metadata: {name: ns}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: es}
endpoints: []
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
`,
			want: with("pools", 1, "peers", 1, "bgpadv", 1, "l2adv", 1, "bfd", 1, "communities", 1, "services", 1, "nodes", 1, "namespaces", 1, "secrets", 1, "slices", 1, "skipped", 1),
		},
		{
			name:  "list",
			input: `{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}}, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b"}}]}`,
			want:  with("services", 2),
		},
		{name: "misspelt field", input: "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: a}\nspec: {adresses: [192.0.2.0/24]}\n", wantErr: `test.yaml: document 1: IPAddressPool "a": error unmarshaling JSON: while decoding JSON: json: unknown field "adresses"`},
		{name: "v1beta1 peer", input: "apiVersion: metallb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: r}\nspec: {myASN: 64512, peerASN: 64500, peerAddress: 192.0.2.1}\n", want: with("peers", 1)},
		{name: "misspelt field of a v1beta1 peer", input: "apiVersion: metallb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: r}\nspec: {myASN: 64512, peerASM: 64500}\n", wantErr: `BGPPeer "r": error unmarshaling JSON: while decoding JSON: json: unknown field "peerASM"`},
		{name: "no kind", input: "metadata: {name: a}\n", wantErr: "test.yaml: document 1: no apiVersion and kind"},
		{name: "bad yaml", input: "apiVersion: v1\nkind: Service\n---\n: : :\n\t", wantErr: "test.yaml: document 2"},
		{name: "wrong type", input: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: 80}\n", wantErr: `Service "s"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Set{}
			err := s.Decode("test.yaml", strings.NewReader(tc.input))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Decode() error = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode() error = %v", err)
			}
			if diff := cmp.Diff(tc.want, counts(s)); diff != "" {
				t.Errorf("Decode() counts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadFolderInNameOrder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: second}\n")
	write("a.yml", "apiVersion: v1\nkind: Service\nmetadata: {name: first}\n")
	write("notes.txt", "not a manifest")
	s, err := Load([]string{dir, "-"}, strings.NewReader("apiVersion: v1\nkind: Service\nmetadata: {name: third}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, svc := range s.Services {
		got = append(got, svc.Name)
	}
	if diff := cmp.Diff([]string{"first", "second", "third"}, got); diff != "" {
		t.Errorf("Load() order (-want +got):\n%s", diff)
	}
	if _, err := Load([]string{filepath.Join(dir, "missing.yaml")}, nil); err == nil {
		t.Error("Load() of a missing file succeeded")
	}
}

// FuzzDecode checks that no input makes the decoder panic.
func FuzzDecode(f *testing.F) {
	f.Add("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
	f.Add("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: List, items: []}]\n")
	f.Add("---\n---\n")
	f.Add("apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nspec: {addresses: [1]}\n")
	f.Add("{\"apiVersion\": 1}")
	f.Fuzz(func(t *testing.T, input string) {
		s := &Set{}
		_ = s.Decode("fuzz", strings.NewReader(input))
	})
}
