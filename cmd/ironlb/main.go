// Command ironlb is ironlb's single binary. Its subcommands wire the
// packages together; the logic lives in the packages.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand: it parses its own flags and runs until done
// or until ctx ends.
type command struct {
	name  string
	short string
	run   func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{name: "controller", short: "allocate IPs to LoadBalancer Services (runs in the cluster)", run: runController},
		{name: "speaker", short: "announce Service IPs from this node over BGP (runs on every node)", run: runSpeaker},
		{name: "frr-agent", short: "apply frr.conf and report FRR status for the speaker (runs in the FRR container)", run: runFRRAgent},
		{name: "copy-binary", short: "copy this binary to a path (the speaker pod's init container)", run: runCopyBinary},
		{name: "demo", short: "bring up the lab with speakers and show BGP, ECMP, Layer 2 and failovers (root)", run: runDemo},
		{name: "plan", short: "show the IPs the controller would allocate, offline, from manifests", run: runPlan},
		{name: "migrate", short: "migrate check: what switching from MetalLB to ironlb would do, read from the cluster", run: runMigrate},
		{name: "status", short: "show Services, announcing nodes, BGP sessions and configuration errors from the API", run: runStatus},
		{name: "lab", short: "run the end-to-end lab on this machine (root): lab up, lab down", run: runLab},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdin, stdout, stderr)
		var ee *exitError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ee):
			fmt.Fprintf(stderr, "ironlb %s: %v\n", c.name, ee.err)
			return ee.code
		default:
			fmt.Fprintf(stderr, "ironlb %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "ironlb: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ironlb <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.short)
	}
}
