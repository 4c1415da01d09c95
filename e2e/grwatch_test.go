package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ironlb/ironlb/e2e/lab"
)

// ribWatch samples the router's BGP table entry of one prefix until
// stopped: whether it holds a path via each of some peers, and whether
// one is stale (kept by the graceful restart helper for a restarting
// peer).
type ribWatch struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	samples int
	absent  []string // what a sample without the path saw
	stale   int      // samples with the path stale
}

// watchRIB samples the router's entry of prefix as fast as vtysh
// answers, and records every sample that lacks a path via one of peers,
// and every one with such a path stale.
func watchRIB(t testing.TB, l *lab.Lab, prefix netip.Prefix, peers ...string) *ribWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &ribWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			paths, err := stalePaths(ctx, l, prefix)
			if ctx.Err() != nil {
				return
			}
			missing, stale := err != nil, false
			for _, p := range peers {
				s, ok := paths[p]
				missing, stale = missing || !ok, stale || s
			}
			w.mu.Lock()
			w.samples++
			switch {
			case missing:
				w.absent = append(w.absent, fmt.Sprintf("%s %v %v", time.Now().Format("15:04:05.000"), paths, err))
			case stale:
				w.stale++
			}
			w.mu.Unlock()
		}
	}()
	t.Cleanup(func() { w.stop() })
	return w
}

// stop ends the watch and returns the number of samples, the ones
// without the path, and the number with the path stale.
func (w *ribWatch) stop() (samples int, absent []string, stale int) {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.samples, w.absent, w.stale
}

// updateLog follows the BGP UPDATE messages the router receives: it
// turns on bgpd's debug log of incoming updates (one line per prefix
// announced or withdrawn) and reads what was logged since.
type updateLog struct {
	path   string
	offset int64
}

// followUpdates starts logging the router's incoming updates until t
// ends.
func followUpdates(t testing.TB, l *lab.Lab) *updateLog {
	t.Helper()
	path := filepath.Join(l.FRRLogDir(lab.RouterNetns), "bgpd.log")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.RouterVtysh(t.Context(), "debug bgp updates in"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = l.RouterVtysh(context.Background(), "no debug bgp updates in") })
	return &updateLog{path: path, offset: st.Size()}
}

// about returns the lines logged since followUpdates of updates from
// peer about prefix: announcements and withdrawals.
func (u *updateLog) about(t testing.TB, peer string, prefix netip.Prefix) (announced, withdrawn []string) {
	t.Helper()
	data, err := os.ReadFile(u.path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) < u.offset {
		t.Fatalf("%s shrank", u.path)
	}
	for _, line := range strings.Split(string(data[u.offset:]), "\n") {
		// bgpd logs "PEER rcvd UPDATE about PREFIX ... -- withdrawn" and
		// "PEER rcvd PREFIX ..." for an announcement.
		if !strings.Contains(line, peer) || !strings.Contains(line, prefix.String()) || !strings.Contains(line, "rcvd") {
			continue
		}
		if strings.Contains(line, "withdrawn") {
			withdrawn = append(withdrawn, line)
		} else {
			announced = append(announced, line)
		}
	}
	return announced, withdrawn
}
