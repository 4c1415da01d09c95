package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/controller/plan"
	"github.com/ironlb/ironlb/internal/scheme"
	"github.com/ironlb/ironlb/migrate"
)

// migrateConfig is everything `ironlb migrate check` is told on its
// command line.
type migrateConfig struct {
	// Kubeconfig is the kubeconfig file; empty follows kubectl's rules.
	Kubeconfig string
	// Namespace is where ironlb will run and read the metallb.io objects.
	Namespace string
	// Output is outputText or outputJSON.
	Output string
	// LBClass is the --lb-class ironlb will run with.
	LBClass string
	// IgnoreExcludeLB says whether ironlb's speakers will run with
	// --ignore-exclude-lb.
	IgnoreExcludeLB bool
}

// exitBlocking is the exit code of a check that found something that
// would move an IP or drop an announcement.
const exitBlocking = 3

func (c migrateConfig) validate() error {
	switch c.Output {
	case outputText, outputJSON:
	default:
		return fmt.Errorf("-o %q: want %s or %s", c.Output, outputText, outputJSON)
	}
	if c.Namespace == "" {
		return errors.New("--namespace must not be empty")
	}
	return nil
}

const migrateUsage = "usage: ironlb migrate check [-o text|json] [--namespace NS] [--lb-class CLASS] [--ignore-exclude-lb] [--kubeconfig FILE]\n\n" +
	"Reads a cluster that runs MetalLB (its metallb.io objects, Services, nodes,\n" +
	"and MetalLB's controller and speakers) and prints what switching to ironlb\n" +
	"would do: every Service and its IP (kept, or moved and why), what ironlb\n" +
	"reads differently, and what it cannot serve. It only reads (get and list).\n" +
	"Exit code 0: safe; 3: something would move an IP or drop an announcement;\n" +
	"1: the cluster could not be read; 2: bad flags.\n"

// migrateFlags parses the flags after `migrate check`.
func migrateFlags(args []string, stderr io.Writer) (migrateConfig, error) {
	cfg := migrateConfig{}
	fs := flag.NewFlagSet("ironlb migrate check", flag.ContinueOnError)
	fs.StringVar(&cfg.Kubeconfig, "kubeconfig", "", "kubeconfig `file` (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)")
	fs.StringVar(&cfg.Namespace, "namespace", plan.DefaultNamespace, "the `namespace` ironlb will run in and read its metallb.io objects from (MetalLB's)")
	fs.StringVar(&cfg.Output, "o", outputText, "output `format`: text or json")
	fs.StringVar(&cfg.LBClass, "lb-class", "", "the loadBalancerClass ironlb will serve (its --lb-class)")
	fs.BoolVar(&cfg.IgnoreExcludeLB, "ignore-exclude-lb", false, "ironlb's speakers will run with --ignore-exclude-lb")
	if err := parseFlags(fs, args, migrateUsage, stderr, func() error { return cfg.validate() }); err != nil {
		return migrateConfig{}, err
	}
	return cfg, nil
}

// runMigrate is the migrate subcommand; check is its one action.
func runMigrate(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	switch {
	case len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help"):
		fmt.Fprint(stderr, migrateUsage)
		return flag.ErrHelp
	case len(args) == 0 || args[0] != "check":
		return &exitError{code: 2, err: fmt.Errorf("want `migrate check`\n\n%s", migrateUsage)}
	}
	cfg, err := migrateFlags(args[1:], stderr)
	if err != nil {
		return err
	}
	restCfg, err := restConfig(cfg.Kubeconfig)
	if err != nil {
		return err
	}
	return cfg.run(ctx, restCfg, stdout)
}

// run reads the cluster through a read-only client, checks and prints.
func (c migrateConfig) run(ctx context.Context, restCfg *rest.Config, stdout io.Writer) error {
	rc := rest.CopyConfig(restCfg)
	rc.Wrap(func(rt http.RoundTripper) http.RoundTripper { return readOnly{next: rt} })
	s, err := scheme.New()
	if err != nil {
		return err
	}
	cl, err := client.New(rc, client.Options{Scheme: s})
	if err != nil {
		return fmt.Errorf("creating API client: %w", err)
	}
	in, err := c.load(ctx, cl)
	if err != nil {
		return err
	}
	rep := migrate.Check(in)
	if c.Output == outputJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
		if _, err := stdout.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("writing the report: %w", err)
		}
	} else if err := migrate.WriteText(stdout, rep); err != nil {
		return err
	}
	if !rep.Safe() {
		return &exitError{code: exitBlocking, err: fmt.Errorf("%d blocking: the switch would move an IP or drop an announcement", rep.Blocking)}
	}
	return nil
}

// metallbKinds are the metallb.io kinds ironlb reads, at the versions it
// reads them.
func metallbKinds() []schema.GroupVersionKind {
	gvk := func(v, k string) schema.GroupVersionKind {
		return schema.GroupVersionKind{Group: "metallb.io", Version: v, Kind: k + "List"}
	}
	return []schema.GroupVersionKind{
		gvk("v1beta1", "IPAddressPool"), gvk("v1beta2", "BGPPeer"), gvk("v1beta1", "BGPAdvertisement"),
		gvk("v1beta1", "L2Advertisement"), gvk("v1beta1", "BFDProfile"), gvk("v1beta1", "Community"),
	}
}

// load lists what the check reads. The metallb.io objects come
// unstructured, so that fields ironlb's types lack are seen; a kind
// whose CRD is not installed has no objects.
func (c migrateConfig) load(ctx context.Context, r client.Reader) (migrate.Input, error) {
	in := migrate.Input{Namespace: c.Namespace, LBClass: c.LBClass, IgnoreExcludeLB: c.IgnoreExcludeLB}
	for _, gvk := range metallbKinds() {
		var l unstructured.UnstructuredList
		l.SetGroupVersionKind(gvk)
		err := r.List(ctx, &l, client.InNamespace(c.Namespace))
		switch {
		case meta.IsNoMatchError(err):
			continue
		case err != nil:
			return in, fmt.Errorf("listing %s in %s: %w", gvk.Kind, c.Namespace, err)
		}
		in.Objects = append(in.Objects, l.Items...)
	}
	var (
		secrets  corev1.SecretList
		services corev1.ServiceList
		nss      corev1.NamespaceList
		nodes    corev1.NodeList
		deps     appsv1.DeploymentList
		dss      appsv1.DaemonSetList
		cms      corev1.ConfigMapList
	)
	lists := []struct {
		what string
		list client.ObjectList
		ns   string
	}{
		{"Secrets", &secrets, c.Namespace},
		{"Services", &services, ""},
		{"Namespaces", &nss, ""},
		{"Nodes", &nodes, ""},
		{"Deployments", &deps, ""},
		{"DaemonSets", &dss, ""},
		{"ConfigMaps", &cms, c.Namespace},
	}
	for _, l := range lists {
		if err := r.List(ctx, l.list, client.InNamespace(l.ns)); err != nil {
			return in, fmt.Errorf("listing %s%s: %w", l.what, inNamespace(l.ns), err)
		}
	}
	in.Secrets, in.Services, in.Namespaces, in.Nodes = secrets.Items, services.Items, nss.Items, nodes.Items
	in.Deployments, in.DaemonSets, in.ConfigMaps = deps.Items, dss.Items, cms.Items
	return in, nil
}

// readOnly refuses every request that is not a read, so that the check
// cannot change the cluster whatever the code above it does.
type readOnly struct{ next http.RoundTripper }

func (t readOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return nil, fmt.Errorf("ironlb migrate check only reads: refused %s %s", req.Method, req.URL.Path)
	}
	return t.next.RoundTrip(req)
}
