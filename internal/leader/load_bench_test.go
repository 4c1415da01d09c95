package leader

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/ironlb/ironlb/internal/testenv"
)

// BenchmarkStandbyLeaseRequests measures what a standby replica asks of
// the API server about the Lease while the leader renews it (the chart's
// timing: 15s / 10s / 2s), from the API server's own request counters:
// with client-go's polling alone, and with the Follower. The leader's
// renewals (PUT) are not counted. Run with -benchtime 1x; each case
// watches for 60s.
//
//	go test ./internal/leader -run '^$' -bench StandbyLeaseRequests -benchtime 1x
func BenchmarkStandbyLeaseRequests(b *testing.B) {
	env := testenv.Start(b, testenv.Options{})
	def := Config{LeaseDuration: DefaultLeaseDuration, RenewDeadline: DefaultRenewDeadline, RetryPeriod: DefaultRetryPeriod}
	const window = 60 * time.Second
	for _, tc := range []struct {
		name   string
		follow bool
	}{{"poll", false}, {"follower", true}} {
		b.Run(tc.name, func(b *testing.B) {
			lease := "bench-" + tc.name
			quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
			elect := func(ctx context.Context, name string, follow bool) {
				el, err := NewElection(env.Config, def, testNamespace, lease, name, quiet)
				if err != nil {
					b.Fatal(err)
				}
				lock := el.Lock
				if follow {
					go func() { _ = el.Follower.Run(ctx) }()
				} else {
					// What the lock was before the follower: the guard over
					// client-go's Lease lock.
					lock = el.Lock.(*guardedLock).Interface.(*followingLock).Interface
				}
				le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
					Lock: lock, LeaseDuration: def.LeaseDuration, RenewDeadline: def.RenewDeadline, RetryPeriod: def.RetryPeriod,
					Callbacks: leaderelection.LeaderCallbacks{OnStartedLeading: func(context.Context) {}, OnStoppedLeading: func() {}},
				})
				if err != nil {
					b.Fatal(err)
				}
				go le.Run(ctx)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			elect(ctx, "leader", false)
			time.Sleep(3 * time.Second)
			elect(ctx, "standby", tc.follow)
			time.Sleep(3 * time.Second)
			before := leaseRequests(b, env)
			time.Sleep(window)
			after := leaseRequests(b, env)
			for _, verb := range []string{"GET", "LIST", "WATCH"} {
				b.ReportMetric(float64(after[verb]-before[verb])/window.Seconds(), verb+"/s")
			}
		})
	}
}

// leaseRequests reads the API server's count of requests on Leases, by
// verb.
func leaseRequests(b *testing.B, env *testenv.Env) map[string]int {
	b.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		b.Fatalf("reading the API server's metrics: %v", err)
	}
	out := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") || !strings.Contains(line, `resource="leases"`) {
			continue
		}
		_, after, _ := strings.Cut(line, `verb="`)
		verb, _, _ := strings.Cut(after, `"`)
		n, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
		if err == nil {
			out[verb] += int(n)
		}
	}
	return out
}

var _ resourcelock.Interface = (*followingLock)(nil)
