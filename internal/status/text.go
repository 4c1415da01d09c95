package status

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
)

// none fills an empty cell, as kubectl does.
const none = "<none>"

// WriteText writes the report as kubectl-like tables, one section per
// heading: SERVICES (with NOTES), NODES, SESSIONS, NODE ROUTER, POOLS,
// CONFIGURATION and CONFIGURATION ERRORS. Sections with nothing to show say so in one
// line, or are left out when their absence says enough.
func WriteText(w io.Writer, r Report) error {
	var out bytes.Buffer
	for _, section := range []func(*bytes.Buffer, Report){writeServices, writeNodes, writeSessions, writeNodeRouter, writePools, writeConfiguration} {
		var buf bytes.Buffer
		section(&buf, r)
		if buf.Len() == 0 {
			continue
		}
		if out.Len() > 0 {
			out.WriteString("\n")
		}
		out.Write(buf.Bytes())
	}
	_, err := w.Write(trimLines(out.Bytes()))
	return err
}

// table writes rows through a tabwriter with kubectl's spacing.
func table(buf *bytes.Buffer, header string, rows [][]string) {
	tw := tabwriter.NewWriter(buf, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, row := range rows {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	_ = tw.Flush() // writes to a bytes.Buffer never fail
}

func writeServices(buf *bytes.Buffer, r Report) {
	buf.WriteString("SERVICES\n")
	if len(r.Services) == 0 {
		buf.WriteString("No LoadBalancer Services found.\n")
		return
	}
	var rows [][]string
	var notes []string
	for _, s := range r.Services {
		ips := strings.Join(s.IPs, ",")
		if ips == "" {
			ips = "<pending>"
		}
		rows = append(rows, []string{s.Namespace, s.Name, ips, orNone(s.Pool), orNone(string(s.Mode)), announcers(s.Announcers)})
		if s.Note != "" {
			notes = append(notes, s.Key()+": "+oneLine(s.Note))
		}
	}
	table(buf, "NAMESPACE\tNAME\tIPS\tPOOL\tMODE\tANNOUNCED BY", rows)
	if len(notes) > 0 {
		buf.WriteString("\nNOTES\n" + strings.Join(notes, "\n") + "\n")
	}
}

// announcers renders the announcing nodes in one cell:
// "node-a: BGP to peer-1,peer-2; node-b: L2 on eth0".
func announcers(list []Announcer) string {
	if len(list) == 0 {
		return none
	}
	parts := make([]string, 0, len(list))
	for _, a := range list {
		var how []string
		if a.BGP != nil {
			h := "BGP"
			if len(a.BGP.Peers) > 0 {
				h += " to " + strings.Join(a.BGP.Peers, ",")
			}
			how = append(how, h)
		}
		if a.L2 != nil {
			h := "L2"
			if len(a.L2.Interfaces) > 0 {
				h += " on " + strings.Join(a.L2.Interfaces, ",")
			}
			how = append(how, h)
		}
		parts = append(parts, a.Node+": "+strings.Join(how, ", "))
	}
	return strings.Join(parts, "; ")
}

func writeNodes(buf *bytes.Buffer, r Report) {
	buf.WriteString("NODES\n")
	if len(r.Nodes) == 0 {
		buf.WriteString("No SpeakerStatus objects found: is the speaker running?\n")
		return
	}
	var rows [][]string
	var failures []string
	for _, n := range r.Nodes {
		row := []string{n.Name, orNone(n.Phase), fmt.Sprintf("%d/%d", n.Established(), len(n.Sessions)), none, "", "", ""}
		if a := n.LastApply; a != nil {
			row[3] = "ok"
			if !a.Succeeded {
				row[3] = "failed"
				if a.Stage != "" {
					row[3] += " (" + a.Stage + ")"
				}
				failures = append(failures, applyFailure(n.Name, a))
			}
			row[4] = applyPath(a.Path)
			row[5] = (time.Duration(a.DurationMilliseconds) * time.Millisecond).String()
			row[6] = ago(a.Time, a.AgeSeconds)
		}
		rows = append(rows, row)
	}
	table(buf, "NODE\tPHASE\tESTABLISHED\tLAST APPLY\tPATH\tDURATION\tAPPLIED", rows)
	if len(failures) > 0 {
		buf.WriteString("\nFAILED APPLIES\n" + strings.Join(failures, "\n") + "\n")
	}
}

// applyPath names the way an apply went; "none" (nothing to change)
// would read like an empty cell.
func applyPath(p string) string {
	if p == "none" {
		return "unchanged"
	}
	return orNone(p)
}

// applyFailure says why a node's last apply failed, FRR's message
// indented below.
func applyFailure(node string, a *Apply) string {
	s := node + ": the last apply failed"
	if a.Stage != "" {
		s += " at stage " + a.Stage
	}
	msg := strings.TrimSpace(a.Message)
	if msg == "" {
		return s
	}
	return s + ":\n  " + strings.ReplaceAll(msg, "\n", "\n  ")
}

// ago renders the age of an event: a human duration when the report has
// a time, else the time itself.
func ago(t time.Time, seconds int64) string {
	if seconds > 0 {
		return duration.HumanDuration(time.Duration(seconds)*time.Second) + " ago"
	}
	if t.IsZero() {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

func writeSessions(buf *bytes.Buffer, r Report) {
	var rows [][]string
	for _, n := range r.Nodes {
		for _, s := range n.Sessions {
			uptime := none
			if s.UptimeSeconds > 0 {
				uptime = duration.HumanDuration(time.Duration(s.UptimeSeconds) * time.Second)
			} else if s.Since != nil {
				uptime = "since " + s.Since.UTC().Format(time.RFC3339)
			}
			rows = append(rows, []string{
				n.Name, s.Peer, orNone(s.Address), cmp.Or(s.VRF, "default"), orNone(s.State), uptime,
				fmt.Sprint(s.PrefixesSent), fmt.Sprint(s.PrefixesReceived), orNone(s.BFD), oneLine(s.LastError),
			})
		}
	}
	if len(rows) == 0 {
		return // no BGP session anywhere: the NODES table shows 0/0
	}
	buf.WriteString("SESSIONS\n")
	table(buf, "NODE\tPEER\tADDRESS\tVRF\tSTATE\tUPTIME\tSENT\tRECEIVED\tBFD\tLAST ERROR", rows)
}

// writeNodeRouter shows, per node, the FRRConfigurations that select it
// and its FRRNodeState's results; nothing when no node has any.
func writeNodeRouter(buf *bytes.Buffer, r Report) {
	var rows [][]string
	var failures []string
	for _, n := range r.Nodes {
		nr := n.Router
		if nr == nil {
			continue
		}
		cfgs := none
		if len(nr.FRRConfigurations) > 0 {
			cfgs = strings.Join(nr.FRRConfigurations, ",")
		}
		conv, reload := result(nr.ConversionResult), result(nr.ReloadResult)
		if conv == "failed" {
			failures = append(failures, n.Name+": "+nr.ConversionResult+"\n  (the node keeps its last valid configuration)")
		}
		if reload == "failed" {
			failures = append(failures, n.Name+": reload "+nr.ReloadResult)
		}
		rows = append(rows, []string{n.Name, cfgs, conv, reload})
	}
	if len(rows) == 0 {
		return
	}
	buf.WriteString("NODE ROUTER\n")
	table(buf, "NODE\tFRRCONFIGURATIONS SELECTING\tCONVERSION\tRELOAD", rows)
	if len(failures) > 0 {
		buf.WriteString("\nNODE ROUTER ERRORS\n" + strings.Join(failures, "\n") + "\n")
	}
}

// result shortens an FRRNodeState result for a table cell.
func result(s string) string {
	switch {
	case s == "":
		return none
	case s == "success":
		return "ok"
	}
	return "failed"
}

func writePools(buf *bytes.Buffer, r Report) {
	buf.WriteString("POOLS\n")
	if len(r.Pools) == 0 {
		buf.WriteString("No IPAddressPools found.\n")
		return
	}
	var rows [][]string
	for _, p := range r.Pools {
		rows = append(rows, []string{p.Name, string(p.Mode),
			fmt.Sprint(p.AssignedIPv4), fmt.Sprint(p.AvailableIPv4), fmt.Sprint(p.AssignedIPv6), fmt.Sprint(p.AvailableIPv6)})
	}
	table(buf, "POOL\tMODE\tIPV4 ASSIGNED\tIPV4 AVAILABLE\tIPV6 ASSIGNED\tIPV6 AVAILABLE", rows)
}

func writeConfiguration(buf *bytes.Buffer, r Report) {
	buf.WriteString("CONFIGURATION\n")
	if len(r.Configuration) == 0 {
		buf.WriteString("No ConfigurationState objects found: is the controller running?\n")
	} else {
		var rows [][]string
		for _, c := range r.Configuration {
			rows = append(rows, []string{c.Name, orNone(c.Component), orNone(c.Node), c.Result})
		}
		table(buf, "NAME\tCOMPONENT\tNODE\tRESULT", rows)
	}
	if len(r.ConfigErrors) == 0 {
		return
	}
	buf.WriteString("\nCONFIGURATION ERRORS\n")
	for _, e := range r.ConfigErrors {
		fmt.Fprintf(buf, "%s\n  reported by: %s\n", e.Error, strings.Join(e.ReportedBy, ", "))
	}
}

// oneLine keeps a message in one table cell.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
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

func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}
