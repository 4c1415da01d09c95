package plan

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ironlb/ironlb/internal/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/<TestName>.golden. With -update it
// rewrites the file; on a mismatch it writes got beside it as .got.
func golden(t *testing.T, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", t.Name()+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the golden file (run go test -update to create it): %v", err)
	}
	if bytes.Equal(want, got) {
		return
	}
	gotPath := strings.TrimSuffix(path, ".golden") + ".got"
	if err := os.WriteFile(gotPath, got, 0o644); err != nil {
		t.Error(err)
	}
	t.Errorf("output differs from %s; it is in %s (-want +got):\n%s", path, gotPath, cmp.Diff(string(want), string(got)))
}

func decode(t *testing.T, docs string) *manifest.Set {
	t.Helper()
	set := &manifest.Set{}
	if err := set.Decode(t.Name(), strings.NewReader(docs)); err != nil {
		t.Fatal(err)
	}
	return set
}

func marshal(t *testing.T, r *Result) []byte {
	t.Helper()
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestGoldenJSON pins the JSON form: ips always present, pool, note and
// error only when set, pools by name.
func TestGoldenJSON(t *testing.T) {
	set := decode(t, `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool-b}
spec:
  addresses: [198.51.100.0/31]
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool-a, namespace: metallb-system}
spec:
  addresses: [192.0.2.10/32, "2001:db8::10/127"]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: LoadBalancer
  ipFamilyPolicy: RequireDualStack
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: default, annotations: {metallb.io/address-pool: pool-a}}
spec:
  type: LoadBalancer
  ports: [{port: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: moved, namespace: apps}
spec:
  type: LoadBalancer
  ports: [{port: 80}]
status:
  loadBalancer:
    ingress: [{ip: 203.0.113.9}]
---
apiVersion: v1
kind: Service
metadata: {name: internal, namespace: apps}
spec:
  type: ClusterIP
  ports: [{port: 80}]
`)
	got, err := Plan(set, Options{})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	golden(t, marshal(t, got))
}

// TestExamples plans examples/, as make demo does, and pins the table.
func TestExamples(t *testing.T) {
	set, err := manifest.Load([]string{filepath.Join("..", "..", "examples")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Skipped) > 0 {
		t.Errorf("skipped documents: %q", set.Skipped)
	}
	got, err := Plan(set, Options{})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	// One Service fails on purpose; every other one gets addresses.
	for _, s := range got.Services {
		if (s.Error != "") != (s.Key() == "internal/wiki") {
			t.Errorf("%s: ips %v, error %q", s.Key(), s.IPs, s.Error)
		}
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, got); err != nil {
		t.Fatal(err)
	}
	golden(t, buf.Bytes())
}
