package plan

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"text/tabwriter"
)

// none fills an empty cell, as kubectl does.
const none = "<none>"

// notAnnounced fills the ADVERTISEMENTS cell of a Service with IPs that
// no advertisement announces.
const notAnnounced = "<not announced>"

// WriteText writes the result as kubectl-like tables: the Services
// (NAMESPACE NAME IPS POOL ADVERTISEMENTS ERROR), the notes if any, then
// the pools.
func WriteText(w io.Writer, r *Result) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tNAME\tIPS\tPOOL\tADVERTISEMENTS\tERROR")
	for _, s := range r.Services {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Namespace, s.Name, orNone(ipList(s.IPs)), orNone(s.Pool), advertisementsCell(s), s.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	var notes []string
	for _, s := range r.Services {
		if s.Note != "" {
			notes = append(notes, s.Key()+": "+s.Note)
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(&buf, "\nNOTES\n%s\n", strings.Join(notes, "\n"))
	}

	buf.WriteString("\n")
	tw = tabwriter.NewWriter(&buf, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "POOL\tIPV4 ASSIGNED\tIPV4 AVAILABLE\tIPV6 ASSIGNED\tIPV6 AVAILABLE")
	for _, p := range r.Pools {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", p.Name, p.AssignedIPv4, p.AvailableIPv4, p.AssignedIPv6, p.AvailableIPv6)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := w.Write(trimLines(buf.Bytes()))
	return err
}

// trimLines drops the spaces tabwriter leaves at the end of lines whose
// last cells are empty.
func trimLines(b []byte) []byte {
	lines := bytes.Split(b, []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimRight(l, " ")
	}
	return bytes.Join(lines, []byte("\n"))
}

// ipList joins IPs with commas and no spaces, so a cell stays one field.
func ipList(ips []netip.Addr) string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return strings.Join(s, ",")
}

func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

// advertisementsCell lists the advertisements that announce a Service,
// as bgp/NAME and l2/NAME, comma-separated.
func advertisementsCell(s Service) string {
	switch {
	case len(s.IPs) == 0:
		return none
	case !s.Announced():
		return notAnnounced
	}
	cells := make([]string, 0, len(s.BGPAdvertisements)+len(s.L2Advertisements))
	for _, a := range s.BGPAdvertisements {
		cells = append(cells, "bgp/"+a)
	}
	for _, a := range s.L2Advertisements {
		cells = append(cells, "l2/"+a)
	}
	return strings.Join(cells, ",")
}
