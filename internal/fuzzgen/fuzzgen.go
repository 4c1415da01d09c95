// Package fuzzgen turns a fuzz target's bytes into the objects a user
// can write: the metallb.io configuration kinds, Secrets and Services,
// with every field filled. Strings come mostly from a vocabulary of
// values that mean something to ironlb (names that other objects refer
// to, addresses, ranges, communities, annotations), and otherwise are
// arbitrary, so that the fuzzer reaches past the first parse error.
// Only tests import it.
package fuzzgen

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/randfill"

	"github.com/ironlb/ironlb/config"
)

// Namespace is the namespace of ironlb's objects in generated sets.
const Namespace = "metallb-system"

// names are object names, so that references resolve often.
var names = []string{"a", "b", "web", "tor", "fast", "gold", "default", ""}

// values are field values that mean something to some field.
var values = []string{
	"192.0.2.0/24", "192.0.2.10-192.0.2.20", "192.0.2.1", "192.0.2.255/32", "198.51.100.0/31",
	"2001:db8::/120", "2001:db8::1", "2001:db8::1-2001:db8::10", "2001:db8::/0", "0.0.0.0/0",
	"::ffff:192.0.2.1", "fe80::1%eth0", "192.0.2.20-192.0.2.10", "192.0.2.1/33", "1.2.3.4,5.6.7.8",
	"65000:1", "large:1:2:3", "4294967295:1", "no-export", "gold", "65536:1",
	"eth0", "eth*", "lo", "vrf-red", "default",
	"metallb.io/address-pool", "metallb.io/allow-shared-ip", "metallb.io/loadBalancerIPs",
	"metallb.universe.tf/address-pool", "metallb.universe.tf/loadBalancerIPs", "metallb.universe.tf/allow-shared-ip",
	"password", "key", "kubernetes.io/basic-auth", "Opaque", " ", "\n", "a\nb", "\x00",
}

// Filler returns a randfill.Filler driven by data.
func Filler(data []byte) *randfill.Filler {
	return randfill.NewFromGoFuzz(data).NilChance(0.3).NumElements(0, 3).MaxDepth(8).Funcs(
		func(s *string, c randfill.Continue) {
			switch c.Intn(4) {
			case 0:
				*s = c.String(0)
			case 1:
				*s = names[c.Intn(len(names))]
			default:
				*s = values[c.Intn(len(values))]
			}
		},
		func(m *metav1.ObjectMeta, c randfill.Continue) {
			m.Name = names[c.Intn(len(names))]
			if c.Intn(4) == 0 {
				c.Fill(&m.Namespace)
			} else {
				m.Namespace = Namespace
			}
			c.Fill(&m.Labels)
			c.Fill(&m.Annotations)
			if c.Bool() {
				m.CreationTimestamp = metav1.NewTime(time.Unix(c.Int63n(1<<32), 0))
			}
		},
		func(d *metav1.Duration, c randfill.Continue) {
			durations := []time.Duration{0, time.Second, 3 * time.Second, 90 * time.Second, time.Hour * 24 * 365, -time.Second, time.Millisecond, 65535 * time.Second}
			if c.Bool() {
				d.Duration = durations[c.Intn(len(durations))]
			} else {
				d.Duration = time.Duration(c.Int63())
			}
		},
		func(t *corev1.ServiceType, c randfill.Continue) {
			types := []corev1.ServiceType{corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeClusterIP, ""}
			*t = types[c.Intn(len(types))]
		},
		func(f *corev1.IPFamily, c randfill.Continue) {
			fams := []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol, "", "IPv5"}
			*f = fams[c.Intn(len(fams))]
		},
		func(p *corev1.IPFamilyPolicy, c randfill.Continue) {
			pols := []corev1.IPFamilyPolicy{corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack, "Other"}
			*p = pols[c.Intn(len(pols))]
		},
		func(t *corev1.SecretType, c randfill.Continue) {
			types := []corev1.SecretType{corev1.SecretTypeBasicAuth, corev1.SecretTypeOpaque, "other"}
			*t = types[c.Intn(len(types))]
		},
		func(p *corev1.ServiceExternalTrafficPolicy, c randfill.Continue) {
			pols := []corev1.ServiceExternalTrafficPolicy{corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal, ""}
			*p = pols[c.Intn(len(pols))]
		},
		func(o *metav1.LabelSelectorOperator, c randfill.Continue) {
			ops := []metav1.LabelSelectorOperator{metav1.LabelSelectorOpIn, metav1.LabelSelectorOpNotIn, metav1.LabelSelectorOpExists, metav1.LabelSelectorOpDoesNotExist, "Gt"}
			*o = ops[c.Intn(len(ops))]
		},
	)
}

// Objects returns a configuration object set made from data.
func Objects(data []byte) config.Objects {
	o := config.Objects{Namespace: Namespace}
	f := Filler(data)
	f.Fill(&o.Pools)
	f.Fill(&o.BGPPeers)
	f.Fill(&o.BGPAdvertisements)
	f.Fill(&o.L2Advertisements)
	f.Fill(&o.BFDProfiles)
	f.Fill(&o.Communities)
	f.Fill(&o.Secrets)
	return o
}

// Services returns Services made from data, in the objects' namespace or
// others.
func Services(data []byte) []*corev1.Service {
	var svcs []corev1.Service
	f := Filler(data).NumElements(1, 6)
	f.Fill(&svcs)
	out := make([]*corev1.Service, len(svcs))
	for i := range svcs {
		out[i] = &svcs[i]
	}
	return out
}
