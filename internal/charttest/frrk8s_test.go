package charttest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
)

// TestSpeakerFRRK8sModeUnderChartRBAC renders the chart with
// frrk8s.external, checks that the speaker pods have no FRR sidecar, and
// runs the `ironlb speaker` binary with the chart's arguments as the
// chart's speaker service account: it must write its node's
// FRRConfiguration into frr-k8s's namespace without a forbidden request.
func TestSpeakerFRRK8sModeUnderChartRBAC(t *testing.T) {
	env := startAPIServer(t)
	bin := buildIronlb(t)
	ctx := context.Background()
	c := caseNamed(t, "frr-k8s")
	const node = "node-1"
	ns := c.namespace
	b := render(t, c)
	spec := podSpec(t, b, "DaemonSet", c.release+"-speaker")
	var names []string
	for _, ct := range slices.Concat(spec.InitContainers, spec.Containers) {
		names = append(names, ct.Name)
	}
	if !slices.Equal(names, []string{"speaker"}) {
		t.Errorf("speaker pod containers %v, want only speaker (no FRR sidecar with frrk8s.external)", names)
	}
	spk := container(t, spec, "speaker")
	for _, want := range []string{"--bgp-type=frr-k8s", "--frrk8s-namespace=frr-k8s-system"} {
		if !slices.Contains(spk.Args, want) {
			t.Errorf("speaker args %q lack %q", spk.Args, want)
		}
	}
	if slices.ContainsFunc(spk.Args, func(a string) bool { return len(a) > 19 && a[:19] == "--frr-agent-socket=" }) {
		t.Errorf("speaker args %q name an frr agent", spk.Args)
	}

	objs := decode(t, b)
	createNamespaces(t, env, objs, ns)
	var rest []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() != "ValidatingWebhookConfiguration" {
			rest = append(rest, o)
		}
	}
	create(t, env, rest)
	for _, o := range []client.Object{
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node, Labels: map[string]string{"kubernetes.io/hostname": node}}},
		&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pool"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.0/28"}}},
		&v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "router"}, Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64500, Address: "192.0.2.1"}},
		&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "all"}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatalf("creating %T: %v", o, err)
		}
	}
	healthPort := freePort(t)
	self := createPod(t, env, ns, "ironlb-fk-speaker-x")
	args := append(chartArgs(spk, map[string]string{"NODE_NAME": node, "POD_NAMESPACE": ns, "POD_NAME": self.Name}),
		"--kubeconfig="+kubeconfigAs(t, env, ns, c.release+"-speaker"),
		"--metrics-addr=0",
		"--health-addr=127.0.0.1:"+strconv.Itoa(healthPort),
		"--l2=false",
	)
	logs := runBinary(t, bin, args)
	waitReady(t, "the speaker", healthPort)
	eventually(t, "the node's FRRConfiguration", func() (bool, string) {
		var o frrk8s.FRRConfiguration
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "frr-k8s-system", Name: "ironlb-" + node}, &o); err != nil {
			return false, err.Error()
		}
		ok := len(o.Spec.BGP.Routers) == 1 && len(o.Spec.BGP.Routers[0].Neighbors) == 1 && o.Spec.BGP.Routers[0].Neighbors[0].Address == "192.0.2.1"
		return ok, fmt.Sprintf("%+v", o.Spec.BGP)
	})
	noneForbidden(t, logs)
}
