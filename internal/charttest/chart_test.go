package charttest

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

func TestLint(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"lint", "--strict", chartDir(), "--namespace", c.namespace, "--kube-version", kubeVersion}
			if c.values != "" {
				args = append(args, "--values", filepath.Join("testdata", "values", c.values))
			}
			if out, err := helm(t, args...); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

func TestGolden(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			got := normalize(render(t, c))
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden file (run with -update to create it): %v", err)
			}
			if d := cmp.Diff(string(want), string(got)); d != "" {
				_ = os.WriteFile(path+".got", got, 0o644)
				t.Errorf("rendering differs from %s (-want +got), run with -update if intended:\n%s", path, d)
			}
		})
	}
}

// TestMemberlistKey checks that the generated key is fresh, random and of
// the size memberlist takes.
func TestMemberlistKey(t *testing.T) {
	c := cases()[0]
	key := func() string {
		sec := find(t, decode(t, render(t, c)), "Secret", "ironlb-memberlist")
		data, _, _ := unstructuredString(sec.Object, "data", "secretkey")
		return data
	}
	a, b := key(), key()
	if a == b {
		t.Errorf("two renderings made the same key %q", a)
	}
	// 32 bytes are 44 base64 characters.
	if len(a) != 44 {
		t.Errorf("key %q is %d base64 characters, want 44 (32 bytes)", a, len(a))
	}
}

func unstructuredString(obj map[string]any, fields ...string) (string, bool, error) {
	var cur any = obj
	for _, f := range fields {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false, nil
		}
		cur = m[f]
	}
	s, ok := cur.(string)
	return s, ok, nil
}

func TestSchemaRejects(t *testing.T) {
	tests := []struct {
		name    string
		set     string
		wantErr string
	}{
		{name: "unknown top-level key", set: "replicas=2", wantErr: "additional properties 'replicas' not allowed"},
		{name: "unknown nested key", set: "controller.replica=2", wantErr: "additional properties 'replica' not allowed"},
		{name: "port out of range", set: "webhook.port=70000", wantErr: "/webhook/port"},
		{name: "bad failure policy", set: "webhook.failurePolicy=Sometimes", wantErr: "/webhook/failurePolicy"},
		{name: "bad log level", set: "logLevel=verbose", wantErr: "/logLevel"},
		{name: "zero replicas", set: "controller.replicas=0", wantErr: "/controller/replicas"},
		{name: "bad digest", set: "frr.image.digest=latest", wantErr: "/frr/image/digest"},
		{name: "bad FRR log level", set: "frr.logLevel=info", wantErr: "/frr/logLevel"},
		{name: "extra arg not a flag", set: "controller.extraArgs={oops}", wantErr: "/controller/extraArgs/0"},
		{name: "pool usage threshold above 100%", set: "prometheus.rules.addressPoolUsage.thresholds[0].percent=150", wantErr: "/prometheus/rules/addressPoolUsage/thresholds/0/percent"},
		{name: "unknown rule key", set: "prometheus.rules.bgpSessionDown.for=5m", wantErr: "additional properties 'for' not allowed"},
		{name: "grace period shorter than the drain", set: "speaker.drainDelaySeconds=30", wantErr: "terminationGracePeriodSeconds must be at least"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := helm(t, templateArgs(cases()[0], "--set", tt.set)...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.wantErr)
			}
		})
	}
}

// TestReadmeDocumentsValues checks that the chart's README has a row for
// every value, and no row for a value that does not exist.
func TestReadmeDocumentsValues(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(chartDir(), "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(raw, &values); err != nil {
		t.Fatal(err)
	}
	var want []string
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			p := prefix + k
			sub, ok := v.(map[string]any)
			// Maps passed through whole are documented as one row.
			whole := slices.Contains([]string{"resources", "podLabels", "podAnnotations", "nodeSelector", "affinity", "podSecurityContext", "labels", "annotations", "updateStrategy", "commonLabels"}, k) || strings.HasSuffix(k, "Probe")
			if ok && !whole && len(sub) > 0 {
				walk(p+".", sub)
				continue
			}
			want = append(want, p)
		}
	}
	walk("", values)
	sort.Strings(want)

	readme, err := os.ReadFile(filepath.Join(chartDir(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Za-z0-9.]+)` \\|")
	var got []string
	for _, m := range row.FindAllSubmatch(readme, -1) {
		got = append(got, string(m[1]))
	}
	sort.Strings(got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("README values table vs values.yaml (-values.yaml +README):\n%s", d)
	}
}

// podSpec returns the pod template of the workload kind/name.
func podSpec(t *testing.T, b []byte, kind, name string) corev1.PodSpec {
	t.Helper()
	obj := find(t, decode(t, b), kind, name)
	switch kind {
	case "Deployment":
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &d); err != nil {
			t.Fatal(err)
		}
		return d.Spec.Template.Spec
	case "DaemonSet":
		var d appsv1.DaemonSet
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &d); err != nil {
			t.Fatal(err)
		}
		return d.Spec.Template.Spec
	}
	t.Fatalf("no pod template in %s", kind)
	return corev1.PodSpec{}
}

func container(t *testing.T, spec corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %s", name)
	return corev1.Container{}
}

// TestContainerSecurity pins what each container may do.
func TestContainerSecurity(t *testing.T) {
	b := render(t, cases()[0])
	ctrl := podSpec(t, b, "Deployment", "ironlb-controller")
	spk := podSpec(t, b, "DaemonSet", "ironlb-speaker")
	type security struct {
		User           string
		ReadOnlyRoot   bool
		NoEscalation   bool
		Drop, Add      []string
		Seccomp        string
		HostNetwork    bool
		ReadOnlyMounts []string
	}
	get := func(spec corev1.PodSpec, name string) security {
		c := container(t, spec, name)
		sc := c.SecurityContext
		s := security{HostNetwork: spec.HostNetwork}
		if sc.RunAsNonRoot != nil && *sc.RunAsNonRoot {
			s.User = "non-root"
		}
		if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			s.User = "root"
		}
		s.ReadOnlyRoot = sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
		s.NoEscalation = sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
		for _, c := range sc.Capabilities.Drop {
			s.Drop = append(s.Drop, string(c))
		}
		for _, c := range sc.Capabilities.Add {
			s.Add = append(s.Add, string(c))
		}
		sort.Strings(s.Add)
		if spec.SecurityContext != nil && spec.SecurityContext.SeccompProfile != nil {
			s.Seccomp = string(spec.SecurityContext.SeccompProfile.Type)
		}
		if sc.SeccompProfile != nil {
			s.Seccomp = string(sc.SeccompProfile.Type)
		}
		for _, m := range c.VolumeMounts {
			if m.ReadOnly {
				s.ReadOnlyMounts = append(s.ReadOnlyMounts, m.MountPath)
			}
		}
		return s
	}
	got := map[string]security{
		"controller":     get(ctrl, "controller"),
		"speaker":        get(spk, "speaker"),
		"frr":            get(spk, "frr"),
		"install-ironlb": get(spk, "install-ironlb"),
	}
	all := []string{"ALL"}
	want := map[string]security{
		"controller":     {User: "non-root", ReadOnlyRoot: true, NoEscalation: true, Drop: all, Seccomp: "RuntimeDefault"},
		"speaker":        {User: "root", ReadOnlyRoot: true, NoEscalation: true, Drop: all, Add: []string{"NET_RAW"}, Seccomp: "RuntimeDefault", HostNetwork: true},
		"frr":            {User: "root", ReadOnlyRoot: true, NoEscalation: true, Drop: all, Add: frrCapabilities, Seccomp: "RuntimeDefault", HostNetwork: true, ReadOnlyMounts: []string{"/etc/ironlb/frr", "/ironlb-bin"}},
		"install-ironlb": {User: "non-root", ReadOnlyRoot: true, NoEscalation: true, Drop: all, Seccomp: "RuntimeDefault", HostNetwork: true},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("container security (-want +got):\n%s", d)
	}
}

// frrCapabilities are the ones the frr container gets, sorted; the
// entrypoint test shows each is needed.
var frrCapabilities = []string{"DAC_OVERRIDE", "KILL", "NET_ADMIN", "NET_BIND_SERVICE", "NET_RAW", "SETGID", "SETUID", "SYS_ADMIN"}

// TestFlagsAndEnv checks the wiring between the components: the same agent
// socket on both sides, downward-API variables, the webhook flags matching
// the objects the chart names.
func TestFlagsAndEnv(t *testing.T) {
	b := render(t, cases()[0])
	ctrl := container(t, podSpec(t, b, "Deployment", "ironlb-controller"), "controller")
	spk := podSpec(t, b, "DaemonSet", "ironlb-speaker")
	speaker, frr := container(t, spk, "speaker"), container(t, spk, "frr")
	has := func(c corev1.Container, arg string) {
		t.Helper()
		if !slices.Contains(c.Args, arg) {
			t.Errorf("%s: no argument %q in %q", c.Name, arg, c.Args)
		}
	}
	has(ctrl, "--leader-elect")
	has(ctrl, "--namespace=$(POD_NAMESPACE)")
	has(ctrl, "--manage-certs=true")
	has(ctrl, "--cert-secret=ironlb-webhook-cert")
	has(ctrl, "--webhook-service=ironlb-webhook")
	has(ctrl, "--webhook-config-name=ironlb-webhook")
	has(speaker, "--node-name=$(NODE_NAME)")
	has(speaker, "--frr-agent-socket=/var/run/ironlb/frr-agent.sock")
	has(speaker, "--memberlist-secret=ironlb-memberlist")
	has(speaker, "--drain-delay=15s")
	has(frr, "--socket=/var/run/ironlb/frr-agent.sock")
	envFrom := func(c corev1.Container) map[string]string {
		out := map[string]string{}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
				out[e.Name] = e.ValueFrom.FieldRef.FieldPath
			}
		}
		return out
	}
	has(ctrl, "--pod-name=$(POD_NAME)")
	has(speaker, "--pod-name=$(POD_NAME)")
	if d := cmp.Diff(map[string]string{"POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}, envFrom(ctrl)); d != "" {
		t.Errorf("controller env (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string]string{"NODE_NAME": "spec.nodeName", "POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"}, envFrom(speaker)); d != "" {
		t.Errorf("speaker env (-want +got):\n%s", d)
	}
	// FRR outlives the speaker's drain.
	if ps := frr.Lifecycle.PreStop; ps == nil || ps.Sleep == nil || ps.Sleep.Seconds != 20 {
		t.Errorf("frr preStop %+v, want a 20s sleep (drain 15s + 5s)", ps)
	}
	// The cert-manager rendering hands the certificate to cert-manager.
	cm := render(t, cases()[1])
	cmCtrl := container(t, podSpec(t, cm, "Deployment", "ironlb-cm-controller"), "controller")
	has(cmCtrl, "--manage-certs=false")
	vwc := find(t, decode(t, cm), "ValidatingWebhookConfiguration", "ironlb-cm-webhook")
	if got := vwc.GetAnnotations()["cert-manager.io/inject-ca-from"]; got != "ironlb-cm/ironlb-cm-webhook" {
		t.Errorf("cainjector annotation %q, want ironlb-cm/ironlb-cm-webhook", got)
	}
	if bytes.Contains(cm, []byte("kind: Secret\nmetadata:\n  name: ironlb-cm-webhook-cert")) {
		t.Error("with cert-manager the chart must not create the certificate Secret")
	}
}
