package migrate_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ironlb/ironlb/migrate"
)

func TestCheck(t *testing.T) {
	const (
		v016   = "quay.io/metallb/controller:v0.16.1"
		spk016 = "quay.io/metallb/speaker:v0.16.1"
		v4     = corev1.IPv4Protocol
		v6     = corev1.IPv6Protocol
	)
	pools := []unstructured.Unstructured{
		poolObj(t, "a", true, "192.0.2.10-192.0.2.19", "2001:db8::10-2001:db8::19"),
		poolObj(t, "b", true, "198.51.100.10-198.51.100.19"),
		poolObj(t, "manual", false, "203.0.113.10-203.0.113.19"),
	}
	metallb := func(ctrlArgs, spkArgs []string) ([]appsv1.Deployment, []appsv1.DaemonSet) {
		return []appsv1.Deployment{controllerDeployment(ns, v016, ctrlArgs...)}, []appsv1.DaemonSet{speakerDaemonSet(ns, spk016, spkArgs...)}
	}
	deps, dss := metallb(nil, nil)
	base := func(svcs ...corev1.Service) migrate.Input {
		return migrate.Input{Namespace: ns, Objects: pools, Services: svcs, Deployments: deps, DaemonSets: dss}
	}
	tests := []struct {
		name         string
		in           migrate.Input
		wantServices []migrate.Service
		wantFindings []migrate.Finding
		wantBlocking int
		// memberlist keeps the memberlist port warning, which every
		// cluster with MetalLB's speakers gets, in the findings compared.
		memberlist bool
	}{
		{
			name: "MetalLB's assignments are all kept, where first fit would choose others",
			in: base(
				svc("high", 1, byMetalLB("a", "192.0.2.19")),
				svc("in-b", 2, byMetalLB("b", "198.51.100.15")),
				svc("manual", 3, byMetalLB("manual", "203.0.113.12")),
				svc("dns-tcp", 4, byMetalLB("a", "192.0.2.18"), annotate("metallb.io/allow-shared-ip", "dns"), port(corev1.ProtocolTCP, 53)),
				svc("dns-udp", 5, byMetalLB("a", "192.0.2.18"), annotate("metallb.io/allow-shared-ip", "dns"), port(corev1.ProtocolUDP, 53)),
				svc("dual-v6-first", 6, byMetalLB("a", "192.0.2.17", "2001:db8::17"), dual(corev1.IPFamilyPolicyRequireDualStack, v6, v4)),
				svc("spec-ip", 7, byMetalLB("a", "192.0.2.16"), func(s *corev1.Service) { s.Spec.LoadBalancerIP = "192.0.2.16" }),
				svc("renamed", 8, byMetalLB("old-a", "192.0.2.15")),
				svc("new", 9),
			),
			wantServices: []migrate.Service{
				{Namespace: "default", Name: "dns-tcp", IPs: []string{"192.0.2.18"}, Pool: "a", Verdict: migrate.Kept},
				{Namespace: "default", Name: "dns-udp", IPs: []string{"192.0.2.18"}, Pool: "a", Verdict: migrate.Kept},
				{Namespace: "default", Name: "dual-v6-first", IPs: []string{"192.0.2.17", "2001:db8::17"}, Pool: "a", Verdict: migrate.Kept},
				{Namespace: "default", Name: "high", IPs: []string{"192.0.2.19"}, Pool: "a", Verdict: migrate.Kept},
				{Namespace: "default", Name: "in-b", IPs: []string{"198.51.100.15"}, Pool: "b", Verdict: migrate.Kept},
				{Namespace: "default", Name: "manual", IPs: []string{"203.0.113.12"}, Pool: "manual", Verdict: migrate.Kept},
				{Namespace: "default", Name: "new", Verdict: migrate.Pending, NewIPs: []string{"192.0.2.10"}, NewPool: "a"},
				{
					Namespace: "default", Name: "renamed", IPs: []string{"192.0.2.15"}, Pool: "old-a", Verdict: migrate.Kept, NewPool: "a",
					Reason: `the pool annotation becomes "a", the pool that holds the IPs`,
				},
				{Namespace: "default", Name: "spec-ip", IPs: []string{"192.0.2.16"}, Pool: "a", Verdict: migrate.Kept},
			},
		},
		{
			name: "what ironlb refuses, as MetalLB would, moves and blocks",
			in: base(
				svc("outside", 1, byMetalLB("a", "192.0.2.200")),
				svc("wrong-pool", 2, byMetalLB("a", "192.0.2.11"), annotate("metallb.io/address-pool", "b")),
			),
			wantServices: []migrate.Service{
				{
					Namespace: "default", Name: "outside", IPs: []string{"192.0.2.200"}, Pool: "a", Verdict: migrate.Moved, NewIPs: []string{"192.0.2.10"}, NewPool: "a",
					Reason: "its IPs are refused: keeping ingress IPs: 192.0.2.200 is not in any pool",
				},
				{
					Namespace: "default", Name: "wrong-pool", IPs: []string{"192.0.2.11"}, Pool: "a", Verdict: migrate.Moved, NewIPs: []string{"198.51.100.10"}, NewPool: "b",
					Reason: `its IPs are refused: keeping ingress IPs: 192.0.2.11 is in pool "a", which this service may not use`,
				},
			},
			wantBlocking: 2,
		},
		{
			name: "--lb-class: MetalLB's Services of its class are unserved, the others taken",
			in: func() migrate.Input {
				in := base(
					svc("classed", 1, class("lb.example/metallb"), byMetalLB("a", "192.0.2.19")),
					svc("plain", 2, byMetalLB("a", "192.0.2.18")),
					svc("other", 3, class("other.example/lb")),
				)
				in.Deployments, in.DaemonSets = metallb([]string{"--lb-class=lb.example/metallb"}, []string{"--lb-class", "lb.example/metallb"})
				return in
			}(),
			wantServices: []migrate.Service{
				{
					Namespace: "default", Name: "classed", IPs: []string{"192.0.2.19"}, Pool: "a", Verdict: migrate.Unserved,
					Reason: `ironlb run with --lb-class="" does not serve loadBalancerClass "lb.example/metallb": its IPs would no longer be announced`,
				},
				{
					Namespace: "default", Name: "plain", IPs: []string{"192.0.2.18"}, Pool: "a", Verdict: migrate.Taken,
					Reason: `MetalLB run with --lb-class="lb.example/metallb" leaves loadBalancerClass (none) to another load balancer; ironlb would serve it`,
				},
			},
			wantFindings: []migrate.Finding{{
				Severity: migrate.Warning, Field: "--lb-class",
				Message: `MetalLB serves loadBalancerClass "lb.example/metallb", ironlb would serve "": run ironlb (and this check) with --lb-class=lb.example/metallb`,
			}},
			wantBlocking: 2,
		},
		{
			name: "--lb-class given to ironlb too: all kept",
			in: func() migrate.Input {
				in := base(svc("classed", 1, class("lb.example/metallb"), byMetalLB("a", "192.0.2.19")))
				in.Deployments, in.DaemonSets = metallb([]string{"--lb-class=lb.example/metallb"}, nil)
				in.LBClass = "lb.example/metallb"
				return in
			}(),
			wantServices: []migrate.Service{
				{Namespace: "default", Name: "classed", IPs: []string{"192.0.2.19"}, Pool: "a", Verdict: migrate.Kept},
			},
		},
		{
			name: "MetalLB's speakers ignore the exclude label and a node has it",
			in: func() migrate.Input {
				in := base()
				in.Deployments, in.DaemonSets = metallb(nil, []string{"--ignore-exclude-lb"})
				in.Nodes = []corev1.Node{node("cp-1", map[string]string{migrate.ExcludeLBLabel: ""}), node("worker-1", nil)}
				return in
			}(),
			wantFindings: []migrate.Finding{{
				Severity: migrate.Blocking, Object: "DaemonSet metallb-system/speaker", Field: "--ignore-exclude-lb",
				Message: "MetalLB's speakers announce from nodes labelled node.kubernetes.io/exclude-from-external-load-balancers (cp-1); ironlb's would not: run ironlb's speakers with --ignore-exclude-lb",
			}},
			wantBlocking: 1,
		},
		{
			name: "a field ironlb's CRD lacks is dropped: blocking",
			in: func() migrate.Input {
				p := poolObj(t, "c", true, "192.0.2.100/32")
				if err := unstructured.SetNestedField(p.Object, "something", "spec", "futureField"); err != nil {
					t.Fatal(err)
				}
				in := base()
				in.Objects = append(append([]unstructured.Unstructured{}, pools...), p)
				return in
			}(),
			wantFindings: []migrate.Finding{{
				Severity: migrate.Blocking, Object: "IPAddressPool metallb-system/c", Field: "spec.futureField",
				Message: "ironlb's CRD has no such field: once its CRDs replace MetalLB's, the API server drops it and what it sets is lost",
			}},
			wantBlocking: 1,
		},
		{
			name: "a configuration ironlb refuses: every Service unknown",
			in: func() migrate.Input {
				in := base(svc("web", 1, byMetalLB("a", "192.0.2.19")))
				in.Objects = append(append([]unstructured.Unstructured{}, pools...), poolObj(t, "overlap", true, "192.0.2.19/32"))
				return in
			}(),
			wantServices: []migrate.Service{
				{Namespace: "default", Name: "web", IPs: []string{"192.0.2.19"}, Pool: "a", Verdict: migrate.Unknown, Reason: "ironlb refuses the configuration (see the findings)"},
			},
			wantFindings: []migrate.Finding{{
				Severity: migrate.Blocking, Object: "IPAddressPool metallb-system/overlap", Field: "spec.addresses[0]",
				Message: `ironlb refuses it (and would then allocate and announce nothing): "192.0.2.19/32" overlaps "192.0.2.10-192.0.2.19" (spec.addresses[0] of IPAddressPool "a")`,
			}},
			wantBlocking: 2,
		},
		{
			name: "legacy annotations and a PreferDualStack Service with one IP",
			in: base(
				svc("legacy", 1, byMetalLB("", "198.51.100.12"), annotate("metallb.universe.tf/address-pool", "b"), annotate("metallb.universe.tf/ip-allocated-from-pool", "b")),
				svc("prefer", 2, byMetalLB("a", "192.0.2.12"), dual(corev1.IPFamilyPolicyPreferDualStack, v4, v6)),
			),
			wantServices: []migrate.Service{
				{Namespace: "default", Name: "legacy", IPs: []string{"198.51.100.12"}, Verdict: migrate.Kept, NewPool: "b", Reason: `the pool annotation becomes "b", the pool that holds the IPs`},
				{Namespace: "default", Name: "prefer", IPs: []string{"192.0.2.12"}, Pool: "a", Verdict: migrate.Kept},
			},
			wantFindings: []migrate.Finding{
				{
					Severity: migrate.Warning, Object: "Service default/legacy", Field: "annotations[metallb.universe.tf/address-pool]",
					Message: "legacy spelling, read as MetalLB reads it; write metallb.io/address-pool instead",
				},
				{
					Severity: migrate.Info, Object: "Service default/legacy", Field: "annotations[metallb.universe.tf/ip-allocated-from-pool]",
					Message: "MetalLB removes this legacy annotation when it writes metallb.io/ip-allocated-from-pool; ironlb leaves it (it reads neither)",
				},
				{
					Severity: migrate.Info, Object: "Service default/prefer", Field: "spec.ipFamilyPolicy",
					Message: "PreferDualStack with one IP: MetalLB would add an IP of the other family when its pool has one; ironlb keeps the one IP",
				},
			},
		},
		{
			name:       "memberlist port and MetalLB's bgpextras",
			memberlist: true,
			in: func() migrate.Input {
				in := base()
				ds := speakerDaemonSet(ns, spk016)
				ds.Spec.Template.Spec.Containers[0].Env = append(ds.Spec.Template.Spec.Containers[0].Env, corev1.EnvVar{Name: "METALLB_ML_BIND_PORT", Value: "7950"})
				in.DaemonSets = []appsv1.DaemonSet{ds}
				in.ConfigMaps = []corev1.ConfigMap{
					{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bgpextras"}},
					{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "other"}},
				}
				return in
			}(),
			wantFindings: []migrate.Finding{
				{
					Severity: migrate.Warning, Object: "ConfigMap metallb-system/bgpextras",
					Message: "MetalLB appends this FRR configuration to its own; ironlb does not read it, so what it sets (route maps, prefix lists, extra neighbors) is lost",
				},
				{
					Severity: migrate.Warning, Object: "DaemonSet metallb-system/speaker", Field: "--ml-bindport",
					Message: "MetalLB's speakers bind memberlist on port 7950 of the host network: while both run, give ironlb's speakers another memberlist port (chart value speaker.memberlist.port)",
				},
			},
		},
		{
			name: "MetalLB in another namespace and of another version",
			in: func() migrate.Input {
				in := base()
				in.Deployments = []appsv1.Deployment{controllerDeployment("lb", "quay.io/metallb/controller:v0.14.9")}
				in.DaemonSets = nil
				return in
			}(),
			wantFindings: []migrate.Finding{
				{
					Severity: migrate.Blocking, Object: "Deployment lb/controller",
					Message: "MetalLB runs in namespace lb, ironlb would read its configuration from metallb-system: install ironlb in lb (and run this check with --namespace lb)",
				},
				{
					Severity: migrate.Warning, Object: "Deployment lb/controller", Field: "image",
					Message: "MetalLB v0.14.9: ironlb follows v0.16; read the release notes of the versions in between",
				},
			},
			wantBlocking: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := migrate.Check(tt.in)
			if diff := cmp.Diff(tt.wantServices, got.Services, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
			findings := got.Findings
			if !tt.memberlist {
				findings = slices.DeleteFunc(slices.Clone(findings), func(f migrate.Finding) bool { return f.Field == "--ml-bindport" })
			}
			if diff := cmp.Diff(tt.wantFindings, findings, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if got.Blocking != tt.wantBlocking {
				t.Errorf("blocking %d, want %d", got.Blocking, tt.wantBlocking)
			}
		})
	}
}

func TestComponents(t *testing.T) {
	tests := []struct {
		name string
		deps []appsv1.Deployment
		dss  []appsv1.DaemonSet
		want []migrate.Component
	}{
		{
			name: "manifests' controller and speaker, with flags in both spellings",
			deps: []appsv1.Deployment{controllerDeployment(ns, "quay.io/metallb/controller:v0.16.1", "--lb-class", "x.io/lb")},
			dss:  []appsv1.DaemonSet{speakerDaemonSet(ns, "quay.io/metallb/speaker:v0.16.1@sha256:abc", "--ignore-exclude-lb", "-lb-class=x.io/lb")},
			want: []migrate.Component{
				{Role: "controller", Kind: "Deployment", Namespace: ns, Name: "controller", Image: "quay.io/metallb/controller:v0.16.1", Version: "v0.16.1", Flags: []string{"lb-class=x.io/lb"}},
				{Role: "speaker", Kind: "DaemonSet", Namespace: ns, Name: "speaker", Image: "quay.io/metallb/speaker:v0.16.1@sha256:abc", Version: "v0.16.1", Flags: []string{"ignore-exclude-lb=true", "lb-class=x.io/lb"}},
			},
		},
		{
			name: "a registry with a port, no tag; other images are not MetalLB",
			deps: []appsv1.Deployment{
				controllerDeployment(ns, "registry.local:5000/mirror/metallb/controller"),
				controllerDeployment(ns, "quay.io/notmetallb/controller:v1"),
				controllerDeployment(ns, "quay.io/metallb/controller-extra:v1"),
			},
			want: []migrate.Component{
				{Role: "controller", Kind: "Deployment", Namespace: ns, Name: "controller", Image: "registry.local:5000/mirror/metallb/controller", Flags: nil},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := migrate.Check(migrate.Input{Namespace: ns, Deployments: tt.deps, DaemonSets: tt.dss}).MetalLB
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("components (-want +got):\n%s", diff)
			}
		})
	}
}
