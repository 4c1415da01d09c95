package migrate

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/controller/assign"
	"github.com/ironlb/ironlb/request"
)

// Input is what Check reads of the cluster.
type Input struct {
	// Namespace is where ironlb will run and read its metallb.io objects.
	Namespace string
	// Objects are the metallb.io objects of Namespace as the API returns
	// them, so that fields ironlb's types lack show.
	Objects []unstructured.Unstructured
	// Secrets are the Secrets BGPPeers may name.
	Secrets     []corev1.Secret
	Services    []corev1.Service
	Namespaces  []corev1.Namespace
	Nodes       []corev1.Node
	Deployments []appsv1.Deployment
	DaemonSets  []appsv1.DaemonSet
	// ConfigMaps are the ConfigMaps of Namespace (MetalLB's bgpextras).
	ConfigMaps []corev1.ConfigMap
	// LBClass is the --lb-class ironlb will run with.
	LBClass string
	// IgnoreExcludeLB says whether ironlb's speakers will run with
	// --ignore-exclude-lb.
	IgnoreExcludeLB bool
}

// The legacy annotations MetalLB v0.16 still reads, and its own legacy
// pool annotation, which it deletes when it writes the current one.
const (
	legacyPrefix            = "metallb.universe.tf/"
	legacyAllocatedFromPool = legacyPrefix + "ip-allocated-from-pool"
	// ExcludeLBLabel keeps a node out of external load balancers; MetalLB's
	// speakers honour it unless run with --ignore-exclude-lb.
	ExcludeLBLabel = "node.kubernetes.io/exclude-from-external-load-balancers"
	// bgpExtrasConfigMap holds FRR configuration MetalLB's FRR mode appends.
	bgpExtrasConfigMap = "bgpextras"
)

// Check predicts what ironlb does when it takes over from MetalLB.
func Check(in Input) Report {
	rep := Report{Namespace: in.Namespace, MetalLB: components(in.Deployments, in.DaemonSets)}
	c := checker{in: in, rep: &rep}
	metallbClass := c.metallb()

	for _, cm := range in.ConfigMaps {
		if cm.Name == bgpExtrasConfigMap {
			c.add(Warning, fmt.Sprintf("ConfigMap %s/%s", cm.Namespace, cm.Name), "", "MetalLB appends this FRR configuration to its own; ironlb does not read it, so what it sets (route maps, prefix lists, extra neighbors) is lost")
		}
	}
	objs := config.Objects{Namespace: in.Namespace, Secrets: in.Secrets}
	rep.Findings = append(rep.Findings, convert(in.Objects, &objs)...)
	model, err := config.Build(objs)
	if err != nil {
		c.configErrors(err)
	}
	c.services(model, metallbClass)

	slices.SortStableFunc(rep.Findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Severity.rank(), b.Severity.rank()), cmp.Compare(a.Object, b.Object), cmp.Compare(a.Field, b.Field))
	})
	for _, f := range rep.Findings {
		if f.Severity == Blocking {
			rep.Blocking++
		}
	}
	for _, s := range rep.Services {
		if s.Verdict.Blocking() {
			rep.Blocking++
		}
	}
	return rep
}

type checker struct {
	in  Input
	rep *Report
}

func (c *checker) add(sev Severity, object, field, format string, args ...any) {
	c.rep.Findings = append(c.rep.Findings, Finding{Severity: sev, Object: object, Field: field, Message: fmt.Sprintf(format, args...)})
}

// metallb checks MetalLB's components and returns the --lb-class it
// serves.
func (c *checker) metallb() string {
	if len(c.rep.MetalLB) == 0 {
		c.add(Info, "", "", "no MetalLB controller or speaker found (removed already, or an image not named metallb/controller or metallb/speaker): Services are compared with MetalLB v0.16's defaults")
		return ""
	}
	var lbClass string
	classFound := false
	for _, m := range c.rep.MetalLB {
		if !strings.HasPrefix(m.Version, "v0.16.") && m.Version != "v0.16" {
			c.add(Warning, m.object(), "image", "MetalLB %s: ironlb follows v0.16; read the release notes of the versions in between", cmp.Or(m.Version, "without a version tag"))
		}
		if m.Namespace != c.in.Namespace {
			c.add(Blocking, m.object(), "", "MetalLB runs in namespace %s, ironlb would read its configuration from %s: install ironlb in %s (and run this check with --namespace %s)", m.Namespace, c.in.Namespace, m.Namespace, m.Namespace)
		}
		if v, ok := m.flag("lb-class"); ok && !classFound {
			lbClass, classFound = v, true
		}
		if v, ok := m.flag("bgp-type"); ok && v == "frr-k8s" {
			c.add(Warning, m.object(), "--bgp-type", "MetalLB runs in frr-k8s mode: ironlb renders its own FRR configuration and does not read FRRConfiguration objects; sessions or routes set up only through them are not kept")
		}
		if m.Role == "speaker" {
			c.excludeLB(m)
			port := "7946"
			if v, ok := m.flag("ml-bindport"); ok {
				port = v
			}
			c.add(Warning, m.object(), "--ml-bindport", "MetalLB's speakers bind memberlist on port %s of the host network: while both run, give ironlb's speakers another memberlist port (chart value speaker.memberlist.port)", port)
		}
	}
	if lbClass != c.in.LBClass {
		c.add(Warning, "", "--lb-class", "MetalLB serves loadBalancerClass %q, ironlb would serve %q: run ironlb (and this check) with --lb-class=%s", lbClass, c.in.LBClass, lbClass)
	}
	return lbClass
}

// excludeLB compares MetalLB's speakers and ironlb's on the nodes that
// carry the exclude-from-external-load-balancers label.
func (c *checker) excludeLB(speaker Component) {
	v, _ := speaker.flag("ignore-exclude-lb")
	metallbIgnores := v == "true"
	if metallbIgnores == c.in.IgnoreExcludeLB {
		return
	}
	var labelled []string
	for _, n := range c.in.Nodes {
		if _, ok := n.Labels[ExcludeLBLabel]; ok {
			labelled = append(labelled, n.Name)
		}
	}
	slices.Sort(labelled)
	switch {
	case metallbIgnores && len(labelled) > 0:
		c.add(Blocking, speaker.object(), "--ignore-exclude-lb", "MetalLB's speakers announce from nodes labelled %s (%s); ironlb's would not: run ironlb's speakers with --ignore-exclude-lb", ExcludeLBLabel, strings.Join(labelled, ", "))
	case metallbIgnores:
		c.add(Warning, speaker.object(), "--ignore-exclude-lb", "MetalLB's speakers run with --ignore-exclude-lb and ironlb's would not: no node carries %s now, but one that gets it would stop announcing", ExcludeLBLabel)
	case len(labelled) > 0:
		c.add(Warning, speaker.object(), "--ignore-exclude-lb", "ironlb's speakers would also announce from nodes labelled %s (%s), which MetalLB's leave out", ExcludeLBLabel, strings.Join(labelled, ", "))
	}
}

// configErrors reports why ironlb refuses the configuration.
func (c *checker) configErrors(err error) {
	fes := config.Errors(err)
	if len(fes) == 0 {
		c.add(Blocking, "", "", "ironlb refuses the configuration (it would allocate and announce nothing): %v", err)
		return
	}
	for _, fe := range fes {
		c.add(Blocking, fmt.Sprintf("%s %s/%s", fe.Kind, c.in.Namespace, fe.Name), fe.Field, "ironlb refuses it (and would then allocate and announce nothing): %s", fe.Reason)
	}
}

// services gives every Service MetalLB or ironlb serves its verdict.
func (c *checker) services(model *config.Model, metallbClass string) {
	nsLabels := map[string]map[string]string{}
	for _, ns := range c.in.Namespaces {
		nsLabels[ns.Name] = ns.Labels
	}
	var handled []assign.Service
	for i := range c.in.Services {
		svc := &c.in.Services[i]
		byMetalLB, byIronlb := metallbServes(svc, metallbClass), request.Handled(svc, c.in.LBClass)
		if !byMetalLB && !byIronlb {
			continue
		}
		c.annotations(svc)
		out := Service{Namespace: svc.Namespace, Name: svc.Name, IPs: ingress(svc), Pool: svc.Annotations[request.AnnotationAllocatedFromPool]}
		switch {
		case !byIronlb:
			out.Verdict, out.Reason = Unserved, fmt.Sprintf("ironlb run with --lb-class=%q does not serve loadBalancerClass %s: its IPs would no longer be announced", c.in.LBClass, className(svc.Spec.LoadBalancerClass))
		case !byMetalLB:
			out.Verdict, out.Reason = Taken, fmt.Sprintf("MetalLB run with --lb-class=%q leaves loadBalancerClass %s to another load balancer; ironlb would serve it", metallbClass, className(svc.Spec.LoadBalancerClass))
		case model == nil:
			out.Verdict, out.Reason = Unknown, "ironlb refuses the configuration (see the findings)"
		default:
			handled = append(handled, assign.Service{Svc: svc, NamespaceLabels: nsLabels[svc.Namespace]})
			continue
		}
		c.rep.Services = append(c.rep.Services, out)
	}
	if model != nil {
		c.assign(model, handled)
	}
	slices.SortFunc(c.rep.Services, func(a, b Service) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
}

// assign runs the controller's decisions: every IP in status booked
// first (oldest Service first), then every Service ensured, those with
// IPs before the others.
func (c *checker) assign(model *config.Model, svcs []assign.Service) {
	a, err := assign.New(model)
	if err != nil {
		c.add(Blocking, "", "", "building the allocator: %v", err)
		return
	}
	refused := a.RestoreAll(svcs)
	slices.SortStableFunc(svcs, func(x, y assign.Service) int {
		hx, hy := len(x.Svc.Status.LoadBalancer.Ingress) > 0, len(y.Svc.Status.LoadBalancer.Ingress) > 0
		if hx != hy {
			if hx {
				return -1
			}
			return 1
		}
		return cmp.Or(x.Svc.CreationTimestamp.Compare(y.Svc.CreationTimestamp.Time), cmp.Compare(x.Key(), y.Key()))
	})
	for _, s := range svcs {
		out := Service{Namespace: s.Svc.Namespace, Name: s.Svc.Name, IPs: ingress(s.Svc), Pool: s.Svc.Annotations[request.AnnotationAllocatedFromPool]}
		res, err := a.Ensure(s)
		got := strs(res.IPs)
		switch {
		case len(out.IPs) == 0 && err != nil:
			out.Verdict, out.Reason = Pending, err.Error()
		case len(out.IPs) == 0:
			out.Verdict, out.NewIPs, out.NewPool = Pending, got, res.Pool
		case err != nil:
			out.Verdict, out.Reason = Moved, fmt.Sprintf("its IPs are refused (%v) and it would get none: %v", refused[s.Key()], err)
		case !sameSet(out.IPs, got):
			out.Verdict, out.NewIPs, out.NewPool = Moved, got, res.Pool
			out.Reason = "ironlb would choose other IPs"
			if err := refused[s.Key()]; err != nil {
				out.Reason = fmt.Sprintf("its IPs are refused: %v", err)
			}
		default:
			out.Verdict = Kept
			if out.Pool != res.Pool {
				out.NewPool = res.Pool
				out.Reason = fmt.Sprintf("the pool annotation becomes %q, the pool that holds the IPs", res.Pool)
			}
			c.preferDualStack(s.Svc, out.IPs)
		}
		c.rep.Services = append(c.rep.Services, out)
	}
}

// annotations reports the annotations ironlb reads differently.
func (c *checker) annotations(svc *corev1.Service) {
	obj := fmt.Sprintf("Service %s/%s", svc.Namespace, svc.Name)
	keys := make([]string, 0, len(svc.Annotations))
	for k := range svc.Annotations {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case k == legacyAllocatedFromPool:
			c.add(Info, obj, "annotations["+k+"]", "MetalLB removes this legacy annotation when it writes %s; ironlb leaves it (it reads neither)", request.AnnotationAllocatedFromPool)
		case strings.HasPrefix(k, legacyPrefix):
			c.add(Warning, obj, "annotations["+k+"]", "legacy spelling, read as MetalLB reads it; write metallb.io/%s instead", strings.TrimPrefix(k, legacyPrefix))
		}
	}
	if _, err := request.Parse(svc); err != nil {
		c.add(Warning, obj, "", "ironlb refuses its request: %v", err)
	}
}

// preferDualStack notes a PreferDualStack Service with one IP: MetalLB
// adds the missing family when the pool has it, ironlb keeps the one IP.
func (c *checker) preferDualStack(svc *corev1.Service, ips []string) {
	p := svc.Spec.IPFamilyPolicy
	if p == nil || *p != corev1.IPFamilyPolicyPreferDualStack || len(svc.Spec.IPFamilies) < 2 || len(ips) != 1 {
		return
	}
	c.add(Info, fmt.Sprintf("Service %s/%s", svc.Namespace, svc.Name), "spec.ipFamilyPolicy", "PreferDualStack with one IP: MetalLB would add an IP of the other family when its pool has one; ironlb keeps the one IP")
}

func ingress(svc *corev1.Service) []string {
	var out []string
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			out = append(out, in.IP)
		}
	}
	return out
}

func strs(ips []netip.Addr) []string {
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

// sameSet compares IP lists in any order, parsing them so that two
// spellings of one IPv6 address are equal.
func sameSet(a, b []string) bool {
	norm := func(l []string) []string {
		out := make([]string, 0, len(l))
		for _, s := range l {
			if ip, err := netip.ParseAddr(s); err == nil {
				s = ip.String()
			}
			out = append(out, s)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(norm(a), norm(b))
}

// className is a Service's loadBalancerClass for messages.
func className(c *string) string {
	if c == nil {
		return "(none)"
	}
	return strconv.Quote(*c)
}
