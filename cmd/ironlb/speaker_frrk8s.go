package main

import (
	"flag"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/fields"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	frrk8s "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/speaker"
)

// The BGP backends of `ironlb speaker`, named as MetalLB's
// METALLB_BGP_TYPE values.
const (
	// bgpTypeFRR: the speaker applies frr.conf to the FRR of its pod,
	// through the frr-agent sidecar.
	bgpTypeFRR = "frr"
	// bgpTypeFRRK8s: the speaker writes the node's FRRConfiguration and
	// an existing frr-k8s applies it.
	bgpTypeFRRK8s = "frr-k8s"
)

// defaultFRRK8sNamespace is where frr-k8s's own manifests install it.
const defaultFRRK8sNamespace = "frr-k8s-system"

// bgpFlags are the flags that choose the speaker's BGP backend.
type bgpFlags struct {
	// bgpType is --bgp-type.
	bgpType string
	// frrk8sNamespace is --frrk8s-namespace.
	frrk8sNamespace string
}

func (f *bgpFlags) register(fs *flag.FlagSet) (finish func() []error) {
	fs.StringVar(&f.bgpType, "bgp-type", envOr("METALLB_BGP_TYPE", bgpTypeFRR),
		`BGP backend: "frr" applies frr.conf to the FRR of the speaker's pod (through -frr-agent-socket); "frr-k8s" writes the node's FRRConfiguration "ironlb-NODE" into -frrk8s-namespace for an existing frr-k8s to apply (default: $METALLB_BGP_TYPE, else frr)`)
	fs.StringVar(&f.frrk8sNamespace, "frrk8s-namespace", envOr("FRRK8S_NAMESPACE", defaultFRRK8sNamespace),
		"with -bgp-type=frr-k8s: the namespace frr-k8s reads FRRConfigurations from (default: $FRRK8S_NAMESPACE, else "+defaultFRRK8sNamespace+")")
	return func() []error {
		switch f.bgpType {
		case bgpTypeFRR:
			return nil
		case bgpTypeFRRK8s:
			if f.frrk8sNamespace == "" {
				return []error{fmt.Errorf("-frrk8s-namespace must be set with -bgp-type=%s", bgpTypeFRRK8s)}
			}
			return nil
		}
		return []error{fmt.Errorf("-bgp-type %q is neither %s nor %s (MetalLB's native BGP is not offered)", f.bgpType, bgpTypeFRR, bgpTypeFRRK8s)}
	}
}

// frrk8s returns the speaker's frr-k8s mode configuration; nil unless
// -bgp-type=frr-k8s.
func (f *bgpFlags) frrk8s() *speaker.FRRK8sConfig {
	if f.bgpType != bgpTypeFRRK8s {
		return nil
	}
	return &speaker.FRRK8sConfig{Namespace: f.frrk8sNamespace}
}

// cacheOwnFRRConfiguration has the cache hold, in frr-k8s mode, only the
// node's own FRRConfiguration: the speaker watches it to undo changes by
// others, and reads no other.
func (f *bgpFlags) cacheOwnFRRConfiguration(opts *cache.Options, node string) {
	if f.bgpType != bgpTypeFRRK8s {
		return
	}
	own := fields.OneTermEqualSelector("metadata.name", speaker.FRRK8sConfigName(node))
	// ByObject is keyed by object, not kind: drop the node router's
	// entry for the kind (speakerCache), which this mode replaces.
	for o := range opts.ByObject {
		if _, ok := o.(*frrk8s.FRRConfiguration); ok {
			delete(opts.ByObject, o)
		}
	}
	opts.ByObject[&frrk8s.FRRConfiguration{}] = cache.ByObject{Namespaces: map[string]cache.Config{f.frrk8sNamespace: {FieldSelector: own}}}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
