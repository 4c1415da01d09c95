package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// parseFlags parses a subcommand's flags. head is the usage text above the
// flag list. -h prints the usage to stderr and returns flag.ErrHelp; a bad
// flag, a stray argument or a validate error returns an exit code 2 error
// carrying the usage.
func parseFlags(fs *flag.FlagSet, args []string, head string, stderr io.Writer, validate func() error) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	usage := func() string {
		var b strings.Builder
		b.WriteString(head)
		b.WriteString("\nflags:\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		return b.String()
	}
	bad := func(err error) error {
		return &exitError{code: 2, err: fmt.Errorf("%w\n\n%s", err, strings.TrimRight(usage(), "\n"))}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usage())
			return err
		}
		return bad(err)
	}
	if fs.NArg() > 0 {
		return bad(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if err := validate(); err != nil {
		return bad(err)
	}
	return nil
}
