package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var planInputDir = flag.String("plan-input", "", "TestWritePlanInput writes the input of BenchmarkPlan to this `folder`")

// planServiceCount is the number of Services of BenchmarkPlan's input.
const planServiceCount = 10_000

// writePlanInput writes what a user would give ironlb plan for n
// Services: one IPAddressPool with a /16 (198.18.0.0/16, the benchmarking
// range of RFC 2544) and an L2Advertisement, 20 labelled Namespaces, and
// the Services in files of 500 documents each. The Services vary the way
// hand-written ones do: block and flow style, comments, named and
// numbered target ports, annotations (pool, shared IP pairs of a TCP and
// a UDP Service), ipFamilyPolicy, and an IP in the status of some.
func writePlanInput(dir string, n int) error {
	const namespaces = 20
	const perFile = 500
	var cfg strings.Builder
	cfg.WriteString(`# The one pool of the benchmark and its Layer 2 announcement.
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: big
  namespace: metallb-system
spec:
  addresses:
    - 198.18.0.0/16
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata:
  name: big
  namespace: metallb-system
spec:
  ipAddressPools:
    - big
`)
	for i := range namespaces {
		fmt.Fprintf(&cfg, `---
apiVersion: v1
kind: Namespace
metadata:
  name: team-%02d
  labels:
    team: team-%02d
    environment: production
`, i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg.String()), 0o644); err != nil {
		return err
	}
	for f := 0; f*perFile < n; f++ {
		var b strings.Builder
		fmt.Fprintf(&b, "# Services %d to %d.\n", f*perFile, min(n, (f+1)*perFile)-1)
		for i := f * perFile; i < min(n, (f+1)*perFile); i++ {
			if i > f*perFile {
				b.WriteString("---\n")
			}
			writePlanService(&b, i, fmt.Sprintf("team-%02d", i%namespaces))
		}
		name := filepath.Join(dir, fmt.Sprintf("services-%02d.yaml", f))
		if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writePlanService writes Service i in one of a few styles.
func writePlanService(b *strings.Builder, i int, ns string) {
	if i%25 == 3 {
		// A short one, in flow style.
		fmt.Fprintf(b, `apiVersion: v1
kind: Service
metadata: {name: "svc-%05d", namespace: %s, labels: {app: svc-%05d}}
spec: {type: LoadBalancer, selector: {app: svc-%05d}, ports: [{port: 8080, protocol: TCP}]}
`, i, ns, i, i)
		return
	}
	name := fmt.Sprintf("svc-%05d", i)
	fmt.Fprintf(b, `apiVersion: v1
kind: Service
metadata:
  name: %s
  namespace: %s
  labels:
    app.kubernetes.io/name: %s
    app.kubernetes.io/part-of: shop
    tier: "%d"
`, name, ns, name, i%3)
	var ann []string
	switch {
	case i%10 == 0 || i%10 == 1:
		ann = append(ann, fmt.Sprintf("metallb.io/allow-shared-ip: dns-%05d", i/10))
	case i%7 == 0:
		ann = append(ann, "metallb.io/address-pool: big")
	}
	if i%13 == 0 {
		ann = append(ann, "description: >-\n      The public entry point of\n      "+name+".")
	}
	if len(ann) > 0 {
		b.WriteString("  annotations:\n")
		for _, a := range ann {
			b.WriteString("    " + a + "\n")
		}
	}
	b.WriteString("spec:\n  type: LoadBalancer\n")
	selector := name
	if i%10 == 1 {
		selector = fmt.Sprintf("svc-%05d", i-1)
	}
	fmt.Fprintf(b, "  selector:\n    app.kubernetes.io/name: %s\n", selector)
	if i%50 == 5 {
		b.WriteString("  ipFamilyPolicy: SingleStack\n  ipFamilies: [IPv4]\n")
	}
	switch i % 10 {
	case 0:
		b.WriteString("  ports:\n    - name: dns-tcp\n      port: 53\n      protocol: TCP\n      targetPort: 5353\n")
	case 1:
		b.WriteString("  ports:\n    - name: dns-udp\n      port: 53\n      protocol: UDP\n      targetPort: 5353\n")
	default:
		b.WriteString(`  # Both ports go to the same pods.
  ports:
    - name: http
      port: 80
      protocol: TCP
      targetPort: http
    - name: https
      port: 443
      protocol: TCP
      targetPort: 8443
`)
	}
	if i%4 == 2 {
		b.WriteString("  externalTrafficPolicy: Local\n")
	}
	if i%100 == 42 {
		// A Service exported from a cluster, with the IP it has.
		fmt.Fprintf(b, "status:\n  loadBalancer:\n    ingress:\n      - ip: 198.18.200.%d\n", i/100+1)
	}
}

// TestWritePlanInput writes BenchmarkPlan's input to -plan-input, to
// measure the built command on it:
//
//	go test -run TestWritePlanInput ./cmd/ironlb/ -args -plan-input=/tmp/plan10k
func TestWritePlanInput(t *testing.T) {
	if *planInputDir == "" {
		t.Skip("no -plan-input folder")
	}
	if err := os.MkdirAll(*planInputDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writePlanInput(*planInputDir, planServiceCount); err != nil {
		t.Fatal(err)
	}
}

// TestPlanInput checks that the benchmark's input plans as meant: every
// Service gets an IP and no document is skipped.
func TestPlanInput(t *testing.T) {
	dir := t.TempDir()
	if err := writePlanInput(dir, 500); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runIronlb(t, "", "plan", "-f", dir, "-o", "json")
	if code != 0 || stderr != "" {
		t.Fatalf("exit code %d, stderr %q", code, stderr)
	}
	if got := strings.Count(stdout, `"name": "svc-`); got != 500 {
		t.Errorf("planned %d Services, want 500", got)
	}
	if strings.Contains(stdout, `"error"`) || strings.Contains(stdout, `"note"`) {
		t.Errorf("a Service has an error or a note:\n%s", stdout)
	}
}

// BenchmarkPlan runs ironlb plan, as the command line does, on 10,000
// Services from one /16: reading the files, decoding, the model, the
// allocation and the output (to io.Discard).
func BenchmarkPlan(b *testing.B) {
	dir := b.TempDir()
	if err := writePlanInput(dir, planServiceCount); err != nil {
		b.Fatal(err)
	}
	for _, out := range []string{outputJSON, outputText} {
		b.Run(fmt.Sprintf("services=%d/o=%s", planServiceCount, out), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := runPlan(context.Background(), []string{"-f", dir, "-o", out}, nil, io.Discard, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
