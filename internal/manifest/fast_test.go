package manifest

import (
	"bufio"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// allFields lets cmp compare unexported fields (resource.Quantity has
// some): both ways must build the very same objects.
var allFields = cmp.Exporter(func(reflect.Type) bool { return true })

// compareFast decodes doc the general way and the fast way. It returns
// whether the fast way took the document, and the difference between
// the two sets when it did, or an error when the fast way took a
// document the general way rejects.
func compareFast(doc []byte) (fast bool, problem string) {
	general := &Set{}
	generalErr := general.decodeDoc(docName("test", 1), doc)
	d := newDecoder(&Set{})
	if !d.decodeFast("test", 1, doc) {
		return false, ""
	}
	if generalErr != nil {
		return true, "the fast way took a document the general way rejects: " + generalErr.Error()
	}
	if diff := cmp.Diff(general, d.set, allFields); diff != "" {
		return true, "sets differ (-general +fast):\n" + diff
	}
	return true, ""
}

// documents splits input as Decode does.
func documents(t testing.TB, input string) [][]byte {
	t.Helper()
	var docs [][]byte
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(input)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			return docs
		}
		if len(strings.TrimSpace(string(doc))) > 0 {
			docs = append(docs, doc)
		}
	}
}

// fastCases are documents the fast way takes (want true) or leaves to
// the general way (want false). FuzzFastPath starts from them too.
var fastCases = []struct {
	name  string
	input string
	want  bool
}{
	{name: "service, block style", want: true, input: `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  labels:
    app.kubernetes.io/name: web
  annotations:
    metallb.io/address-pool: lan
    metallb.io/allow-shared-ip: "web-and-dns"
spec:
  type: LoadBalancer
  selector:
    app.kubernetes.io/name: web
  ports:
    - name: http
      port: 80
      protocol: TCP
      targetPort: http
    - name: https
      port: 443
      targetPort: 8443
  externalTrafficPolicy: Local
  ipFamilyPolicy: PreferDualStack
  ipFamilies: [IPv4, IPv6]
  allocateLoadBalancerNodePorts: false
status:
  loadBalancer:
    ingress:
      - ip: 192.0.2.10
      - ip: 2001:db8::10
`},
	{name: "service, flow style", want: true, input: `apiVersion: v1
kind: Service
metadata: {name: "db", namespace: shop, labels: {app: db, 'tier': '2'}}
spec: {type: LoadBalancer, ports: [{port: 5432, protocol: TCP}], loadBalancerClass: ironlb.io/lb}
`},
	{name: "one-line JSON", want: true, input: `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a", "labels": {"x": "y"}}, "spec": {"ports": [{"port": 80}]}}`},
	{name: "ints and bools on string fields become strings", want: true, input: `apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    tier: 1
    canary: true
    negative: -5
    zero: 0
  annotations:
    build: 1234567890123
spec:
  loadBalancerClass: 7
  ports:
  - port: 80
    name: 8080
`},
	{name: "compact sequences, comments, blank lines", want: true, input: `# A Service.
apiVersion: v1   # the core group
kind: Service

metadata:
  # Its name.
  name: web # trailing
  labels: {}
spec:
  ports:
  - port: 80  # http
    protocol: TCP

  - port: 443
  selector:
  externalIPs: []
  type: LoadBalancer#not a comment
`},
	{name: "quoted scalars", want: true, input: `apiVersion: v1
kind: Service
metadata:
  name: 'it''s'
  annotations:
    "double": "a \"quoted\" \\ back\tslash\nnewline /"
    single: 'a "b" # not a comment'
    colon: "a: b"
    empty: ""
    hash: a#b
    url: http://example.com:8080/x?y=z
    unicode: "grüße ☃"
    plainunicode: grüße
`},
	{name: "block scalars", want: true, input: `apiVersion: v1
kind: Service
metadata:
  name: web
  annotations:
    literal: |
      line one
        indented

      after an empty line
    stripped: |-
      no final newline
    folded: >
      folded
      into one

      paragraph two
      # not a comment
    foldstrip: >-
      one
      line
    trailing: |
      text


  labels:
    after: block
`},
	{name: "pool with ranges and prefixes", want: true, input: `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata:
  name: lan
  namespace: metallb-system
spec:
  addresses:
    - 192.0.2.0/24
    - 198.51.100.10-198.51.100.20
    - 2001:db8::/64
    - "2001:db8:1::1-2001:db8:1::ff"
  autoAssign: false
  avoidBuggyIPs: true
  serviceAllocation:
    priority: 10
    namespaces: [a, b]
    namespaceSelectors:
      - matchLabels:
          exposure: internet
      - matchExpressions:
          - {key: team, operator: In, values: [a, b]}
`},
	{name: "bgp peer", want: true, input: `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor, namespace: metallb-system}
spec:
  myASN: 64512
  peerASN: 64500
  peerAddress: 192.0.2.1
  holdTime: 90s
  bfdProfile: fast
  nodeSelectors:
  - matchLabels:
      rack: a
`},
	{name: "secret with stringData", want: true, input: `apiVersion: v1
kind: Secret
metadata: {name: pw, namespace: metallb-system}
type: kubernetes.io/basic-auth
data:
  password: c2VjcmV0
stringData:
  pin: 1234
`},
	{name: "node with quantities", want: true, input: `apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {kubernetes.io/hostname: n1}
status:
  capacity:
    cpu: 4
    memory: 16Gi
  addresses:
  - {type: InternalIP, address: 192.0.2.21}
`},
	{name: "endpoint slice", want: true, input: `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
endpoints:
  - addresses: [192.0.2.31]
    nodeName: n1
    conditions: {ready: true, serving: true}
ports:
  - {port: 8080, protocol: TCP}
`},
	{name: "a kind ironlb skips", want: true, input: `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
`},
	{name: "document start marker", want: true, input: "--- # the first\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"},
	{name: "namespace with null labels", want: true, input: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n  annotations: ~\n"},

	// Left to the general way.
	{name: "yes is a bool in YAML 1.1", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: {enabled: yes}\n"},
	{name: "float", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: {version: 1.10}\n"},
	{name: "octal", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: {mode: 0755}\n"},
	{name: "timestamp", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: {day: 2024-01-02}\n"},
	{name: "anchor and alias", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: &n a\n  labels: {app: *n}\n"},
	{name: "tag", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: !!str a\n"},
	{name: "duplicate key", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  name: b\n"},
	{name: "keys that differ in case", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: {A: x, a: y}\n"},
	{name: "kind matched without case", input: "apiVersion: v1\nKind: Service\nmetadata:\n  name: a\n"},
	{name: "field matched without case", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  Ports: [{port: 80}]\n"},
	{name: "multi-line plain scalar", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  annotations:\n    text: one\n      two\n"},
	{name: "multi-line quoted scalar", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: \"a\n  b\"\n"},
	{name: "tab", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\t\n"},
	{name: "carriage returns end lines", want: true, input: "apiVersion: v1\r\nkind: Service\r\nmetadata:\r\n  name: a\r\n"},
	{name: "multi-line JSON", input: "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Service\"\n}\n"},
	{name: "misspelt field", input: "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: a}\nspec: {adresses: [192.0.2.0/24]}\n"},
	{name: "wrong type", input: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: 80}\n"},
	{name: "list", input: `{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}}]}`},
	{name: "v1beta1 peer", input: "apiVersion: metallb.io/v1beta1\nkind: BGPPeer\nmetadata: {name: r}\n"},
	{name: "no kind", input: "metadata: {name: a}\n"},
	{name: "value after a colon", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a: b\n"},
	{name: "block scalar with keep", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  annotations:\n    x: |+\n      kept\n\n"},
	{name: "more indented line in a folded scalar", input: "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  annotations:\n    x: >\n      one\n        two\n"},
	{name: "merge key", input: "apiVersion: v1\nkind: Service\nmetadata:\n  <<: {name: a}\n"},
	{name: "indented root", input: "  apiVersion: v1\n  kind: Service\n"},
	{name: "sequence at mapping level", input: "apiVersion: v1\nkind: Service\n- a\n"},
	// Found by FuzzFastPath: an empty flow item is an error.
	{name: "empty flow item", input: "apiVersion: A0\nkind: A\n0Y: \n0000Y: [,0]"},
}

func TestFastPath(t *testing.T) {
	for _, tc := range fastCases {
		t.Run(tc.name, func(t *testing.T) {
			docs := documents(t, tc.input)
			if len(docs) != 1 {
				t.Fatalf("%d documents, want 1", len(docs))
			}
			got, problem := compareFast(docs[0])
			if got != tc.want {
				t.Errorf("fast way taken = %v, want %v", got, tc.want)
			}
			if problem != "" {
				t.Error(problem)
			}
		})
	}
}

// TestFastPathValues pins values the fast way must get right, beyond
// agreeing with the general way.
func TestFastPathValues(t *testing.T) {
	s := &Set{}
	input := fastCases[3].input + "---\n" + fastCases[6].input
	if err := s.Decode("test", strings.NewReader(input)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"tier": "1", "canary": "true", "negative": "-5", "zero": "0"}
	if diff := cmp.Diff(want, s.Services[0].Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	wantAnn := map[string]string{
		"literal":   "line one\n  indented\n\nafter an empty line\n",
		"stripped":  "no final newline",
		"folded":    "folded into one\nparagraph two # not a comment\n",
		"foldstrip": "one line",
		"trailing":  "text\n",
	}
	if diff := cmp.Diff(wantAnn, s.Services[1].Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
}

// FuzzFastPath checks that whenever the fast way takes a document, the
// general way reads it without error into the same objects.
func FuzzFastPath(f *testing.F) {
	for _, tc := range fastCases {
		f.Add(tc.input)
	}
	f.Fuzz(func(t *testing.T, input string) {
		for _, doc := range documents(t, input) {
			if _, problem := compareFast(doc); problem != "" {
				t.Errorf("document %q: %s", doc, problem)
			}
		}
	})
}
