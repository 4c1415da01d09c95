package members

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkFailureDetection measures, with the FastLAN profile on
// loopback, the time from a member's crash to the two others both
// seeing it failed. Each iteration forms a fresh cluster of three.
//
//	go test ./l2/members/ -run '^$' -bench FailureDetection -benchtime 20x
func BenchmarkFailureDetection(b *testing.B) {
	var total, worst time.Duration
	for range b.N {
		b.StopTimer()
		seen := make(chan string, 64)
		ms := make([]*Members, 3)
		cancels := make([]context.CancelFunc, 3)
		dones := make([]chan error, 3)
		for i, addr := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
			cfg := Config{Node: "n" + string(rune('1'+i)), BindAddr: addr, SecretKey: key}
			if i > 0 {
				cfg.Join = []string{ms[0].Addr().String()}
			}
			if i < 2 {
				name := cfg.Node
				cfg.OnChange = func(v View) {
					if slices.Contains(v.Failed, "n3") {
						seen <- name
					}
				}
			} else {
				cfg.SkipLeave = true
			}
			m, err := New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			ms[i] = m
			ctx, cancel := context.WithCancel(context.Background())
			cancels[i], dones[i] = cancel, make(chan error, 1)
			go func() { dones[i] <- m.Run(ctx) }()
		}
		for _, m := range ms {
			for len(m.View().Live) < 3 {
				time.Sleep(5 * time.Millisecond)
			}
		}
		b.StartTimer()
		start := time.Now()
		cancels[2]()
		<-dones[2]
		for got := map[string]bool{}; len(got) < 2; {
			got[<-seen] = true
		}
		d := time.Since(start)
		b.StopTimer()
		total += d
		worst = max(worst, d)
		for i := range 2 {
			cancels[i]()
			<-dones[i]
		}
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/detection")
	b.ReportMetric(float64(worst.Milliseconds()), "ms-worst")
}
