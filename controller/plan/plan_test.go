package plan

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/internal/manifest"
)

func TestPlanServices(t *testing.T) {
	const (
		single  = corev1.IPFamilyPolicySingleStack
		prefer  = corev1.IPFamilyPolicyPreferDualStack
		require = corev1.IPFamilyPolicyRequireDualStack
		v4      = corev1.IPv4Protocol
		v6      = corev1.IPv6Protocol
	)
	tests := []struct {
		name string
		set  manifest.Set
		opts Options
		want []Service
	}{
		{
			name: "first fit in input order, then the next pool by name",
			set: manifest.Set{
				Pools:    []v1beta1.IPAddressPool{pool("b", "198.51.100.0/30"), pool("a", "192.0.2.10-192.0.2.11")},
				Services: []corev1.Service{lb("default", "web"), lb("default", "api"), lb("default", "db")},
			},
			want: []Service{
				{Namespace: "default", Name: "web", IPs: ips("192.0.2.10"), Pool: "a"},
				{Namespace: "default", Name: "api", IPs: ips("192.0.2.11"), Pool: "a"},
				{Namespace: "default", Name: "db", IPs: ips("198.51.100.0"), Pool: "b"},
			},
		},
		{
			name: "IPs in status are kept before new IPs are handed out",
			set: manifest.Set{
				Pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.12")},
				Services: []corev1.Service{
					lb("default", "web"),
					lb("default", "db", status("192.0.2.10")),
					lb("default", "api", status("192.0.2.12")),
				},
			},
			want: []Service{
				{Namespace: "default", Name: "web", IPs: ips("192.0.2.11"), Pool: "a"},
				{Namespace: "default", Name: "db", IPs: ips("192.0.2.10"), Pool: "a"},
				{Namespace: "default", Name: "api", IPs: ips("192.0.2.12"), Pool: "a"},
			},
		},
		{
			name: "a previous IP outside every pool moves, with a note",
			set: manifest.Set{
				Pools:    []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.12")},
				Services: []corev1.Service{lb("default", "legacy", status("203.0.113.7"))},
			},
			want: []Service{{
				Namespace: "default", Name: "legacy", IPs: ips("192.0.2.10"), Pool: "a",
				Note: "previous IP 203.0.113.7 not kept: 203.0.113.7 is not in any pool",
			}},
		},
		{
			name: "the first Service in the input keeps a contested previous IP",
			set: manifest.Set{
				Pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.12")},
				Services: []corev1.Service{
					lb("default", "first", status("192.0.2.11")),
					lb("default", "second", status("192.0.2.11")),
				},
			},
			want: []Service{
				{Namespace: "default", Name: "first", IPs: ips("192.0.2.11"), Pool: "a"},
				{
					Namespace: "default", Name: "second", IPs: ips("192.0.2.10"), Pool: "a",
					Note: "previous IP 192.0.2.11 not kept: 192.0.2.11 is already in use by default/first (not shareable)",
				},
			},
		},
		{
			name: "a previous IP that is not the requested one is replaced",
			set: manifest.Set{
				Pools:    []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.12")},
				Services: []corev1.Service{lb("default", "web", status("192.0.2.10"), requestIPs("192.0.2.12"))},
			},
			want: []Service{{
				Namespace: "default", Name: "web", IPs: ips("192.0.2.12"), Pool: "a",
				Note: "previous IP 192.0.2.10 not kept: ingress IPs [192.0.2.10] are not the requested [192.0.2.12]",
			}},
		},
		{
			name: "a Service keeps its previous IP when it cannot get what it now asks for",
			set: manifest.Set{
				Pools:    []v1beta1.IPAddressPool{pool("v4", "192.0.2.10-192.0.2.11")},
				Services: []corev1.Service{lb("default", "web", status("192.0.2.11"), families(require))},
			},
			want: []Service{{
				Namespace: "default", Name: "web", IPs: ips("192.0.2.11"), Pool: "v4",
				Error: `no available IPs in pool "v4"`,
			}},
		},
		{
			name: "Services ironlb does not handle are left out",
			set: manifest.Set{
				Pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.12")},
				Services: []corev1.Service{
					lb("default", "cluster-ip", kind(corev1.ServiceTypeClusterIP)),
					lb("default", "node-port", kind(corev1.ServiceTypeNodePort)),
					lb("default", "other-class", class("example.com/other")),
					lb("default", "web"),
				},
			},
			want: []Service{{Namespace: "default", Name: "web", IPs: ips("192.0.2.10"), Pool: "a"}},
		},
		{
			name: "with a loadBalancerClass, only Services of that class are handled (as in MetalLB)",
			set: manifest.Set{
				Pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.12")},
				Services: []corev1.Service{
					lb("default", "other-class", class("example.com/other")),
					lb("default", "ours", class("example.com/ironlb")),
					lb("default", "web"),
				},
			},
			opts: Options{LBClass: "example.com/ironlb"},
			want: []Service{
				{Namespace: "default", Name: "ours", IPs: ips("192.0.2.10"), Pool: "a"},
			},
		},
		{
			name: "a Service without a namespace is in default",
			set: manifest.Set{
				Pools:    []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.12")},
				Services: []corev1.Service{lb("", "web")},
			},
			want: []Service{{Namespace: "default", Name: "web", IPs: ips("192.0.2.10"), Pool: "a"}},
		},
		{
			name: "a repeated Service is reported and not planned",
			set: manifest.Set{
				Pools:    []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.12")},
				Services: []corev1.Service{lb("default", "web"), lb("", "web", requestIPs("192.0.2.12"))},
			},
			want: []Service{
				{Namespace: "default", Name: "web", IPs: ips("192.0.2.10"), Pool: "a"},
				{Namespace: "default", Name: "web", IPs: ips(), Error: "an earlier Service in the input has the same namespace and name; only the first is planned"},
			},
		},
		{
			name: "sharing an IP needs the same key and distinct ports",
			set: manifest.Set{
				Pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.10-192.0.2.12")},
				Services: []corev1.Service{
					lb("default", "http", shared("front")),
					lb("default", "https", shared("front"), port(443)),
					lb("default", "http-again", shared("front")),
					lb("default", "alone", port(443)),
				},
			},
			want: []Service{
				{Namespace: "default", Name: "http", IPs: ips("192.0.2.10"), Pool: "a"},
				{Namespace: "default", Name: "https", IPs: ips("192.0.2.10"), Pool: "a"},
				{Namespace: "default", Name: "http-again", IPs: ips("192.0.2.11"), Pool: "a"},
				{Namespace: "default", Name: "alone", IPs: ips("192.0.2.12"), Pool: "a"},
			},
		},
		{
			name: "requested IPs are honoured or refused with the reason",
			set: manifest.Set{
				Pools: []v1beta1.IPAddressPool{
					pool("a", "192.0.2.10-192.0.2.12"),
					manual(pool("manual", "198.51.100.10-198.51.100.11")),
				},
				Services: []corev1.Service{
					lb("default", "asks", requestIPs("192.0.2.11")),
					lb("default", "asks-taken", requestIPs("192.0.2.11")),
					lb("default", "asks-outside", requestIPs("203.0.113.1")),
					lb("default", "asks-manual", requestIPs("198.51.100.10")),
					lb("default", "asks-other-pool", requestIPs("192.0.2.12"), fromPool("manual")),
					lb("default", "names-missing", fromPool("missing")),
					lb("default", "names-manual", fromPool("manual")),
					lb("default", "plain"),
					lb("default", "bad-annotation", requestIPs("nope")),
				},
			},
			want: []Service{
				{Namespace: "default", Name: "asks", IPs: ips("192.0.2.11"), Pool: "a"},
				{Namespace: "default", Name: "asks-taken", IPs: ips(), Error: "requested IPs: 192.0.2.11 is already in use by default/asks (not shareable)"},
				{Namespace: "default", Name: "asks-outside", IPs: ips(), Error: "requested IPs: 203.0.113.1 is not in any pool"},
				{Namespace: "default", Name: "asks-manual", IPs: ips("198.51.100.10"), Pool: "manual"},
				{Namespace: "default", Name: "asks-other-pool", IPs: ips(), Error: `requested IPs: 192.0.2.12 is in pool "a", which this service may not use`},
				{Namespace: "default", Name: "names-missing", IPs: ips(), Error: `pool "missing" (from the address-pool annotation) does not exist`},
				{Namespace: "default", Name: "names-manual", IPs: ips("198.51.100.11"), Pool: "manual"},
				{Namespace: "default", Name: "plain", IPs: ips("192.0.2.10"), Pool: "a"},
				{Namespace: "default", Name: "bad-annotation", IPs: ips(), Error: `annotations[metallb.io/loadBalancerIPs]: "nope" is not an IP address`},
			},
		},
		{
			name: "dual-stack policies",
			set: manifest.Set{
				Pools: []v1beta1.IPAddressPool{
					pool("ds", "192.0.2.10-192.0.2.11", "2001:db8::10-2001:db8::11"),
					pool("v4only", "198.51.100.1/32"),
				},
				Services: []corev1.Service{
					lb("default", "both", families(require)),
					lb("default", "v6-first", families(require, v6, v4)),
					lb("default", "prefer", families(prefer)),
					lb("default", "require", families(require)),
					lb("default", "v6-only", families(single, v6)),
				},
			},
			want: []Service{
				{Namespace: "default", Name: "both", IPs: ips("192.0.2.10", "2001:db8::10"), Pool: "ds"},
				{Namespace: "default", Name: "v6-first", IPs: ips("2001:db8::11", "192.0.2.11"), Pool: "ds"},
				{Namespace: "default", Name: "prefer", IPs: ips("198.51.100.1"), Pool: "v4only"},
				{Namespace: "default", Name: "require", IPs: ips(), Error: `no available IPs in pools "ds", "v4only"`},
				{Namespace: "default", Name: "v6-only", IPs: ips(), Error: `no available IPs in pools "ds", "v4only"`},
			},
		},
		{
			name: "serviceAllocation matches Namespace labels, by priority, then open pools",
			set: manifest.Set{
				Pools: []v1beta1.IPAddressPool{
					pool("open", "192.0.2.10-192.0.2.19"),
					allocate(pool("blue", "198.51.100.10-198.51.100.11"), v1beta1.ServiceAllocation{
						Priority:           10,
						NamespaceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"team": "blue"}}},
					}),
					allocate(pool("blue-low", "198.51.100.20/32"), v1beta1.ServiceAllocation{
						Priority:           20,
						NamespaceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{"team": "blue"}}},
					}),
					allocate(pool("prod", "203.0.113.10/32"), v1beta1.ServiceAllocation{Namespaces: []string{"prod"}}),
					allocate(pool("green", "203.0.113.20/32"), v1beta1.ServiceAllocation{
						NamespaceSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{namespaceNameLabel: "green"}}},
					}),
				},
				Namespaces: []corev1.Namespace{namespace("blue-a", "team", "blue"), namespace("prod"), namespace("green")},
				Services: []corev1.Service{
					lb("blue-a", "one"),
					lb("prod", "one"),
					lb("blue-b", "one"), // no Namespace object: no labels
					lb("blue-a", "two"),
					lb("blue-a", "three"),
					lb("blue-a", "four"),
					lb("prod", "two"),
					lb("green", "one"),
				},
			},
			want: []Service{
				{Namespace: "blue-a", Name: "one", IPs: ips("198.51.100.10"), Pool: "blue"},
				{Namespace: "prod", Name: "one", IPs: ips("203.0.113.10"), Pool: "prod"},
				{Namespace: "blue-b", Name: "one", IPs: ips("192.0.2.10"), Pool: "open"},
				{Namespace: "blue-a", Name: "two", IPs: ips("198.51.100.11"), Pool: "blue"},
				{Namespace: "blue-a", Name: "three", IPs: ips("198.51.100.20"), Pool: "blue-low"},
				{Namespace: "blue-a", Name: "four", IPs: ips("192.0.2.11"), Pool: "open"},
				{Namespace: "prod", Name: "two", IPs: ips("192.0.2.12"), Pool: "open"},
				{Namespace: "green", Name: "one", IPs: ips("203.0.113.20"), Pool: "green"},
			},
		},
		{
			name: "no pool serves the Service",
			set: manifest.Set{
				Pools:    []v1beta1.IPAddressPool{manual(pool("manual", "192.0.2.10-192.0.2.12"))},
				Services: []corev1.Service{lb("default", "web")},
			},
			want: []Service{{
				Namespace: "default", Name: "web", IPs: ips(),
				Error: "no pool serves this service: no pool without serviceAllocation has autoAssign enabled, and no serviceAllocation matches",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Plan(&tt.set, tt.opts)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if diff := cmp.Diff(tt.want, got.Services, cmpAddr); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		set  manifest.Set
		opts Options
		// want are the problems the error must name, in order.
		want []config.FieldError
	}{
		{
			name: "bad address",
			set:  manifest.Set{Pools: []v1beta1.IPAddressPool{pool("bad", "192.0.2.300/32")}},
			want: []config.FieldError{{Kind: config.KindIPAddressPool, Name: "bad", Field: "spec.addresses[0]"}},
		},
		{
			name: "overlapping pools",
			set: manifest.Set{Pools: []v1beta1.IPAddressPool{
				pool("a", "192.0.2.0/24"), pool("b", "192.0.2.128/25"),
			}},
			want: []config.FieldError{{Kind: config.KindIPAddressPool, Name: "b", Field: "spec.addresses[0]"}},
		},
		{
			name: "pool in another namespace than ironlb's",
			set:  manifest.Set{Pools: []v1beta1.IPAddressPool{pool("a", "192.0.2.0/24")}},
			opts: Options{Namespace: "ironlb-system"},
			want: []config.FieldError{{Kind: config.KindIPAddressPool, Name: "a", Field: "metadata.namespace"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Plan(&tt.set, tt.opts)
			if err == nil {
				t.Fatalf("Plan = %+v, want an error", got)
			}
			if !strings.HasPrefix(err.Error(), "invalid configuration: ") {
				t.Errorf("error %q does not start with %q", err, "invalid configuration: ")
			}
			fes := config.Errors(err)
			for i := range fes {
				fes[i].Reason = ""
			}
			if diff := cmp.Diff(tt.want, fes); diff != "" {
				t.Errorf("field errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlanPoolUsage(t *testing.T) {
	set := manifest.Set{
		Pools: []v1beta1.IPAddressPool{
			pool("z", "198.51.100.0/24"),
			pool("a", "192.0.2.10-192.0.2.12", "2001:db8::/126"),
		},
		Services: []corev1.Service{
			lb("default", "dual", families(corev1.IPFamilyPolicyRequireDualStack)),
			lb("default", "shares-1", shared("k")),
			lb("default", "shares-2", shared("k"), port(443)),
		},
	}
	got, err := Plan(&set, Options{})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	want := []PoolUsage{
		{Name: "a", AssignedIPv4: 2, AssignedIPv6: 1, AvailableIPv4: 1, AvailableIPv6: 3},
		{Name: "z", AvailableIPv4: 256},
	}
	if diff := cmp.Diff(want, got.Pools); diff != "" {
		t.Errorf("pools (-want +got):\n%s", diff)
	}
}

func TestPlanEmpty(t *testing.T) {
	got, err := Plan(nil, Options{})
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	want := &Result{Services: []Service{}, Pools: []PoolUsage{}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

// TestPlanLeavesSetUnchanged checks that planning, which defaults the
// namespace of Services written without one, does not change the set.
func TestPlanLeavesSetUnchanged(t *testing.T) {
	set := &manifest.Set{
		Pools:    []v1beta1.IPAddressPool{pool("a", "192.0.2.0/30")},
		Services: []corev1.Service{lb("", "web", status("192.0.2.1")), lb("shop", "db")},
	}
	want := set.Services[0].DeepCopy()
	if _, err := Plan(set, Options{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, &set.Services[0]); diff != "" {
		t.Errorf("Service after Plan (-before +after):\n%s", diff)
	}
}
