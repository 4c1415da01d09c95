package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/controller/plan"
	"github.com/ironlb/ironlb/internal/manifest"
)

// The output formats of ironlb plan.
const (
	outputText = "text"
	outputJSON = "json"
	outputYAML = "yaml"
)

// planConfig is everything ironlb plan is told on its command line.
type planConfig struct {
	// Files are manifest files and folders; "-" is standard input.
	Files []string
	// Output is outputText, outputJSON or outputYAML.
	Output string
	// Namespace is ironlb's namespace, which holds the metallb.io objects.
	Namespace string
	// LBClass is the loadBalancerClass ironlb serves; empty for Services
	// without a class only.
	LBClass string
}

// validate checks the configuration once, before anything runs.
func (c planConfig) validate() error {
	if len(c.Files) == 0 {
		return errors.New("no manifests: give at least one -f FILE_OR_DIR (or -f - for standard input)")
	}
	switch c.Output {
	case outputText, outputJSON, outputYAML:
	default:
		return fmt.Errorf("-o %q: want %s, %s or %s", c.Output, outputJSON, outputYAML, outputText)
	}
	if c.Namespace == "" {
		return errors.New("--namespace must not be empty")
	}
	return nil
}

// fileList is a repeatable flag.
type fileList []string

func (f *fileList) String() string { return strings.Join(*f, ",") }

func (f *fileList) Set(v string) error {
	if v == "" {
		return errors.New("empty path")
	}
	*f = append(*f, v)
	return nil
}

// planFlags parses the command line into a validated planConfig. Bad
// flags are an exitError with code 2 whose text ends with the usage;
// -h is flag.ErrHelp, after the usage is written to stderr.
func planFlags(args []string, stderr io.Writer) (planConfig, error) {
	var cfg planConfig
	fs := flag.NewFlagSet("ironlb plan", flag.ContinueOnError)
	fs.Var((*fileList)(&cfg.Files), "f", "manifest `FILE_OR_DIR` (every *.yaml, *.yml, *.json of a folder); repeatable; - reads standard input")
	fs.StringVar(&cfg.Output, "o", outputText, "output `format`: json, yaml or text")
	fs.StringVar(&cfg.Namespace, "namespace", plan.DefaultNamespace, "ironlb's `namespace`; the metallb.io objects must be in it or have none")
	fs.StringVar(&cfg.LBClass, "lb-class", "", "the loadBalancerClass ironlb serves (default: only Services without one)")
	head := "usage: ironlb plan -f FILE_OR_DIR ... [-o json|yaml|text] [--namespace NS] [--lb-class CLASS]\n\n" +
		"Shows the IPs the controller would give the LoadBalancer Services of the\nmanifests, without a cluster.\n"
	if err := parseFlags(fs, args, head, stderr, func() error { return cfg.validate() }); err != nil {
		return planConfig{}, err
	}
	return cfg, nil
}

// runPlan is the plan subcommand: flags, then one offline plan.
func runPlan(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := planFlags(args, stderr)
	if err != nil {
		return err
	}
	return cfg.run(ctx, stdin, stdout, stderr)
}

// run plans the manifests and writes the result to stdout. Documents of
// kinds ironlb does not read are summed up on one line of stderr.
func (c planConfig) run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	set, err := manifest.Load(c.Files, stdin)
	if err != nil {
		return err
	}
	if n := len(set.Skipped); n > 0 {
		fmt.Fprintf(stderr, "ironlb plan: skipped %d %s of kinds ironlb does not read (first: %s)\n",
			n, plural(n, "document", "documents"), set.Skipped[0])
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	res, err := plan.Plan(set, plan.Options{Namespace: c.Namespace, LBClass: c.LBClass})
	if err != nil {
		return &exitError{code: 1, err: configMessage(err)}
	}
	out, err := c.render(res)
	if err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	_, err = stdout.Write(out)
	return err
}

// render formats the result in the configured output format.
func (c planConfig) render(res *plan.Result) ([]byte, error) {
	switch c.Output {
	case outputJSON:
		b, err := json.MarshalIndent(res, "", "  ")
		return append(b, '\n'), err
	case outputYAML:
		return yaml.Marshal(res)
	}
	var b strings.Builder
	err := plan.WriteText(&b, res)
	return []byte(b.String()), err
}

// configMessage lists the problems of an invalid configuration one per
// line, each naming the object and field; other errors are kept as they
// are.
func configMessage(err error) error {
	fes := config.Errors(err)
	if len(fes) < 2 {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "invalid configuration, %d problems:", len(fes))
	for _, fe := range fes {
		b.WriteString("\n  ")
		b.WriteString(fe.Error())
	}
	return &listedError{msg: b.String(), err: err}
}

// listedError gives err another text.
type listedError struct {
	msg string
	err error
}

func (e *listedError) Error() string { return e.msg }
func (e *listedError) Unwrap() error { return e.err }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
