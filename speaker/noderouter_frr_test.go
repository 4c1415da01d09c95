package speaker

import (
	"bytes"
	"net/netip"
	"regexp"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/frr"
	"github.com/ironlb/ironlb/frr/apply"
	"github.com/ironlb/ironlb/internal/frrproc"
	"github.com/ironlb/ironlb/noderouter"
)

// TestNodeRouterMergeLoadsIntoFRR renders what the speaker's node router
// adds itself to the merge (a passwordSecret resolved into the password
// of a neighbor ironlb does not have, the --always-block lists in front
// of a received-route filter) and loads it into a real FRR
// (frrproc.CheckReload: frr-reload.py --test and --reload, every line in
// the running config). It runs as root only.
func TestNodeRouterMergeLoadsIntoFRR(t *testing.T) {
	var cfg frrk8s.FRRConfiguration
	cfg.ObjectMeta = metav1.ObjectMeta{Namespace: "ns", Name: "collector"}
	spec := `
bgp:
  routers:
  - asn: 64512
    neighbors:
    - address: 192.0.2.1
      asn: 64500
      toReceive: {allowed: {mode: all}}
    - address: 192.0.2.7
      asn: 64512
      passwordSecret: {name: collector-pw}
      toReceive: {allowed: {prefixes: [{prefix: 203.0.113.0/24, le: 28}]}}
`
	if err := yaml.UnmarshalStrict([]byte(spec), &cfg.Spec); err != nil {
		t.Fatal(err)
	}
	nr := &nodeRouter{
		reader: listReader{
			items: []frrk8s.FRRConfiguration{cfg},
			secrets: map[string]*corev1.Secret{"collector-pw": {
				Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{"password": []byte("s3cret")},
			}},
		},
		namespace: "ns",
		opts:      noderouter.Options{AlwaysBlock: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("2001:db8::/32")}},
	}
	out, err := nr.merge(t.Context(), benchOwn(3), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := frr.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := renderer.Write(&buf, out.cfg); err != nil {
		t.Fatal(err)
	}
	conf := buf.String()
	// Sequence numbers are the render's business.
	for _, want := range []string{
		`neighbor 192\.0\.2\.7 password s3cret`,
		`ip prefix-list ilb-nr-block-4 seq \d+ permit 198\.51\.100\.0/24 le 32`,
		`ipv6 prefix-list ilb-nr-block-6 seq \d+ permit 2001:db8::/32 le 128`,
		`neighbor 192\.0\.2\.1 route-map ilb-nr-in-192\.0\.2\.1 in`,
		`neighbor 192\.0\.2\.7 route-map ilb-nr-in-192\.0\.2\.7 in`,
	} {
		if !regexp.MustCompile(`(?m)^\s*` + want + `$`).MatchString(conf) {
			t.Errorf("frr.conf has no line %s:\n%s", want, conf)
		}
	}
	frrproc.CheckReload(t, buf.Bytes())
}

// TestNodeRouterAppliesAsDelta applies, to a real FRR through the frr
// apply path the agent uses, ironlb's own frr.conf, then the merge with
// an FRRConfiguration that receives routes on ironlb's session and adds
// a neighbor, then ironlb's own again: both changes go as deltas (the
// fast path, no reload) that do not remove ironlb's neighbor, and
// FRR ends up running ironlb's own configuration as before. It runs as
// root only.
func TestNodeRouterAppliesAsDelta(t *testing.T) {
	f := frrproc.StartTest(t, frrproc.Config{})
	ctx := t.Context()
	applier := apply.New(apply.Vtysh{Pathspace: f.Name()}, apply.Options{})
	renderer, err := frr.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	own := benchOwn(3)
	text := func(c *frr.Config) []byte {
		t.Helper()
		var b bytes.Buffer
		if err := renderer.Write(&b, c); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	var cfg frrk8s.FRRConfiguration
	cfg.ObjectMeta = metav1.ObjectMeta{Namespace: "ns", Name: "receive"}
	spec := `
bgp:
  routers:
  - asn: 64512
    neighbors:
    - address: 192.0.2.1
      asn: 64500
      toReceive: {allowed: {prefixes: [{prefix: 203.0.113.0/24, le: 28}]}}
    - address: 192.0.2.7
      asn: 64512
`
	if err := yaml.UnmarshalStrict([]byte(spec), &cfg.Spec); err != nil {
		t.Fatal(err)
	}
	nr := &nodeRouter{reader: listReader{items: []frrk8s.FRRConfiguration{cfg}}, namespace: "ns"}
	merged, err := nr.merge(ctx, own, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	running := func() string {
		t.Helper()
		out, err := f.Vtysh(ctx, "show running-config")
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}

	if res, err := applier.Apply(ctx, text(own)); err != nil {
		t.Fatalf("applying ironlb's own frr.conf: %+v, %v", res, err)
	}
	before := running()
	steps := []struct {
		name string
		conf []byte
	}{
		{"with the FRRConfiguration", text(merged.cfg)},
		{"without it again", text(own)},
	}
	prev := text(own)
	for _, s := range steps {
		// ironlb's session is changed in place, never removed.
		d := apply.Diff(apply.Parse(prev), apply.Parse(s.conf))
		if regexp.MustCompile(`(?m)^\s*no neighbor 192\.0\.2\.1( remote-as .*)?$`).Match(d.Script) {
			t.Errorf("%s: the delta removes ironlb's neighbor:\n%s", s.name, d.Script)
		}
		t.Logf("%s: delta\n%s", s.name, d.Script)
		prev = s.conf
		res, err := applier.Apply(ctx, s.conf)
		if err != nil || res.Path != apply.PathFast {
			t.Fatalf("%s: %+v, %v; want the fast path", s.name, res, err)
		}
	}
	if after := running(); after != before {
		t.Errorf("FRR's running config differs after the FRRConfiguration came and went:\n--- before\n%s\n--- after\n%s", before, after)
	}
}
