package speaker_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/frr/agent"
	"github.com/ironlb/ironlb/frr/vtyshjson"
	"github.com/ironlb/ironlb/internal/testenv"
	"github.com/ironlb/ironlb/speaker"
	"github.com/ironlb/ironlb/state"
)

func withNodeRouter(c *speaker.Config) { c.NodeRouter = &speaker.NodeRouterConfig{} }

// frrConfiguration decodes the YAML of a spec into an FRRConfiguration
// of ironlb's namespace.
func frrConfiguration(t *testing.T, name, spec string) *frrk8s.FRRConfiguration {
	t.Helper()
	c := &frrk8s.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := yaml.UnmarshalStrict([]byte(spec), &c.Spec); err != nil {
		t.Fatalf("decoding FRRConfiguration %s: %v", name, err)
	}
	return c
}

// announceService creates a LoadBalancer Service with ip and a ready
// endpoint on n1.
func announceService(t *testing.T, c client.Client, name, ip string) {
	t.Helper()
	ctx := t.Context()
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}}},
	}
	if err := c.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
	if err := c.Status().Update(ctx, svc); err != nil {
		t.Fatal(err)
	}
	eps := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: name + "-1", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, NodeName: ptr.To("n1"), Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
	}
	if err := c.Create(ctx, eps); err != nil {
		t.Fatal(err)
	}
}

// TestNodeRouterWithoutFRRConfigurationKeepsFRRConf checks that the node
// router changes nothing while no FRRConfiguration selects the node: the
// frr.conf is byte for byte the one of a speaker without it, also with an
// FRRConfiguration for another node.
func TestNodeRouterWithoutFRRConfigurationKeepsFRRConf(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	create := seedBGP(t, env.Client, map[string]string{"rack": "a"})
	announceService(t, env.Client, "web", "203.0.113.5")
	create(frrConfiguration(t, "elsewhere", `
nodeSelector: {matchLabels: {rack: b}}
bgp:
  routers:
  - asn: 64512
    neighbors:
    - address: 192.0.2.1
      asn: 64500
      toReceive: {allowed: {mode: all}}
`))
	settled := func(frr *recordingFRR) string {
		testenv.Eventually(t, "the service announced", func() (bool, string) {
			return strings.Contains(frr.last(), "network 203.0.113.5/32"), frr.last()
		})
		return frr.last()
	}
	plain, stop := runSpeaker(t, env, false)
	want := settled(plain)
	stop()
	routed, _ := runSpeaker(t, env, false, withNodeRouter)
	if got := settled(routed); got != want {
		t.Fatalf("frr.conf with the node router and no FRRConfiguration for the node differs:\n--- without\n%s\n--- with\n%s", want, got)
	}
	testenv.Eventually(t, "FRRNodeState success", func() (bool, string) {
		var st frrk8s.FRRNodeState
		if err := env.Client.Get(t.Context(), types.NamespacedName{Name: "n1"}, &st); err != nil {
			return false, err.Error()
		}
		return st.Status.LastConversionResult == "success" && st.Status.LastReloadResult == "success" && st.Status.DesiredConfig == want, fmt.Sprintf("%+v", st.Status)
	})
}

// TestNodeRouterAppliesAndKeepsLastValid follows FRRConfigurations
// through the speaker against a real API server: one that selects the
// node is merged into the frr.conf; a conflicting one keeps the node on
// its last valid frr.conf (Service changes included, as frr-k8s keeps
// MetalLB's) and is reported in FRRNodeState and ConfigurationState;
// removing it applies the merge again; a passwordSecret is resolved, a
// missing Secret is a conversion error, and a Secret and a password of
// the same value for one neighbor agree (another value conflicts).
func TestNodeRouterAppliesAndKeepsLastValid(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	c := env.Client
	create := seedBGP(t, c, map[string]string{"rack": "a"})
	announceService(t, c, "web", "203.0.113.5")
	frr, _ := runSpeaker(t, env, false, withNodeRouter)
	testenv.Eventually(t, "the service announced", func() (bool, string) {
		return strings.Contains(frr.last(), "network 203.0.113.5/32"), frr.last()
	})

	create(frrConfiguration(t, "receive", `
nodeSelector: {matchLabels: {rack: a}}
bgp:
  routers:
  - asn: 64512
    prefixes: [198.51.100.0/24]
    neighbors:
    - address: 192.0.2.1
      asn: 64500
      toAdvertise: {allowed: {prefixes: [198.51.100.0/24]}}
      toReceive:
        allowed:
          prefixes:
          - prefix: 203.0.113.128/25
            le: 28
`))
	merged := ""
	testenv.Eventually(t, "the FRRConfiguration merged", func() (bool, string) {
		merged = frr.last()
		return strings.Contains(merged, "network 198.51.100.0/24") && strings.Contains(merged, "route-map ilb-nr-in-192.0.2.1 permit") &&
			strings.Contains(merged, "network 203.0.113.5/32"), merged
	})
	nodeState := func() frrk8s.FRRNodeStateStatus {
		var st frrk8s.FRRNodeState
		if err := c.Get(ctx, types.NamespacedName{Name: "n1"}, &st); err != nil {
			return frrk8s.FRRNodeStateStatus{LastConversionResult: err.Error()}
		}
		return st.Status
	}
	testenv.Eventually(t, "FRRNodeState with the merge", func() (bool, string) {
		st := nodeState()
		return st.LastConversionResult == "success" && st.DesiredConfig == merged, fmt.Sprintf("%+v", st)
	})

	// A conflict: another remote AS for the same neighbor. No webhook
	// runs here, so the API server takes it.
	create(frrConfiguration(t, "rival", `
bgp:
  routers:
  - asn: 64512
    neighbors:
    - address: 192.0.2.1
      asn: 64501
`))
	testenv.Eventually(t, "the conflict reported", func() (bool, string) {
		st := nodeState()
		return strings.HasPrefix(st.LastConversionResult, "failed: ") && strings.Contains(st.LastConversionResult, `FRRConfiguration "metallb-system/rival"`), st.LastConversionResult
	})
	testenv.Eventually(t, "a warning event on the FRRConfiguration", func() (bool, string) {
		var evs eventsv1.EventList
		if err := c.List(ctx, &evs, client.InNamespace(ns)); err != nil {
			return false, err.Error()
		}
		for _, e := range evs.Items {
			if e.Regarding.Kind == "FRRConfiguration" && e.Regarding.Name == "rival" && e.Reason == "InvalidConfiguration" &&
				strings.Contains(e.Note, "node n1 keeps its last valid configuration") {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events", len(evs.Items))
	})
	testenv.Eventually(t, "ConfigurationState invalid", func() (bool, string) {
		var cs v1beta1.ConfigurationState
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "speaker-n1"}, &cs); err != nil {
			return false, err.Error()
		}
		return cs.Status.Result == v1beta1.ConfigurationStateResultInvalid && strings.Contains(cs.Status.ErrorSummary, "rival"), cs.Status.ErrorSummary
	})
	// A new Service meanwhile does not reach FRR: the last valid
	// frr.conf stays whole.
	before := frr.count()
	announceService(t, c, "api", "203.0.113.6")
	testenv.Eventually(t, "the last valid frr.conf applied again", func() (bool, string) {
		return frr.count() > before && frr.last() == merged, frr.last()
	})
	for _, l := range frr.all() {
		if strings.Contains(l, "203.0.113.6") || strings.Contains(l, "remote-as 64501") {
			t.Fatalf("a config with the conflicting object or the new Service was applied:\n%s", l)
		}
	}

	// The conflict removed: the merge with the new Service goes in.
	if err := c.Delete(ctx, &frrk8s.FRRConfiguration{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "rival"}}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the merge applied with the new Service", func() (bool, string) {
		l := frr.last()
		return strings.Contains(l, "network 203.0.113.6/32") && strings.Contains(l, "network 198.51.100.0/24"), l
	})
	testenv.Eventually(t, "FRRNodeState success again", func() (bool, string) {
		st := nodeState()
		return st.LastConversionResult == "success", st.LastConversionResult
	})

	// A neighbor of its own with a passwordSecret: missing, then there.
	create(frrConfiguration(t, "collector", `
bgp:
  routers:
  - asn: 64512
    neighbors:
    - address: 192.0.2.7
      asn: 64512
      passwordSecret: {name: collector-pw}
`))
	testenv.Eventually(t, "the missing Secret reported", func() (bool, string) {
		st := nodeState()
		return strings.Contains(st.LastConversionResult, `Secret "metallb-system/collector-pw" not found`) &&
			strings.Contains(st.LastConversionResult, `FRRConfiguration "metallb-system/collector"`), st.LastConversionResult
	})
	create(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "collector-pw"},
		Type:       corev1.SecretTypeBasicAuth,
		Data:       map[string][]byte{"password": []byte("s3cret")},
	})
	testenv.Eventually(t, "the neighbor with its password", func() (bool, string) {
		l := frr.last()
		return strings.Contains(l, "neighbor 192.0.2.7 password s3cret"), l
	})
	testenv.Eventually(t, "FRRNodeState without the password", func() (bool, string) {
		st := nodeState()
		return st.LastConversionResult == "success" && strings.Contains(st.DesiredConfig, "neighbor 192.0.2.7") && !strings.Contains(st.DesiredConfig, "s3cret"), st.LastConversionResult
	})

	// The same neighbor with the Secret's password written out: one
	// session, as in frr-k8s, which compares the passwords themselves.
	create(frrConfiguration(t, "collector-plain", `
bgp:
  routers:
  - asn: 64512
    prefixes: [198.51.100.128/25]
    neighbors:
    - address: 192.0.2.7
      asn: 64512
      password: s3cret
      toAdvertise: {allowed: {mode: all}}
`))
	testenv.Eventually(t, "the plain password merged with the Secret's", func() (bool, string) {
		st := nodeState()
		return st.LastConversionResult == "success" && strings.Contains(frr.last(), "network 198.51.100.128/25"), st.LastConversionResult
	})
	// The Secret changed to another password: a conflict.
	var sec corev1.Secret
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: "collector-pw"}, &sec); err != nil {
		t.Fatal(err)
	}
	sec.Data["password"] = []byte("0ther")
	if err := c.Update(ctx, &sec); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the password conflict reported", func() (bool, string) {
		st := nodeState()
		return strings.Contains(st.LastConversionResult, `FRRConfiguration "metallb-system/collector" spec.bgp.routers[0].neighbors[0].password and FRRConfiguration "metallb-system/collector-plain" spec.bgp.routers[0].neighbors[0].password conflict`) &&
			!strings.Contains(st.LastConversionResult, "0ther"), st.LastConversionResult
	})
}

// fixedSessions is an FRR agent's status with fixed sessions.
type fixedSessions struct{ st agent.Status }

func (f fixedSessions) Status(context.Context) (agent.Status, error) { return f.st, nil }

// RunningConfig answers as the agent does, passwords redacted.
func (f fixedSessions) RunningConfig(context.Context) (string, error) {
	return "router bgp 64512\n neighbor 192.0.2.1 remote-as 64500\n", nil
}

// TestNodeRouterWritesBGPSessionStates checks that the speaker's session
// poller writes a BGPSessionState per session FRR reports, and FRR's
// running config into the FRRNodeState.
func TestNodeRouterWritesBGPSessionStates(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	seedBGP(t, env.Client, nil)
	src := fixedSessions{agent.Status{
		LastApply: &agent.Record{At: time.Now()},
		Sessions:  []vtyshjson.BGPNeighbor{{Address: "192.0.2.1", VRF: "default", State: "Established"}},
		BFDPeers:  []vtyshjson.BFDPeer{{Peer: "192.0.2.1", VRF: "default", Status: "up"}},
	}}
	runSpeaker(t, env, false, func(c *speaker.Config) {
		c.Sessions, c.SessionInterval = src, 50*time.Millisecond
		c.NodeRouter = &speaker.NodeRouterConfig{Running: src}
	})
	testenv.Eventually(t, "the running config in FRRNodeState", func() (bool, string) {
		var st frrk8s.FRRNodeState
		if err := env.Client.Get(t.Context(), types.NamespacedName{Name: "n1"}, &st); err != nil {
			return false, err.Error()
		}
		return st.Status.RunningConfig == "router bgp 64512\n neighbor 192.0.2.1 remote-as 64500\n" && st.Status.LastConversionResult == "success", fmt.Sprintf("%+v", st.Status)
	})
	testenv.Eventually(t, "the BGPSessionState", func() (bool, string) {
		var l frrk8s.BGPSessionStateList
		if err := env.Client.List(t.Context(), &l, client.InNamespace(ns), client.MatchingLabels{frrk8s.LabelNode: "n1", frrk8s.LabelPeer: "192.0.2.1", frrk8s.LabelVRF: ""}); err != nil {
			return false, err.Error()
		}
		want := frrk8s.BGPSessionStateStatus{BGPStatus: "Established", BFDStatus: "up", Node: "n1", Peer: "192.0.2.1"}
		return len(l.Items) == 1 && l.Items[0].Status == want, fmt.Sprintf("%+v", l.Items)
	})
}

// TestNodeRouterOffWithoutCRD runs a speaker with the node router in a
// cluster without the FRRConfiguration CRD (an upgrade that did not
// apply the chart's crds/): it must still announce, with the node router
// off, instead of failing to start its watches.
func TestNodeRouterOffWithoutCRD(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	ctx := t.Context()
	sch := runtime.NewScheme()
	if err := apiextensionsv1.AddToScheme(sch); err != nil {
		t.Fatal(err)
	}
	crds, err := client.New(env.Config, client.Options{Scheme: sch})
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "frrconfigurations.frrk8s.metallb.io"}}
	if err := crds.Delete(ctx, crd); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the CRD gone", func() (bool, string) {
		err := crds.Get(ctx, client.ObjectKeyFromObject(crd), crd)
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	seedBGP(t, env.Client, nil)
	announceService(t, env.Client, "web", "203.0.113.5")
	frr, _ := runSpeaker(t, env, false, withNodeRouter)
	testenv.Eventually(t, "the service announced", func() (bool, string) {
		return strings.Contains(frr.last(), "network 203.0.113.5/32"), frr.last()
	})
}

// TestNodeRouterDoesNotHoldUpDrain: an FRRConfiguration that sets, on
// ironlb's Service prefix toward its iBGP peer, ironlb's own local
// preference (which the webhook admits) must not stop the node from
// draining: during the drain ironlb sets LOCAL_PREF 0 there, which the
// merge used to report as a conflict, keeping the node on its last
// valid, undrained configuration until the drain delay ran out.
func TestNodeRouterDoesNotHoldUpDrain(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	c := env.Client
	ctx := t.Context()
	create := func(o client.Object) {
		t.Helper()
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
	create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	create(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"rack": "a"}}})
	create(&v1beta1.IPAddressPool{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bgp"}, Spec: v1beta1.IPAddressPoolSpec{Addresses: []string{"203.0.113.0/25"}}})
	create(&v1beta2.BGPPeer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "router"}, Spec: v1beta2.BGPPeerSpec{MyASN: 64512, ASN: 64512, Address: "192.0.2.1"}})
	create(&v1beta1.BGPAdvertisement{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "all"}, Spec: v1beta1.BGPAdvertisementSpec{LocalPref: 100}})
	announceService(t, c, "web", "203.0.113.5")
	create(frrConfiguration(t, "same-pref", `
bgp:
  routers:
  - asn: 64512
    prefixes: [203.0.113.5/32]
    neighbors:
    - address: 192.0.2.1
      asn: 64512
      toAdvertise:
        allowed: {prefixes: [203.0.113.5/32]}
        withLocalPref: [{prefixes: [203.0.113.5/32], localPref: 100}]
        withCommunity: [{prefixes: [203.0.113.5/32], community: "65000:7"}]
`))
	frr, _ := runSpeaker(t, env, false, withNodeRouter)
	testenv.Eventually(t, "the merge applied", func() (bool, string) {
		l := frr.last()
		return strings.Contains(l, "network 203.0.113.5/32") && strings.Contains(l, "65000:7") && !strings.Contains(l, "graceful-shutdown"), l
	})

	var n corev1.Node
	if err := c.Get(ctx, types.NamespacedName{Name: "n1"}, &n); err != nil {
		t.Fatal(err)
	}
	n.Labels[state.LabelExcludeFromLB] = ""
	before := frr.count()
	if err := c.Update(ctx, &n); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "the drain applied, with the object's community", func() (bool, string) {
		for _, l := range frr.all()[before:] {
			if strings.Contains(l, "graceful-shutdown") && strings.Contains(l, "network 203.0.113.5/32") &&
				strings.Contains(l, "set local-preference 0") && strings.Contains(l, "65000:7") {
				return true, ""
			}
		}
		var st frrk8s.FRRNodeState
		_ = c.Get(ctx, types.NamespacedName{Name: "n1"}, &st)
		return false, fmt.Sprintf("%d configs since the change; FRRNodeState: %s; last:\n%s", frr.count()-before, st.Status.LastConversionResult, frr.last())
	})
}
