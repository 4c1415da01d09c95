package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// planPools is a valid configuration: one pool of two IPv4 addresses.
const planPools = `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: lan, namespace: metallb-system}
spec:
  addresses: [192.0.2.10-192.0.2.11]
`

// planServices asks for three addresses of the two planPools has.
const planServices = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: LoadBalancer
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  type: LoadBalancer
  ports: [{port: 5432}]
status:
  loadBalancer:
    ingress: [{ip: 192.0.2.10}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  type: LoadBalancer
  ports: [{port: 443}]
`

// runIronlb runs the command line and returns its exit code and output.
func runIronlb(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = dispatch(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestPlanExitCodes(t *testing.T) {
	dir := t.TempDir()
	pools := filepath.Join(dir, "pools.yaml")
	if err := os.WriteFile(pools, []byte(planPools), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  int
		// wantStdout and wantStderr must be in the outputs; an empty
		// wantStderr means stderr must be empty.
		wantStdout string
		wantStderr []string
	}{
		{
			name:       "plan from a file and standard input",
			args:       []string{"plan", "-f", pools, "-f", "-"},
			stdin:      planServices,
			want:       0,
			wantStdout: "shop        web    192.0.2.11   lan",
		},
		{
			name:       "no manifests",
			args:       []string{"plan"},
			want:       2,
			wantStderr: []string{"ironlb plan: no manifests", "usage: ironlb plan -f FILE_OR_DIR"},
		},
		{
			name:       "unknown flag",
			args:       []string{"plan", "-f", pools, "--nope"},
			want:       2,
			wantStderr: []string{"ironlb plan: flag provided but not defined: -nope", "usage: ironlb plan"},
		},
		{
			name:       "unknown output format",
			args:       []string{"plan", "-f", pools, "-o", "xml"},
			want:       2,
			wantStderr: []string{`-o "xml": want json, yaml or text`, "usage: ironlb plan"},
		},
		{
			name:       "positional argument",
			args:       []string{"plan", pools},
			want:       2,
			wantStderr: []string{"unexpected argument", "usage: ironlb plan"},
		},
		{
			name:       "empty namespace",
			args:       []string{"plan", "-f", pools, "--namespace="},
			want:       2,
			wantStderr: []string{"--namespace must not be empty"},
		},
		{
			name:       "help",
			args:       []string{"plan", "-h"},
			want:       0,
			wantStderr: []string{"usage: ironlb plan", "-lb-class"},
		},
		{
			name:       "missing file",
			args:       []string{"plan", "-f", filepath.Join(dir, "missing.yaml")},
			want:       1,
			wantStderr: []string{"ironlb plan: reading manifests:", "missing.yaml"},
		},
		{
			name:       "undecodable manifest",
			args:       []string{"plan", "-f", "-"},
			stdin:      "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: a}\nspec: {adresses: []}\n",
			want:       1,
			wantStderr: []string{`-: document 1: IPAddressPool "a"`, "adresses"},
		},
		{
			name: "invalid configuration names the object and field",
			args: []string{"plan", "-f", "-"},
			stdin: `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bad}
spec:
  addresses: [192.0.2.300/32]
`,
			want:       1,
			wantStderr: []string{`ironlb plan: invalid configuration: IPAddressPool "bad": spec.addresses[0]: "192.0.2.300/32" is not a valid CIDR or range`},
		},
		{
			name: "every problem of the configuration, one a line",
			args: []string{"plan", "-f", "-"},
			stdin: `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bad}
spec:
  addresses: [192.0.2.300/32]
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor}
spec:
  peerASN: 64500
  peerAddress: 192.0.2.1
`,
			want: 1,
			wantStderr: []string{
				"ironlb plan: invalid configuration, 2 problems:\n",
				"\n  IPAddressPool \"bad\": spec.addresses[0]: ",
				"\n  BGPPeer \"tor\": spec.myASN: must be set\n",
			},
		},
		{
			name:       "configuration outside ironlb's namespace",
			args:       []string{"plan", "-f", pools, "--namespace", "ironlb-system"},
			want:       1,
			wantStderr: []string{`IPAddressPool "lan": metadata.namespace: is "metallb-system", but ironlb reads its configuration from namespace "ironlb-system"`},
		},
		{
			name: "other kinds are summed up on one line",
			args: []string{"plan", "-f", pools, "-f", "-"},
			stdin: `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
`,
			want:       0,
			wantStderr: []string{"ironlb plan: skipped 2 documents of kinds ironlb does not read (first: -: document 1: apps/v1/Deployment web)\n"},
		},
		{
			name: "a Service of the configured loadBalancerClass is planned",
			args: []string{"plan", "-f", pools, "-f", "-", "--lb-class", "example.com/ironlb"},
			stdin: `
apiVersion: v1
kind: Service
metadata: {name: classy}
spec:
  type: LoadBalancer
  loadBalancerClass: example.com/ironlb
  ports: [{port: 80}]
`,
			want:       0,
			wantStdout: "default     classy   192.0.2.10   lan",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runIronlb(t, tt.stdin, tt.args...)
			if code != tt.want {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.want, stderr)
			}
			if !strings.Contains(stdout, tt.wantStdout) {
				t.Errorf("stdout does not contain %q:\n%s", tt.wantStdout, stdout)
			}
			if len(tt.wantStderr) == 0 && stderr != "" {
				t.Errorf("stderr is not empty:\n%s", stderr)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestPlanOutputFormats(t *testing.T) {
	input := planPools + "---\n" + planServices
	tests := []struct {
		name string
		args []string
		want string
	}{
		{
			name: "json",
			args: []string{"-o", "json"},
			want: `{
  "services": [
    {
      "namespace": "shop",
      "name": "web",
      "ips": [
        "192.0.2.11"
      ],
      "pool": "lan"
    },
    {
      "namespace": "default",
      "name": "db",
      "ips": [
        "192.0.2.10"
      ],
      "pool": "lan"
    },
    {
      "namespace": "shop",
      "name": "api",
      "ips": [],
      "error": "no available IPs in pool \"lan\""
    }
  ],
  "pools": [
    {
      "name": "lan",
      "assignedIPv4": 2,
      "assignedIPv6": 0,
      "availableIPv4": 0,
      "availableIPv6": 0
    }
  ]
}
`,
		},
		{
			name: "yaml",
			args: []string{"-o", "yaml"},
			want: `pools:
- assignedIPv4: 2
  assignedIPv6: 0
  availableIPv4: 0
  availableIPv6: 0
  name: lan
services:
- ips:
  - 192.0.2.11
  name: web
  namespace: shop
  pool: lan
- ips:
  - 192.0.2.10
  name: db
  namespace: default
  pool: lan
- error: no available IPs in pool "lan"
  ips: []
  name: api
  namespace: shop
`,
		},
		{
			name: "text is the default",
			args: nil,
			want: `NAMESPACE   NAME   IPS          POOL     ADVERTISEMENTS    ERROR
shop        web    192.0.2.11   lan      <not announced>
default     db     192.0.2.10   lan      <not announced>
shop        api    <none>       <none>   <none>            no available IPs in pool "lan"

POOL   IPV4 ASSIGNED   IPV4 AVAILABLE   IPV6 ASSIGNED   IPV6 AVAILABLE
lan    2               0                0               0
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"plan", "-f", "-"}, tt.args...)
			code, stdout, stderr := runIronlb(t, input, args...)
			if code != 0 || stderr != "" {
				t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
			}
			if diff := cmp.Diff(tt.want, stdout); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPlanExamples runs what make demo runs and expects the table the
// plan package pins in its golden file.
func TestPlanExamples(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "..", "controller", "plan", "testdata", "TestExamples.golden"))
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runIronlb(t, "", "plan", "-f", filepath.Join("..", "..", "examples")+"/", "-o", "text")
	if code != 0 || stderr != "" {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
	}
	if diff := cmp.Diff(string(want), stdout); diff != "" {
		t.Errorf("stdout (-want +got):\n%s", diff)
	}
}
