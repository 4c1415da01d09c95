package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/labels"
)

func TestPoolMatches(t *testing.T) {
	type svc struct {
		ns       string
		nsLabels labels.Set
		labels   labels.Set
	}
	tests := []struct {
		name string
		sa   *ServiceAllocation
		svc  svc
		want bool
	}{
		{name: "no service allocation", sa: nil, svc: svc{ns: "any"}, want: true},
		{name: "empty service allocation", sa: &ServiceAllocation{Priority: 3}, svc: svc{ns: "any"}, want: true},
		{name: "listed namespace", sa: &ServiceAllocation{Namespaces: []string{"a", "web"}}, svc: svc{ns: "web"}, want: true},
		{name: "unlisted namespace", sa: &ServiceAllocation{Namespaces: []string{"a", "web"}}, svc: svc{ns: "db"}, want: false},
		{
			name: "namespace selector matches",
			sa:   &ServiceAllocation{NamespaceSelectors: []labels.Selector{mustSelector(t, "team=blue")}},
			svc:  svc{ns: "x", nsLabels: labels.Set{"team": "blue"}},
			want: true,
		},
		{
			name: "namespace selector does not match",
			sa:   &ServiceAllocation{NamespaceSelectors: []labels.Selector{mustSelector(t, "team=blue")}},
			svc:  svc{ns: "x", nsLabels: labels.Set{"team": "red"}},
			want: false,
		},
		{
			name: "listed namespace or selector: listed wins",
			sa:   &ServiceAllocation{Namespaces: []string{"web"}, NamespaceSelectors: []labels.Selector{mustSelector(t, "team=blue")}},
			svc:  svc{ns: "web", nsLabels: labels.Set{"team": "red"}},
			want: true,
		},
		{
			name: "listed namespace or selector: selector wins",
			sa:   &ServiceAllocation{Namespaces: []string{"web"}, NamespaceSelectors: []labels.Selector{mustSelector(t, "team=blue")}},
			svc:  svc{ns: "other", nsLabels: labels.Set{"team": "blue"}},
			want: true,
		},
		{
			name: "service selector matches",
			sa:   &ServiceAllocation{ServiceSelectors: []labels.Selector{mustSelector(t, "tier=front"), mustSelector(t, "app=db")}},
			svc:  svc{ns: "x", labels: labels.Set{"app": "db"}},
			want: true,
		},
		{
			name: "service selector does not match",
			sa:   &ServiceAllocation{ServiceSelectors: []labels.Selector{mustSelector(t, "tier=front")}},
			svc:  svc{ns: "x", labels: labels.Set{"tier": "back"}},
			want: false,
		},
		{
			name: "namespace and service must both match",
			sa:   &ServiceAllocation{Namespaces: []string{"web"}, ServiceSelectors: []labels.Selector{mustSelector(t, "tier=front")}},
			svc:  svc{ns: "db", labels: labels.Set{"tier": "front"}},
			want: false,
		},
		{
			name: "namespace and service both match",
			sa:   &ServiceAllocation{Namespaces: []string{"web"}, ServiceSelectors: []labels.Selector{mustSelector(t, "tier=front")}},
			svc:  svc{ns: "web", labels: labels.Set{"tier": "front"}},
			want: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Pool{Name: "p", ServiceAllocation: tt.sa}
			if got := p.Matches(tt.svc.ns, tt.svc.nsLabels, tt.svc.labels); got != tt.want {
				t.Errorf("Matches(%q, %v, %v) = %v, want %v", tt.svc.ns, tt.svc.nsLabels, tt.svc.labels, got, tt.want)
			}
		})
	}
}

func TestCandidatePools(t *testing.T) {
	open := func(name string) Pool { return Pool{Name: name, AutoAssign: true} }
	manual := func(name string) Pool { return Pool{Name: name} }
	pinned := func(name string, prio int, ns ...string) Pool {
		return Pool{Name: name, AutoAssign: true, ServiceAllocation: &ServiceAllocation{Priority: prio, Namespaces: ns}}
	}
	bySelector := func(name string, prio int, svcSel string) Pool {
		return Pool{Name: name, AutoAssign: true, ServiceAllocation: &ServiceAllocation{
			Priority: prio, ServiceSelectors: []labels.Selector{mustSelector(t, svcSel)},
		}}
	}
	byNSSelector := func(name string, prio int, nsSel string) Pool {
		return Pool{Name: name, AutoAssign: true, ServiceAllocation: &ServiceAllocation{
			Priority: prio, NamespaceSelectors: []labels.Selector{mustSelector(t, nsSel)},
		}}
	}
	tests := []struct {
		name  string
		pools []Pool // in name order, as Build returns them
		svc   ServiceRef
		want  []string
	}{
		{name: "no pools", svc: ServiceRef{Namespace: "web"}, want: nil},
		{
			name:  "open pools by name",
			pools: []Pool{open("a"), open("b"), open("c")},
			svc:   ServiceRef{Namespace: "web"},
			want:  []string{"a", "b", "c"},
		},
		{
			name:  "priority order, no priority last, ties by name, then open pools",
			pools: []Pool{pinned("a-none", 0, "web"), open("b-open"), pinned("c-ten", 10, "web"), pinned("d-one", 1, "web"), pinned("e-ten", 10, "web"), pinned("f-none", 0, "web"), open("g-open")},
			svc:   ServiceRef{Namespace: "web"},
			want:  []string{"d-one", "c-ten", "e-ten", "a-none", "f-none", "b-open", "g-open"},
		},
		{
			name:  "pools of other namespaces are left out",
			pools: []Pool{pinned("a", 1, "db"), pinned("b", 2, "web"), open("c")},
			svc:   ServiceRef{Namespace: "web"},
			want:  []string{"b", "c"},
		},
		{
			name:  "a service that matches no pinned pool gets only open pools",
			pools: []Pool{pinned("a", 1, "db"), open("b")},
			svc:   ServiceRef{Namespace: "web"},
			want:  []string{"b"},
		},
		{
			name:  "namespace selector",
			pools: []Pool{byNSSelector("a", 0, "team=blue"), byNSSelector("b", 1, "team=red"), open("c")},
			svc:   ServiceRef{Namespace: "web", NamespaceLabels: labels.Set{"team": "blue"}},
			want:  []string{"a", "c"},
		},
		{
			name:  "service selector",
			pools: []Pool{bySelector("a", 2, "tier=front"), bySelector("b", 1, "tier=front"), bySelector("c", 1, "tier=back")},
			svc:   ServiceRef{Namespace: "web", Labels: labels.Set{"tier": "front"}},
			want:  []string{"b", "a"},
		},
		{
			name:  "autoAssign false pools are left out",
			pools: []Pool{manual("a"), open("b"), {Name: "c", ServiceAllocation: &ServiceAllocation{Priority: 1}}},
			svc:   ServiceRef{Namespace: "web"},
			want:  []string{"b"},
		},
		{
			name:  "a named autoAssign false pool is the only candidate",
			pools: []Pool{manual("a"), open("b")},
			svc:   ServiceRef{Namespace: "web", Pool: "a"},
			want:  []string{"a"},
		},
		{
			name:  "a named open pool is the only candidate",
			pools: []Pool{pinned("a", 1, "web"), open("b")},
			svc:   ServiceRef{Namespace: "web", Pool: "b"},
			want:  []string{"b"},
		},
		{
			name:  "a named pool must still match its service allocation",
			pools: []Pool{pinned("a", 1, "db"), open("b")},
			svc:   ServiceRef{Namespace: "web", Pool: "a"},
			want:  nil,
		},
		{
			name:  "an unknown named pool gives nothing",
			pools: []Pool{open("b")},
			svc:   ServiceRef{Namespace: "web", Pool: "nope"},
			want:  nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Model{Pools: tt.pools}
			got := m.CandidatePools(tt.svc)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CandidatePools mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCandidatePoolsNilModel(t *testing.T) {
	var m *Model
	if got := m.CandidatePools(ServiceRef{Namespace: "x"}); got != nil {
		t.Errorf("CandidatePools on nil model = %v, want nil", got)
	}
	if got := m.CandidatePools(ServiceRef{Namespace: "x", Pool: "a"}); got != nil {
		t.Errorf("CandidatePools on nil model = %v, want nil", got)
	}
}
