package migrate

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for people: MetalLB's components, every
// Service with its verdict, the findings and the result.
func WriteText(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }

	p("METALLB\n")
	if len(r.MetalLB) == 0 {
		p("  none found\n")
	}
	for _, m := range r.MetalLB {
		p("  %s\t%s %s/%s\t%s", m.Role, m.Kind, m.Namespace, m.Name, m.Image)
		if len(m.Flags) > 0 {
			p("\t--%s", strings.Join(m.Flags, " --"))
		}
		p("\n")
	}

	p("\nSERVICES\n")
	if len(r.Services) == 0 {
		p("  none\n")
	} else {
		p("  NAMESPACE\tNAME\tIPS\tPOOL\tRESULT\tDETAIL\n")
	}
	for _, s := range r.Services {
		p("  %s\t%s\t%s\t%s\t%s\t%s\n", s.Namespace, s.Name, dash(strings.Join(s.IPs, ",")), dash(s.Pool), s.Verdict, detail(s))
	}

	p("\nFINDINGS\n")
	if len(r.Findings) == 0 {
		p("  none\n")
	}
	for _, f := range r.Findings {
		what := f.Object
		if f.Field != "" {
			what = strings.TrimSpace(what + " " + f.Field)
		}
		p("  %s\t%s\t%s\n", strings.ToUpper(string(f.Severity)), dash(what), f.Message)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	var err error
	if r.Safe() {
		_, err = fmt.Fprintf(w, "\nRESULT: safe: every IP stays where it is and every served Service stays announced (namespace %s)\n", r.Namespace)
	} else {
		_, err = fmt.Fprintf(w, "\nRESULT: %d blocking: the switch would move an IP or drop an announcement; fix these first\n", r.Blocking)
	}
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	return nil
}

// detail is the DETAIL column: the new IPs or pool, and the reason.
func detail(s Service) string {
	var parts []string
	if len(s.NewIPs) > 0 {
		parts = append(parts, "gets "+strings.Join(s.NewIPs, ",")+" from "+s.NewPool)
	} else if s.NewPool != "" {
		parts = append(parts, "pool annotation becomes "+s.NewPool)
	}
	if s.Reason != "" && !(s.Verdict == Kept && s.NewPool != "") {
		parts = append(parts, s.Reason)
	}
	return dash(strings.Join(parts, "; "))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
