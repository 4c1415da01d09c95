package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/fields"
	"sigs.k8s.io/controller-runtime/pkg/client"

	frrk8sv1beta1 "github.com/ironlb/ironlb/api/frrk8s/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta1"
	"github.com/ironlb/ironlb/api/v1beta2"
	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/controller/plan"
	"github.com/ironlb/ironlb/internal/scheme"
	"github.com/ironlb/ironlb/internal/status"
)

// statusConfig is everything ironlb status is told on its command line.
type statusConfig struct {
	// Kubeconfig is the kubeconfig file; empty follows kubectl's rules.
	Kubeconfig string
	// Namespace is ironlb's namespace.
	Namespace string
	// ServiceNamespace limits the Services shown; empty shows all.
	ServiceNamespace string
	// Output is outputText or outputJSON.
	Output string
	// LBClass is the loadBalancerClass ironlb serves.
	LBClass string
	// Now gives the time ages and uptimes are measured to.
	Now func() time.Time
}

// validate checks the configuration once, before anything runs.
func (c statusConfig) validate() error {
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

// statusFlags parses the command line into a validated statusConfig. Bad
// flags are an exitError with code 2 whose text ends with the usage; -h
// is flag.ErrHelp, after the usage is written to stderr.
func statusFlags(args []string, stderr io.Writer) (statusConfig, error) {
	cfg := statusConfig{Now: time.Now}
	fs := flag.NewFlagSet("ironlb status", flag.ContinueOnError)
	fs.StringVar(&cfg.Kubeconfig, "kubeconfig", "", "kubeconfig `file` (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)")
	fs.StringVar(&cfg.Namespace, "namespace", plan.DefaultNamespace, "ironlb's `namespace`, which holds its configuration and status objects")
	fs.StringVar(&cfg.ServiceNamespace, "service-namespace", "", "show only the Services of this `namespace` (default: all)")
	fs.StringVar(&cfg.ServiceNamespace, "n", "", "shorthand for --service-namespace")
	fs.StringVar(&cfg.Output, "o", outputText, "output `format`: text or json")
	fs.StringVar(&cfg.LBClass, "lb-class", "", "the loadBalancerClass ironlb serves (default: only Services without one)")
	head := "usage: ironlb status [-n SERVICE_NAMESPACE] [-o text|json] [--namespace NS] [--kubeconfig FILE] [--lb-class CLASS]\n" +
		"       kubectl ironlb status ... (with kubectl-ironlb on PATH, a link to ironlb)\n\n" +
		"Shows, from the API: each LoadBalancer Service's IPs, pool, mode and\nannouncing nodes; each node's BGP sessions (prefixes sent and received),\nlast FRR apply and FRRConfigurations; the pools; and the configuration\nerrors ironlb's components report.\n"
	if err := parseFlags(fs, args, head, stderr, func() error { return cfg.validate() }); err != nil {
		return statusConfig{}, err
	}
	return cfg, nil
}

// runStatus is the status subcommand: flags, a client, one report.
func runStatus(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	cfg, err := statusFlags(args, stderr)
	if err != nil {
		return err
	}
	restCfg, err := restConfig(cfg.Kubeconfig)
	if err != nil {
		return err
	}
	s, err := scheme.New()
	if err != nil {
		return err
	}
	c, err := client.New(restCfg, client.Options{Scheme: s})
	if err != nil {
		return fmt.Errorf("creating API client: %w", err)
	}
	return cfg.run(ctx, c, stdout, stderr)
}

// run reads the objects, builds the report and writes it to stdout.
func (c statusConfig) run(ctx context.Context, r client.Reader, stdout, stderr io.Writer) error {
	objs, err := c.load(ctx, r, stderr)
	if err != nil {
		return err
	}
	objs.Now = c.Now()
	rep := status.Build(objs)
	if c.Output == outputJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("writing the status: %w", err)
		}
		_, err = stdout.Write(append(b, '\n'))
		return err
	}
	return status.WriteText(stdout, rep)
}

// load lists what the report is built from. The events only explain
// pending Services: when they cannot be read, a warning goes to stderr
// and the report goes on without them.
func (c statusConfig) load(ctx context.Context, r client.Reader, stderr io.Writer) (status.Objects, error) {
	var (
		pools     v1beta1.IPAddressPoolList
		peers     v1beta2.BGPPeerList
		bgpAdvs   v1beta1.BGPAdvertisementList
		l2Advs    v1beta1.L2AdvertisementList
		bfds      v1beta1.BFDProfileList
		comms     v1beta1.CommunityList
		bgpStats  v1beta1.ServiceBGPStatusList
		l2Stats   v1beta1.ServiceL2StatusList
		speakers  v1beta1.SpeakerStatusList
		states    v1beta1.ConfigurationStateList
		services  corev1.ServiceList
		allocFail eventsv1.EventList
	)
	lists := []struct {
		what string
		list client.ObjectList
		ns   string
	}{
		{"IPAddressPools", &pools, c.Namespace},
		{"BGPPeers", &peers, c.Namespace},
		{"BGPAdvertisements", &bgpAdvs, c.Namespace},
		{"L2Advertisements", &l2Advs, c.Namespace},
		{"BFDProfiles", &bfds, c.Namespace},
		{"Communities", &comms, c.Namespace},
		{"ServiceBGPStatuses", &bgpStats, c.Namespace},
		{"ServiceL2Statuses", &l2Stats, c.Namespace},
		{"SpeakerStatuses", &speakers, c.Namespace},
		{"ConfigurationStates", &states, c.Namespace},
		{"Services", &services, c.ServiceNamespace},
	}
	for _, l := range lists {
		if err := r.List(ctx, l.list, client.InNamespace(l.ns)); err != nil {
			return status.Objects{}, fmt.Errorf("listing %s%s: %w", l.what, inNamespace(l.ns), err)
		}
	}
	err := r.List(ctx, &allocFail, client.InNamespace(c.ServiceNamespace),
		client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("reason", status.ReasonAllocationFailed)})
	if err != nil {
		if ctx.Err() != nil {
			return status.Objects{}, ctx.Err()
		}
		fmt.Fprintf(stderr, "ironlb status: warning: listing %s events%s: %v\n", status.ReasonAllocationFailed, inNamespace(c.ServiceNamespace), err)
	}
	// The node router's objects only add a section: when the frr-k8s
	// CRDs are missing or Nodes may not be read, a warning goes to stderr.
	var (
		frrCfgs    frrk8sv1beta1.FRRConfigurationList
		nodeStates frrk8sv1beta1.FRRNodeStateList
		nodes      corev1.NodeList
	)
	for _, l := range []struct {
		what string
		list client.ObjectList
		ns   string
	}{
		{"FRRConfigurations", &frrCfgs, c.Namespace},
		{"FRRNodeStates", &nodeStates, ""},
		{"Nodes", &nodes, ""},
	} {
		if err := r.List(ctx, l.list, client.InNamespace(l.ns)); err != nil {
			if ctx.Err() != nil {
				return status.Objects{}, ctx.Err()
			}
			fmt.Fprintf(stderr, "ironlb status: warning: listing %s%s: %v\n", l.what, inNamespace(l.ns), err)
		}
	}
	return status.Objects{
		FRRConfigurations: frrCfgs.Items,
		FRRNodeStates:     nodeStates.Items,
		Nodes:             nodes.Items,
		Config: config.Objects{
			Namespace:         c.Namespace,
			Pools:             pools.Items,
			BGPPeers:          peers.Items,
			BGPAdvertisements: bgpAdvs.Items,
			L2Advertisements:  l2Advs.Items,
			BFDProfiles:       bfds.Items,
			Communities:       comms.Items,
		},
		Services:            services.Items,
		BGPStatuses:         bgpStats.Items,
		L2Statuses:          l2Stats.Items,
		Speakers:            speakers.Items,
		ConfigurationStates: states.Items,
		Events:              allocFail.Items,
		LBClass:             c.LBClass,
	}, nil
}

// inNamespace is " in NS", or "" for all namespaces.
func inNamespace(ns string) string {
	if ns == "" {
		return ""
	}
	return " in " + ns
}
