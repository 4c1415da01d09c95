package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ironlb/ironlb/e2e/lab"
)

// Settings of the chaos soak, from the environment.
const (
	// chaosDurationEnv sets how long faults are injected (default 30m).
	chaosDurationEnv = "IRONLB_CHAOS_DURATION"
	// chaosSeedEnv sets the seed of the fault schedule and the churn
	// (default: the clock); the soak logs the seed it used.
	chaosSeedEnv = "IRONLB_CHAOS_SEED"
)

// Timing of the chaos soak.
const (
	faultGapMin = 20 * time.Second
	faultGapMax = 60 * time.Second
	// healBound is how long the lab may take to be whole again after a
	// fault before the soak notes it and goes on.
	healBound = 3 * time.Minute
	// settleBound is how long every Service may take to be announced
	// once the faults and the churn have stopped.
	settleBound = 2 * time.Minute
)

// BenchmarkChaos is the chaos soak: for IRONLB_CHAOS_DURATION (default
// 30m) it injects a random fault every 20-60 s (node partition, speaker
// SIGKILL, FRR daemon kill, router restart, API server restart,
// controller leader kill; each round of six is a shuffle of all kinds),
// heals the lab after each, while a client probes a BGP Service from
// ilb-cli and another a Layer 2 Service from ilb-lcli every 10 ms, and a
// Service is created or deleted every second. It reports, per fault
// kind, the count and each client's longest and p99 outage (an outage is
// a run of failed probes, given to the latest fault begun before its
// first failed probe),
// and overall the Service IPs that moved, the IPs two Services held at
// once and the Services left unannounced after the soak. Run it with:
//
//	go test ./e2e -run '^$' -bench Chaos -benchtime 1x -timeout 60m
func BenchmarkChaos(b *testing.B) {
	soak := 30 * time.Minute
	if v := os.Getenv(chaosDurationEnv); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("%s: %v", chaosDurationEnv, err)
		}
		soak = d
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(chaosSeedEnv); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			b.Fatalf("%s: %v", chaosSeedEnv, err)
		}
		seed = s
	}
	b.Logf("chaos soak: %v of faults, seed %d (%s=%d repeats the schedule)", soak, seed, chaosSeedEnv, seed)

	l := startL2Lab(b)
	ctx := b.Context()
	if err := l.Kube().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: chaosNamespace}}); err != nil {
		b.Fatalf("creating namespace %s: %v", chaosNamespace, err)
	}
	c := &chaosLab{
		l:      l,
		h:      newL2Harness(b, l),
		router: newRouterFRR(b, l),
		ctrl:   startControllers(b, l),
		rng:    rand.New(rand.NewPCG(seed, 0)),
	}
	b.Cleanup(func() {
		if b.Failed() {
			c.repair(b)
		}
	})
	c.bgpIP, _ = serviceOnAllNodes(b, l, "chaos-probe-bgp")
	l2IP := createL2Service(b, l, l2ServiceSpec{name: "chaos-probe-l2", endpoints: allNodes()})[0]
	if missing := c.heal(b, healBound); missing != "" {
		b.Fatalf("the lab is not whole before the soak: %s", missing)
	}
	waitClientReaches(b, l2IP, waitOwner(b, l, "chaos-probe-l2", nil))

	tracker := newIPTracker(l)
	churn := newChurner(l, seed, tracker)
	bgpProbe := startProber(b, lab.RemoteClientNetns, serviceURL(c.bgpIP), probeInterval, probeDeadline)
	l2Probe := startProber(b, lab.LANClientNetns, serviceURL(l2IP), probeInterval, probeDeadline)
	b.Cleanup(func() { bgpProbe.stop(); l2Probe.stop() })
	bgCtx, stopBackground := context.WithCancel(ctx)
	var bg sync.WaitGroup
	bg.Go(func() { tracker.run(bgCtx) })
	bg.Go(func() { churn.run(bgCtx) })
	b.Cleanup(func() { stopBackground(); bg.Wait() })

	b.ResetTimer()
	begin := time.Now()
	var (
		faults   []chaosFault
		unhealed = map[string]int{}
		round    []string
	)
	next := begin.Add(c.between(faultGapMin, faultGapMax))
	for next.Before(begin.Add(soak)) {
		time.Sleep(time.Until(next))
		if len(round) == 0 {
			round = slices.Clone(chaosKinds)
			c.rng.Shuffle(len(round), func(i, j int) { round[i], round[j] = round[j], round[i] })
		}
		kind := round[0]
		round = round[1:]
		f := chaosFault{kind: kind, at: time.Now()}
		f.target = c.inject(b, kind)
		missing := c.heal(b, healBound)
		f.healed = time.Now()
		if missing != "" {
			unhealed[kind]++
			b.Logf("%s %s: the lab was not whole %v later: %s", kind, f.target, healBound, missing)
		}
		b.Logf("%s %s at %s, whole again after %v", kind, f.target, f.at.Format("15:04:05.000"), f.healed.Sub(f.at).Round(time.Millisecond))
		faults = append(faults, f)
		next = f.at.Add(c.between(faultGapMin, faultGapMax))
		if next.Before(f.healed) {
			next = f.healed
		}
	}
	// A quiet period after the last fault, so that its outages end.
	time.Sleep(faultGapMin)
	stopBackground()
	bg.Wait()
	clients := [][]probe{bgpProbe.stop(), l2Probe.stop()}
	b.StopTimer()

	var missing []string
	for settleBy := time.Now().Add(settleBound); ; {
		checkCtx, cancel := context.WithTimeout(ctx, time.Minute)
		var err error
		missing, err = unannounced(checkCtx, l)
		cancel()
		if err != nil {
			missing = []string{err.Error()}
		}
		if len(missing) == 0 || time.Now().After(settleBy) {
			break
		}
		time.Sleep(time.Second)
	}
	moved, dups, lists := tracker.result()

	fo := outagesByFault(faults, clients)
	stats := statsByKind(faults, fo, len(clients))
	var table strings.Builder
	printChaosTable(&table, stats, []string{"bgp", "l2"}, fo.before)
	for i, f := range faults {
		fmt.Fprintf(&table, "%s %s %s: whole after %v; longest outage bgp %v, l2 %v\n", f.at.Format("15:04:05.000"), f.kind, f.target,
			f.healed.Sub(f.at).Round(time.Millisecond), fo.longest[i][0].Round(time.Millisecond), fo.longest[i][1].Round(time.Millisecond))
	}
	for ci, name := range []string{"bgp", "l2"} {
		for _, r := range outageRuns(clients[ci]) {
			if r.d >= 200*time.Millisecond {
				fmt.Fprintf(&table, "%s outage from %s for %v\n", name, r.from.Format("15:04:05.000"), r.d.Round(time.Millisecond))
			}
		}
	}
	fmt.Fprintf(&table, "heal: ")
	for _, k := range chaosKinds {
		fmt.Fprintf(&table, "%s longest %v, not whole in %v: %d; ", k, longestHeal(faults, k).Round(time.Millisecond), healBound, unhealed[k])
	}
	fmt.Fprintf(&table, "\nallocation wait (create to IP, by the fault most recent at the create): ")
	waits := allocationWaitsByKind(faults, tracker.allocationWaits())
	for _, k := range append([]string{noFault}, chaosKinds...) {
		fmt.Fprintf(&table, "%s %v; ", k, waits[k].Round(time.Millisecond))
	}
	fmt.Fprintf(&table, "\nfaults %d over %v (seed %d); churn: %d creates, %d deletes, %d failed steps; %d lists of Services\n",
		len(faults), soak, seed, churn.creates, churn.deletes, churn.failed, lists)
	fmt.Fprintf(&table, "processes that exited by themselves and were started again: %d\n", c.revived)
	fmt.Fprintf(&table, "probes: bgp %d (%d lost), l2 %d (%d lost)\n", len(clients[0]), lostProbes(clients[0]), len(clients[1]), lostProbes(clients[1]))
	fmt.Fprintf(&table, "IPs moved: %d %v\nduplicate IPs: %d %v\nunannounced after %v: %d %v\n", len(moved), moved, len(dups), dups, settleBound, len(missing), missing)
	fmt.Fprint(os.Stdout, table.String())
	b.Log("\n" + table.String())

	for _, row := range stats {
		for ci, name := range []string{"bgp", "l2"} {
			s := row[ci]
			if ci == 0 {
				b.ReportMetric(float64(s.count), s.kind+"-count")
			}
			b.ReportMetric(float64(s.longest.Milliseconds()), s.kind+"-"+name+"-longest-ms")
			b.ReportMetric(float64(s.p99.Milliseconds()), s.kind+"-"+name+"-p99-ms")
		}
	}
	keepLogs(b, l)
	b.ReportMetric(float64(len(faults)), "faults")
	b.ReportMetric(float64(len(moved)), "ips-moved")
	b.ReportMetric(float64(len(dups)), "duplicate-ips")
	b.ReportMetric(float64(len(missing)), "unannounced")
	b.ReportMetric(float64(c.revived), "self-exits")
	b.ReportMetric(0, "ns/op")
}

// longestHeal returns the longest time from a fault of kind to the lab
// whole again.
func longestHeal(faults []chaosFault, kind string) time.Duration {
	var d time.Duration
	for _, f := range faults {
		if f.kind == kind {
			d = max(d, f.healed.Sub(f.at))
		}
	}
	return d
}

// allocationWaitsByKind returns the longest allocation wait per fault
// kind, each given to the latest fault begun before the create.
func allocationWaitsByKind(faults []chaosFault, waits map[time.Time]time.Duration) map[string]time.Duration {
	out := map[string]time.Duration{}
	for at, d := range waits {
		kind := noFault
		if i := attribute(faults, at); i >= 0 {
			kind = faults[i].kind
		}
		out[kind] = max(out[kind], d)
	}
	return out
}

func lostProbes(probes []probe) int {
	n := 0
	for _, p := range probes {
		if p.node == "" {
			n++
		}
	}
	return n
}

// keepLogs copies every log of the lab's processes into
// $IRONLB_E2E_KEEP_LOGS when that names a folder, also after a run that
// passed: the soak's outages are read from them.
func keepLogs(b *testing.B, l *lab.Lab) {
	dir := os.Getenv("IRONLB_E2E_KEEP_LOGS")
	if dir == "" {
		return
	}
	for _, p := range l.Processes() {
		data, err := os.ReadFile(p.Log)
		if err != nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, p.Name+".log"), data, 0o644); err != nil {
			b.Logf("keeping the log of %s: %v", p.Name, err)
		}
	}
}
