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
	out, err := nr.merge(t.Context(), benchOwn(3), nil)
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
