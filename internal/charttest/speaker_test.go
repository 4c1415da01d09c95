package charttest

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrk8sv1beta1 "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
)

// TestSpeakerRunsUnderChartRBAC runs the `ironlb speaker` binary with the
// chart's arguments, as the chart's speaker service account with only the
// chart's RBAC, and expects it to load the configuration and report its
// state without a forbidden request. Layer 2 is off (it would answer ARP
// on this machine's interfaces) and so is BGP (no FRR agent here); the
// rest of the speaker runs.
func TestSpeakerRunsUnderChartRBAC(t *testing.T) {
	env := startAPIServer(t)
	bin := buildIronlb(t)
	ctx := context.Background()
	c := cases()[0]
	const ns, node = "metallb-system", "node-1"
	objs := decode(t, render(t, c))
	createNamespaces(t, env, objs)
	var rest []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() != "ValidatingWebhookConfiguration" {
			rest = append(rest, o)
		}
	}
	create(t, env, rest)
	for _, o := range []client.Object{
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node}},
		&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pool-a"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.10-192.0.2.19"}}},
		&v1beta1.L2Advertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "l2"}},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatalf("creating %T: %v", o, err)
		}
	}

	spk := container(t, podSpec(t, render(t, c), "DaemonSet", "ironlb-speaker"), "speaker")
	healthPort := freePort(t)
	self := createPod(t, env, ns, "ironlb-speaker-x")
	args := append(chartArgs(spk, map[string]string{"NODE_NAME": node, "POD_NAMESPACE": ns, "POD_NAME": self.Name}),
		"--kubeconfig="+kubeconfigAs(t, env, ns, "ironlb-speaker"),
		"--metrics-addr=0",
		"--health-addr=127.0.0.1:"+strconv.Itoa(healthPort),
		"--frr-agent-socket=",
		"--l2=false",
	)
	logs := runBinary(t, bin, args)
	waitReady(t, "the speaker", healthPort)
	// A speaker whose cache watches Secrets or metallb.io kinds in every
	// namespace never gets here: the chart grants them in its namespace
	// only (see namespacedCache in cmd/ironlb).
	eventually(t, "the speaker's ConfigurationState", func() (bool, string) {
		var st v1beta1.ConfigurationState
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "speaker-" + node}, &st); err != nil {
			return false, err.Error()
		}
		owned := len(st.OwnerReferences) == 1 && st.OwnerReferences[0] == podOwner(self)
		return st.Status.Result == v1beta1.ConfigurationStateResultValid && owned, fmt.Sprintf("%+v owners %+v", st.Status, st.OwnerReferences)
	})
	noneForbidden(t, logs)
}

// TestSpeakerNodeRouterRunsUnderChartRBAC runs the `ironlb speaker`
// binary with BGP on (an frr-agent socket nobody listens on: the speaker
// waits for it) as the chart's speaker service account: it must read the
// FRRConfigurations and the Secret of a passwordSecret and write its
// FRRNodeState without a forbidden request.
func TestSpeakerNodeRouterRunsUnderChartRBAC(t *testing.T) {
	env := startAPIServer(t)
	bin := buildIronlb(t)
	ctx := context.Background()
	c := cases()[0]
	const ns, node = "metallb-system", "node-1"
	objs := decode(t, render(t, c))
	createNamespaces(t, env, objs)
	var rest []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() != "ValidatingWebhookConfiguration" {
			rest = append(rest, o)
		}
	}
	create(t, env, rest)
	for _, o := range []client.Object{
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node, Labels: map[string]string{"rack": "a"}}},
		&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pool-a"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"192.0.2.10-192.0.2.19"}}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "collector-pw"}, Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{"password": []byte("s3cret")}},
		&frrk8sv1beta1.FRRConfiguration{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "collector"},
			Spec: frrk8sv1beta1.FRRConfigurationSpec{
				NodeSelector: metav1.LabelSelector{MatchLabels: map[string]string{"rack": "a"}},
				BGP: frrk8sv1beta1.BGPConfig{Routers: []frrk8sv1beta1.Router{{
					ASN:       64512,
					Neighbors: []frrk8sv1beta1.Neighbor{{Address: "192.0.2.7", ASN: 64512, PasswordSecret: frrk8sv1beta1.SecretReference{Name: "collector-pw"}}},
				}}},
			},
		},
	} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatalf("creating %T: %v", o, err)
		}
	}

	spk := container(t, podSpec(t, render(t, c), "DaemonSet", "ironlb-speaker"), "speaker")
	healthPort := freePort(t)
	self := createPod(t, env, ns, "ironlb-speaker-x")
	args := append(chartArgs(spk, map[string]string{"NODE_NAME": node, "POD_NAMESPACE": ns, "POD_NAME": self.Name}),
		"--kubeconfig="+kubeconfigAs(t, env, ns, "ironlb-speaker"),
		"--metrics-addr=0",
		"--health-addr=127.0.0.1:"+strconv.Itoa(healthPort),
		"--frr-agent-socket="+filepath.Join(t.TempDir(), "agent.sock"),
		"--l2=false",
		// no FRR to drain: stop at once
		"--drain-on-stop=false",
		// no FRR to wait for: ready once it serves (readiness
		// otherwise waits for the agent's sessions)
		"--ready-wait=0",
	)
	logs := runBinary(t, bin, args)
	waitReady(t, "the speaker", healthPort)
	eventually(t, "the speaker's FRRNodeState", func() (bool, string) {
		var st frrk8sv1beta1.FRRNodeState
		if err := env.Client.Get(ctx, client.ObjectKey{Name: node}, &st); err != nil {
			return false, err.Error()
		}
		return st.Status.LastConversionResult == "success" && strings.Contains(st.Status.DesiredConfig, "neighbor 192.0.2.7 password <redacted>"), fmt.Sprintf("%+v", st.Status)
	})
	noneForbidden(t, logs)
}
