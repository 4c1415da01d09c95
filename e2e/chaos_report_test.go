package e2e

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"text/tabwriter"
	"time"
)

// chaosFault is one fault the chaos soak injected: its kind, what it hit
// and when it began; healed is when the lab was whole again.
type chaosFault struct {
	kind   string
	target string
	at     time.Time
	healed time.Time
}

// noFault is the kind of the outages seen before the first fault.
const noFault = "none"

// outageRun is one run of failed probes of a client: from the last
// answered probe before it to the first answered one after it (by
// sending time), or to the last probe when none answered after it;
// failed is when its first failed probe was sent.
type outageRun struct {
	from   time.Time
	failed time.Time
	d      time.Duration
}

// outageRuns returns the runs of failed probes in probes (sorted by
// sending time). A run with no answered probe before it starts at its
// first failed probe.
func outageRuns(probes []probe) []outageRun {
	var (
		out     []outageRun
		last    time.Time // last answered probe
		first   time.Time // first failed probe of the current run
		failing bool
	)
	for _, p := range probes {
		if p.node == "" {
			if !failing {
				failing, first = true, p.sent
			}
			continue
		}
		if failing {
			from := last
			if from.IsZero() {
				from = first
			}
			out = append(out, outageRun{from: from, failed: first, d: p.sent.Sub(from)})
			failing = false
		}
		last = p.sent
	}
	if failing {
		from := last
		if from.IsZero() {
			from = first
		}
		end := probes[len(probes)-1].sent
		out = append(out, outageRun{from: from, failed: first, d: end.Sub(from)})
	}
	return out
}

// attribute returns the index in faults (sorted by start) of the fault
// an outage beginning at t belongs to: the last one that began at or
// before t; -1 when none had.
func attribute(faults []chaosFault, t time.Time) int {
	i := sort.Search(len(faults), func(i int) bool { return faults[i].at.After(t) })
	return i - 1
}

// faultOutages is, per fault, the longest outage each client saw while
// it was the most recent fault; before is the longest outage before the
// first fault.
type faultOutages struct {
	longest [][]time.Duration // [fault][client]
	before  []time.Duration   // [client]
}

// outagesByFault attributes every client's outages to the faults, each
// to the latest fault begun before its first failed probe: the last
// answer may come just before a fault begins.
func outagesByFault(faults []chaosFault, clients [][]probe) faultOutages {
	fo := faultOutages{longest: make([][]time.Duration, len(faults)), before: make([]time.Duration, len(clients))}
	for i := range faults {
		fo.longest[i] = make([]time.Duration, len(clients))
	}
	for c, probes := range clients {
		for _, r := range outageRuns(probes) {
			i := attribute(faults, r.failed)
			if i < 0 {
				fo.before[c] = max(fo.before[c], r.d)
				continue
			}
			fo.longest[i][c] = max(fo.longest[i][c], r.d)
		}
	}
	return fo
}

// kindStats sums up the faults of one kind for one client.
type kindStats struct {
	kind    string
	count   int
	longest time.Duration
	p99     time.Duration
	// hit counts the faults of the kind with an outage of the client.
	hit int
}

// statsByKind returns, per fault kind (sorted by name) and client, the
// count, the longest outage and the 99th percentile of the faults'
// longest outages (a fault without an outage counts as 0).
func statsByKind(faults []chaosFault, fo faultOutages, clients int) [][]kindStats {
	byKind := map[string][]int{}
	for i, f := range faults {
		byKind[f.kind] = append(byKind[f.kind], i)
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	out := make([][]kindStats, 0, len(kinds))
	for _, k := range kinds {
		row := make([]kindStats, clients)
		for c := range clients {
			ds := make([]time.Duration, 0, len(byKind[k]))
			for _, i := range byKind[k] {
				ds = append(ds, fo.longest[i][c])
			}
			s := kindStats{kind: k, count: len(ds), p99: percentile(ds, 0.99)}
			for _, d := range ds {
				s.longest = max(s.longest, d)
				if d > 0 {
					s.hit++
				}
			}
			row[c] = s
		}
		out = append(out, row)
	}
	return out
}

// percentile returns the q-th quantile of ds by the nearest-rank method;
// 0 for none.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// printChaosTable writes the per-kind table: one row per fault kind,
// with each client's longest and p99 outage and how many of the faults
// cut it off at all.
func printChaosTable(w io.Writer, stats [][]kindStats, clientNames []string, before []time.Duration) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprint(tw, "fault\tcount")
	for _, c := range clientNames {
		fmt.Fprintf(tw, "\t%s longest\t%s p99\t%s hit", c, c, c)
	}
	fmt.Fprintln(tw)
	for _, row := range stats {
		fmt.Fprintf(tw, "%s\t%d", row[0].kind, row[0].count)
		for _, s := range row {
			fmt.Fprintf(tw, "\t%v\t%v\t%d", s.longest.Round(time.Millisecond), s.p99.Round(time.Millisecond), s.hit)
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "%s\t-", noFault)
	for _, d := range before {
		fmt.Fprintf(tw, "\t%v\t-\t-", d.Round(time.Millisecond))
	}
	fmt.Fprintln(tw)
	_ = tw.Flush()
}
