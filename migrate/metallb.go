package migrate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// metallbRole returns "controller" or "speaker" for MetalLB's images,
// from any registry (quay.io/metallb/controller:v0.16.1,
// metallb/speaker@sha256:...), and "" for any other image.
func metallbRole(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	for _, role := range []string{"controller", "speaker"} {
		if image == "metallb/"+role || strings.HasSuffix(image, "/metallb/"+role) {
			return role
		}
	}
	return ""
}

// behaviourFlag reports whether a MetalLB flag changes which Services or
// nodes it serves, how it speaks BGP, or what it binds on the host.
func behaviourFlag(name string) bool {
	switch name {
	case "lb-class", "ignore-exclude-lb", "bgp-type", "ml-bindport":
		return true
	}
	return false
}

// components finds MetalLB's controller and speakers among the
// workloads, controllers first, then by namespace and name.
func components(deps []appsv1.Deployment, dss []appsv1.DaemonSet) []Component {
	var out []Component
	add := func(kind, ns, name string, spec corev1.PodSpec) {
		for _, c := range spec.Containers {
			role := metallbRole(c.Image)
			if role == "" {
				continue
			}
			out = append(out, Component{
				Role: role, Kind: kind, Namespace: ns, Name: name,
				Image: c.Image, Version: imageTag(c.Image), Flags: flags(c),
			})
		}
	}
	for _, d := range deps {
		add("Deployment", d.Namespace, d.Name, d.Spec.Template.Spec)
	}
	for _, d := range dss {
		add("DaemonSet", d.Namespace, d.Name, d.Spec.Template.Spec)
	}
	slices.SortFunc(out, func(a, b Component) int {
		return cmp.Or(cmp.Compare(a.Role, b.Role), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// imageTag returns the tag of an image reference, or "".
func imageTag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	last := image[strings.LastIndex(image, "/")+1:]
	_, tag, ok := strings.Cut(last, ":")
	if !ok {
		return ""
	}
	return tag
}

// flags returns the container's behaviourFlags as name=value, from its
// command and args (--name=value, --name value, -name, a bare boolean)
// and from MetalLB's METALLB_BGP_TYPE and METALLB_ML_BIND_PORT variables.
func flags(c corev1.Container) []string {
	args := append(slices.Clone(c.Command), c.Args...)
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !behaviourFlag(name) {
			continue
		}
		if !hasValue {
			if name == "ignore-exclude-lb" {
				value = "true"
			} else if i+1 < len(args) {
				value = args[i+1]
				i++
			}
		}
		out = append(out, name+"="+value)
	}
	for _, e := range c.Env {
		switch {
		case e.Value == "":
		case e.Name == "METALLB_BGP_TYPE":
			out = append(out, "bgp-type="+e.Value)
		case e.Name == "METALLB_ML_BIND_PORT":
			out = append(out, "ml-bindport="+e.Value)
		}
	}
	return out
}

// flag returns the value of a flag of the component, and whether it is
// set.
func (c Component) flag(name string) (string, bool) {
	for _, f := range c.Flags {
		if n, v, _ := strings.Cut(f, "="); n == name {
			return v, true
		}
	}
	return "", false
}

func (c Component) object() string {
	return fmt.Sprintf("%s %s/%s", c.Kind, c.Namespace, c.Name)
}

// metallbServes reports whether MetalLB, run with that --lb-class, serves
// the Service: without the flag only Services without a class, with it
// only Services of that class.
func metallbServes(svc *corev1.Service, lbClass string) bool {
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return false
	}
	if lbClass == "" {
		return svc.Spec.LoadBalancerClass == nil
	}
	return svc.Spec.LoadBalancerClass != nil && *svc.Spec.LoadBalancerClass == lbClass
}
