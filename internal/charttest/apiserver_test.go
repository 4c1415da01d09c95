package charttest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/internal/testenv"
)

// eventually waits for cond; the bound makes a hang fail the test, it does
// not measure speed.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("waiting for %s: last seen: %s", what, last)
}

func startAPIServer(t *testing.T) *testenv.Env {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the test API server")
	}
	helmBin(t)
	return testenv.Start(t, testenv.Options{})
}

// installStubCRDs installs the stand-ins for the Prometheus Operator's and
// cert-manager's CRDs and waits until the API server serves them.
func installStubCRDs(t *testing.T, env *testenv.Env) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "crds", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no stub CRDs: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range decode(t, b) {
			if err := env.Client.Create(context.Background(), o); err != nil {
				t.Fatalf("creating CRD %s: %v", o.GetName(), err)
			}
			group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
			gk := schema.GroupKind{Group: group, Kind: kind}
			eventually(t, "CRD "+o.GetName()+" served", func() (bool, string) {
				if _, err := env.Client.RESTMapper().RESTMapping(gk, "v1"); err != nil {
					return false, err.Error()
				}
				return true, ""
			})
		}
	}
}

// createNamespaces creates the namespaces the objects live in.
func createNamespaces(t *testing.T, env *testenv.Env, objs []*unstructured.Unstructured, extra ...string) {
	t.Helper()
	names := slices.Clone(extra)
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" && !slices.Contains(names, ns) {
			names = append(names, ns)
		}
	}
	for _, n := range names {
		err := env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: n}})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating namespace %s: %v", n, err)
		}
	}
}

// create creates every object, as Helm would, and fails the test for each
// one the API server rejects.
func create(t *testing.T, env *testenv.Env, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		o = o.DeepCopy()
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Errorf("creating %s %s/%s: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
}

// TestCreateRenderedObjects creates every object of every rendering on a
// real API server (not a dry run): schema, defaulting and validation of
// Deployments, DaemonSets, webhooks, RBAC, PDBs and NetworkPolicies all
// apply. The metallb.io CRDs are installed by the test environment; the
// ServiceMonitor and cert-manager kinds by stand-in CRDs.
func TestCreateRenderedObjects(t *testing.T) {
	env := startAPIServer(t)
	installStubCRDs(t, env)
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			objs := decode(t, render(t, c))
			createNamespaces(t, env, objs, c.namespace)
			create(t, env, objs)
			// Read every object back, to be sure it was stored.
			for _, o := range objs {
				got := &unstructured.Unstructured{}
				got.SetGroupVersionKind(o.GroupVersionKind())
				if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(o), got); err != nil {
					t.Errorf("reading back %s %s: %v", o.GetKind(), o.GetName(), err)
				}
			}
		})
	}
}

// access is one SubjectAccessReview question and its expected answer.
type access struct {
	who         string // "speaker" or "controller"
	verb        string
	group       string
	resource    string
	subresource string
	namespace   string
	name        string
	allowed     bool
}

func (a access) String() string {
	r := a.resource
	if a.group != "" {
		r += "." + a.group
	}
	if a.subresource != "" {
		r += "/" + a.subresource
	}
	if a.name != "" {
		r += " " + a.name
	}
	ns := a.namespace
	if ns == "" {
		ns = "(all)"
	}
	return fmt.Sprintf("%s %s %s in %s", a.who, a.verb, r, ns)
}

// ask asks the API server whether the service account may do a.
func ask(t *testing.T, env *testenv.Env, saNamespace, saName string, a access) bool {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   "system:serviceaccount:" + saNamespace + ":" + saName,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + saNamespace, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: a.namespace, Verb: a.verb, Group: a.group, Resource: a.resource, Subresource: a.subresource, Name: a.name,
		},
	}}
	if err := env.Client.Create(context.Background(), sar); err != nil {
		t.Fatalf("SubjectAccessReview %s: %v", a, err)
	}
	return sar.Status.Allowed
}

// TestServiceAccountPermissions creates the rendered RBAC and asks the API
// server what each service account may do.
func TestServiceAccountPermissions(t *testing.T) {
	env := startAPIServer(t)
	installStubCRDs(t, env)
	const ns = "metallb-system"
	def, cm := cases()[0], cases()[1]
	secure := caseNamed(t, "prometheusrule") // metrics.secure
	lease := caseNamed(t, "l2-lease")
	for _, c := range []chartCase{def, cm, secure, lease} {
		objs := decode(t, render(t, c))
		createNamespaces(t, env, objs, c.namespace)
		create(t, env, objs)
	}
	const (
		core    = ""
		metallb = "metallb.io"
	)
	checks := []access{
		// The speaker reads what decides announcements and writes its
		// status objects, and nothing else.
		{who: "speaker", verb: "list", resource: "services", allowed: true},
		{who: "speaker", verb: "watch", group: "discovery.k8s.io", resource: "endpointslices", allowed: true},
		{who: "speaker", verb: "get", resource: "nodes", name: "node-1", allowed: true},
		{who: "speaker", verb: "list", group: metallb, resource: "ipaddresspools", namespace: ns, allowed: true},
		{who: "speaker", verb: "watch", group: metallb, resource: "bgppeers", namespace: ns, allowed: true},
		{who: "speaker", verb: "get", resource: "secrets", namespace: ns, name: "bgp-password", allowed: true},
		{who: "speaker", verb: "create", group: metallb, resource: "servicebgpstatuses", namespace: ns, allowed: true},
		{who: "speaker", verb: "update", group: metallb, resource: "servicel2statuses", subresource: "status", namespace: ns, allowed: true},
		{who: "speaker", verb: "delete", group: metallb, resource: "servicebgpstatuses", namespace: ns, allowed: true},
		{who: "speaker", verb: "create", group: metallb, resource: "speakerstatuses", namespace: ns, allowed: true},
		{who: "speaker", verb: "update", group: metallb, resource: "configurationstates", subresource: "status", namespace: ns, allowed: true},
		{who: "speaker", verb: "create", group: "events.k8s.io", resource: "events", namespace: "team-a", allowed: true},
		// The node router: it reads the FRRConfigurations of its
		// namespace, writes its node's FRRNodeState and the
		// BGPSessionStates of its sessions, and changes no
		// FRRConfiguration.
		{who: "speaker", verb: "watch", group: "frrk8s.metallb.io", resource: "frrconfigurations", namespace: ns, allowed: true},
		{who: "speaker", verb: "list", group: "frrk8s.metallb.io", resource: "frrconfigurations", namespace: "team-a"},
		{who: "speaker", verb: "update", group: "frrk8s.metallb.io", resource: "frrconfigurations", namespace: ns},
		{who: "speaker", verb: "create", group: "frrk8s.metallb.io", resource: "frrnodestates", allowed: true},
		{who: "speaker", verb: "update", group: "frrk8s.metallb.io", resource: "frrnodestates", subresource: "status", name: "node-1", allowed: true},
		{who: "speaker", verb: "delete", group: "frrk8s.metallb.io", resource: "frrnodestates", name: "node-1"},
		{who: "speaker", verb: "create", group: "frrk8s.metallb.io", resource: "bgpsessionstates", namespace: ns, allowed: true},
		{who: "speaker", verb: "delete", group: "frrk8s.metallb.io", resource: "bgpsessionstates", namespace: ns, allowed: true},
		{who: "speaker", verb: "update", group: "frrk8s.metallb.io", resource: "bgpsessionstates", subresource: "status", namespace: ns, allowed: true},
		{who: "speaker", verb: "create", group: "frrk8s.metallb.io", resource: "bgpsessionstates", namespace: "team-a"},
		// memberlist joins the speaker pods it lists in its namespace.
		{who: "speaker", verb: "list", resource: "pods", namespace: ns, allowed: true},
		{who: "speaker", verb: "get", resource: "pods", namespace: ns, name: "ironlb-speaker-x", allowed: true},
		{who: "speaker", verb: "list", resource: "pods", namespace: "team-a"},
		{who: "speaker", verb: "list", resource: "pods"},
		{who: "speaker", verb: "watch", resource: "pods", namespace: ns},
		{who: "speaker", verb: "delete", resource: "pods", namespace: ns, name: "ironlb-speaker-x"},
		{who: "speaker", verb: "create", resource: "pods", subresource: "exec", namespace: ns, name: "ironlb-speaker-x"},
		{who: "speaker", verb: "update", resource: "services", namespace: "team-a"},
		{who: "speaker", verb: "patch", resource: "services", subresource: "status", namespace: "team-a"},
		{who: "speaker", verb: "update", group: metallb, resource: "ipaddresspools", namespace: ns},
		{who: "speaker", verb: "update", group: metallb, resource: "ipaddresspools", subresource: "status", namespace: ns},
		{who: "speaker", verb: "create", group: metallb, resource: "ipaddresspools", namespace: ns},
		{who: "speaker", verb: "create", group: metallb, resource: "servicebgpstatuses", namespace: "team-a"},
		{who: "speaker", verb: "update", resource: "nodes", name: "node-1"},
		{who: "speaker", verb: "get", resource: "secrets", namespace: "team-a", name: "x"},
		{who: "speaker", verb: "list", resource: "secrets"},
		{who: "speaker", verb: "create", resource: "secrets", namespace: ns},
		{who: "speaker", verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: ns},
		{who: "speaker", verb: "patch", group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations", name: "ironlb-webhook"},

		// The controller allocates: Services and their status cluster-wide,
		// pool status, its own state, lease and certificate.
		{who: "controller", verb: "patch", resource: "services", subresource: "status", namespace: "team-a", allowed: true},
		{who: "controller", verb: "update", resource: "services", subresource: "status", namespace: "team-a", allowed: true},
		{who: "controller", verb: "patch", resource: "services", namespace: "team-a", allowed: true},
		{who: "controller", verb: "watch", resource: "services", allowed: true},
		{who: "controller", verb: "list", resource: "namespaces", allowed: true},
		{who: "controller", verb: "list", group: metallb, resource: "ipaddresspools", namespace: ns, allowed: true},
		{who: "controller", verb: "update", group: metallb, resource: "ipaddresspools", subresource: "status", namespace: ns, allowed: true},
		{who: "controller", verb: "create", group: metallb, resource: "configurationstates", namespace: ns, allowed: true},
		{who: "controller", verb: "update", group: metallb, resource: "configurationstates", subresource: "status", namespace: ns, allowed: true},
		// It adds its own Pod to the owners of its ConfigurationState.
		{who: "controller", verb: "update", group: metallb, resource: "configurationstates", namespace: ns, allowed: true},
		{who: "controller", verb: "get", resource: "pods", namespace: ns, name: "ironlb-controller-x", allowed: true},
		{who: "controller", verb: "get", resource: "pods", namespace: "team-a", name: "x"},
		{who: "controller", verb: "list", resource: "secrets", namespace: ns, allowed: true},
		{who: "controller", verb: "update", resource: "secrets", namespace: ns, name: "ironlb-webhook-cert", allowed: true},
		{who: "controller", verb: "get", group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations", name: "ironlb-webhook", allowed: true},
		{who: "controller", verb: "patch", group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations", name: "ironlb-webhook", allowed: true},
		// The BGPPeer CRD's conversion webhook, and no other CRD.
		{who: "controller", verb: "get", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "bgppeers.metallb.io", allowed: true},
		{who: "controller", verb: "patch", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "bgppeers.metallb.io", allowed: true},
		{who: "controller", verb: "patch", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "ipaddresspools.metallb.io"},
		{who: "controller", verb: "delete", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "bgppeers.metallb.io"},
		{who: "controller", verb: "create", group: "apiextensions.k8s.io", resource: "customresourcedefinitions"},
		{who: "speaker", verb: "patch", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "bgppeers.metallb.io"},
		{who: "controller", verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: ns, allowed: true},
		{who: "controller", verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: ns, name: "ironlb-controller.metallb.io", allowed: true},
		// A standby watches the Lease, by its name only.
		{who: "controller", verb: "watch", group: "coordination.k8s.io", resource: "leases", namespace: ns, name: "ironlb-controller.metallb.io", allowed: true},
		{who: "controller", verb: "list", group: "coordination.k8s.io", resource: "leases", namespace: ns, name: "ironlb-controller.metallb.io", allowed: true},
		{who: "controller", verb: "watch", group: "coordination.k8s.io", resource: "leases", namespace: ns},
		{who: "controller", verb: "create", resource: "events", namespace: "team-a", allowed: true},
		{who: "controller", verb: "create", group: "events.k8s.io", resource: "events", namespace: ns, allowed: true},
		{who: "controller", verb: "create", resource: "services", namespace: "team-a"},
		{who: "controller", verb: "delete", resource: "services", namespace: "team-a", name: "web"},
		{who: "controller", verb: "update", group: metallb, resource: "ipaddresspools", namespace: ns},
		{who: "controller", verb: "create", group: metallb, resource: "ipaddresspools", namespace: ns},
		{who: "controller", verb: "list", group: metallb, resource: "ipaddresspools", namespace: "team-a"},
		{who: "controller", verb: "create", group: metallb, resource: "servicebgpstatuses", namespace: ns},
		// The FRRConfiguration webhook merges an object per node it
		// selects: it reads nodes and FRRConfigurations, never writes them.
		{who: "controller", verb: "list", resource: "nodes", allowed: true},
		{who: "controller", verb: "update", resource: "nodes", name: "node-1"},
		{who: "controller", verb: "list", group: "frrk8s.metallb.io", resource: "frrconfigurations", namespace: ns, allowed: true},
		{who: "controller", verb: "create", group: "frrk8s.metallb.io", resource: "frrconfigurations", namespace: ns},
		// ... and the endpoints of the Services, when a local preference
		// is at stake.
		{who: "controller", verb: "list", group: "discovery.k8s.io", resource: "endpointslices", allowed: true},
		{who: "controller", verb: "watch", group: "discovery.k8s.io", resource: "endpointslices"},
		{who: "controller", verb: "list", resource: "pods", namespace: ns},
		{who: "controller", verb: "get", resource: "secrets", namespace: "team-a", name: "x"},
		{who: "controller", verb: "list", resource: "secrets"},
		{who: "controller", verb: "create", resource: "secrets", namespace: ns},
		{who: "controller", verb: "update", resource: "secrets", namespace: ns, name: "ironlb-memberlist"},
		{who: "controller", verb: "delete", resource: "secrets", namespace: ns, name: "ironlb-webhook-cert"},
		{who: "controller", verb: "patch", group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations", name: "other-webhook"},
		{who: "controller", verb: "create", group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations"},
		{who: "controller", verb: "update", group: "coordination.k8s.io", resource: "leases", namespace: ns, name: "other-lease"},
		{who: "controller", verb: "get", group: "coordination.k8s.io", resource: "leases", namespace: "team-a", name: "ironlb-controller.metallb.io"},
	}
	got := map[string]bool{}
	want := map[string]bool{}
	for _, a := range checks {
		want[a.String()] = a.allowed
		got[a.String()] = ask(t, env, ns, "ironlb-"+a.who, a)
	}
	// With cert-manager, the controller writes no Secret and no webhook
	// configuration; it still sets the BGPPeer CRD's conversion.
	for _, a := range []access{
		{who: "controller", verb: "update", resource: "secrets", namespace: "ironlb-cm", name: "ironlb-cm-webhook-cert"},
		{who: "controller", verb: "patch", group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations", name: "ironlb-cm-webhook"},
		{who: "controller", verb: "patch", group: "apiextensions.k8s.io", resource: "customresourcedefinitions", name: "bgppeers.metallb.io", allowed: true},
		{who: "controller", verb: "get", resource: "secrets", namespace: "ironlb-cm", name: "ironlb-cm-webhook-cert", allowed: true},
	} {
		key := "cert-manager " + a.String()
		want[key] = a.allowed
		got[key] = ask(t, env, "ironlb-cm", "ironlb-cm-"+a.who, a)
	}
	// With l2Ownership lease, the speaker holds Leases in its namespace,
	// and only there.
	for _, a := range []access{
		{who: "speaker", verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "ironlb-l2l", allowed: true},
		{who: "speaker", verb: "patch", group: "coordination.k8s.io", resource: "leases", namespace: "ironlb-l2l", name: "ironlb-l2-192.0.2.10", allowed: true},
		{who: "speaker", verb: "get", group: "coordination.k8s.io", resource: "leases", namespace: "ironlb-l2l", name: "ironlb-l2-192.0.2.10", allowed: true},
		{who: "speaker", verb: "list", group: "coordination.k8s.io", resource: "leases", namespace: "ironlb-l2l", allowed: true},
		{who: "speaker", verb: "delete", group: "coordination.k8s.io", resource: "leases", namespace: "ironlb-l2l", name: "ironlb-l2-192.0.2.10", allowed: true},
		{who: "speaker", verb: "create", group: "coordination.k8s.io", resource: "leases", namespace: "team-a"},
		{who: "speaker", verb: "list", group: "coordination.k8s.io", resource: "leases"},
	} {
		key := "l2-lease " + a.String()
		want[key] = a.allowed
		got[key] = ask(t, env, "ironlb-l2l", "ironlb-l2l-"+a.who, a)
	}
	// With metrics.secure, both check scrapers' tokens and rights; by
	// default neither may.
	for _, c := range []struct {
		release, who string
		allowed      bool
	}{{"ironlb-pr", "controller", true}, {"ironlb-pr", "speaker", true}, {"ironlb", "controller", false}, {"ironlb", "speaker", false}} {
		saNS := ns
		if c.release == "ironlb-pr" {
			saNS = secure.namespace
		}
		for _, a := range []access{
			{who: c.who, verb: "create", group: "authentication.k8s.io", resource: "tokenreviews", allowed: c.allowed},
			{who: c.who, verb: "create", group: "authorization.k8s.io", resource: "subjectaccessreviews", allowed: c.allowed},
		} {
			key := c.release + " " + a.String()
			want[key] = a.allowed
			got[key] = ask(t, env, saNS, c.release+"-"+c.who, a)
		}
	}
	var diffs []string
	for k, w := range want {
		if got[k] != w {
			diffs = append(diffs, fmt.Sprintf("%s: allowed %v, want %v", k, got[k], w))
		}
	}
	slices.Sort(diffs)
	if len(diffs) > 0 {
		t.Errorf("permissions differ:\n%s", strings.Join(diffs, "\n"))
	}
}

// caseNamed returns the golden case of that name.
func caseNamed(t *testing.T, name string) chartCase {
	t.Helper()
	for _, c := range cases() {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no chart case %q", name)
	return chartCase{}
}

// TestMemberlistKeyKept renders against the API server (as `helm upgrade`
// does, so that `lookup` sees the cluster): an existing memberlist key is
// kept, and a missing one is generated.
func TestMemberlistKeyKept(t *testing.T) {
	env := startAPIServer(t)
	c := cases()[0]
	kubeconfig := kubeconfigAs(t, env, c.namespace, "")
	key := func() string {
		t.Helper()
		out, err := helm(t, "template", c.release, chartDir(), "--namespace", c.namespace, "--kube-version", kubeVersion, "--dry-run=server", "--kubeconfig", kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		sec := find(t, decode(t, out), "Secret", "ironlb-memberlist")
		k, _, _ := unstructured.NestedString(sec.Object, "data", "secretkey")
		return k
	}
	if a, b := key(), key(); a == b {
		t.Errorf("without a Secret, two renderings made the same key")
	}
	createNamespaces(t, env, nil, c.namespace)
	existing := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: c.namespace, Name: "ironlb-memberlist"}, Data: map[string][]byte{"secretkey": []byte("the key of the running speakers")}}
	if err := env.Client.Create(context.Background(), existing); err != nil {
		t.Fatal(err)
	}
	want := "dGhlIGtleSBvZiB0aGUgcnVubmluZyBzcGVha2Vycw==" // base64 of the key above
	if got := key(); got != want {
		t.Errorf("with a Secret in place the key became %q, want the existing %q", got, want)
	}
}
