package leader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ironlb/ironlb/internal/testenv"
)

const (
	testNamespace = "default"
	testLease     = "ironlb-controller.metallb.io"
)

// short is the holder's timing in these tests: its lease runs out 3s
// after it stops renewing.
var short = Config{LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 500 * time.Millisecond}

// patient is a follower's timing whose own retry period (40 minutes)
// is far longer than the tests wait: it can only take the lease at its
// first try, which its follower holds back until the lease runs out.
var patient = Config{LeaseDuration: time.Hour, RenewDeadline: 50 * time.Minute, RetryPeriod: 40 * time.Minute}

// hookedLock runs before ahead of every write, and counts reads.
type hookedLock struct {
	resourcelock.Interface
	before func(resourcelock.LeaderElectionRecord)
	reads  atomic.Int32
}

func (l *hookedLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	l.reads.Add(1)
	return l.Interface.Get(ctx)
}

func (l *hookedLock) Create(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	l.before(r)
	return l.Interface.Create(ctx, r)
}

func (l *hookedLock) Update(ctx context.Context, r resourcelock.LeaderElectionRecord) error {
	l.before(r)
	return l.Interface.Update(ctx, r)
}

// candidate is one replica in the election: client-go's elector (as
// controller-runtime runs it) over the election NewElection builds.
type candidate struct {
	name    string
	el      *Election
	lock    *hookedLock
	started chan struct{}
	stopped chan struct{}
	kill    context.CancelFunc
	done    chan struct{}
}

// run starts a candidate with timing c; before runs ahead of each of its
// writes of the Lease. Its follower watches until the test ends; kill
// stops its elector as SIGKILL would: no release.
func run(t *testing.T, env *testenv.Env, name string, c Config, before func(resourcelock.LeaderElectionRecord)) *candidate {
	t.Helper()
	el, err := NewElection(env.Config, c, testNamespace, testLease, name, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	fctx, fstop := context.WithCancel(context.Background())
	following := make(chan struct{})
	go func() { _ = el.Follower.Run(fctx); close(following) }()
	t.Cleanup(func() { fstop(); <-following })
	// When there is a Lease, the elector's first read comes after the
	// follower's first list, as it would a moment into a replica's life.
	var l coordinationv1.Lease
	if env.Client.Get(context.Background(), client.ObjectKey{Namespace: testNamespace, Name: testLease}, &l) == nil {
		testenv.Eventually(t, name+"'s follower to list the Lease", func() (bool, string) {
			_, ok, _ := el.Follower.current()
			return ok, "nothing listed"
		})
	}

	cd := &candidate{name: name, el: el, lock: &hookedLock{Interface: el.Lock, before: before},
		started: make(chan struct{}), stopped: make(chan struct{}), done: make(chan struct{})}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:          cd.lock,
		LeaseDuration: c.LeaseDuration,
		RenewDeadline: c.RenewDeadline,
		RetryPeriod:   c.RetryPeriod,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { close(cd.started) },
			OnStoppedLeading: func() { close(cd.stopped) },
		},
		Name: name,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cd.kill = cancel
	go func() { le.Run(ctx); close(cd.done) }()
	t.Cleanup(func() { cancel(); <-cd.done })
	return cd
}

func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// holder reads who the Lease names.
func holder(t *testing.T, env *testenv.Env) string {
	t.Helper()
	var l coordinationv1.Lease
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: testNamespace, Name: testLease}, &l); err != nil {
		t.Fatalf("reading the Lease: %v", err)
	}
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// violations collects what the hooks saw wrong.
type violations struct {
	mu   sync.Mutex
	errs []error
}

func (v *violations) add(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, err)
}

func (v *violations) check(t *testing.T) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, err := range v.errs {
		t.Error(err)
	}
}

// TestFollowerTakesOverWhenTheHolderDies kills the holder (no release)
// and checks that the follower takes the Lease at its first try, which
// it made long before the lease ran out: client-go's elector alone would
// take it only at its next try, a 40-minute retry period later.
func TestFollowerTakesOverWhenTheHolderDies(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test API server")
	}
	env := testenv.Start(t, testenv.Options{})
	var v violations
	a := run(t, env, "a", short, func(resourcelock.LeaderElectionRecord) {})
	testenv.Eventually(t, "a to lead", func() (bool, string) { return closed(a.started), "not leading" })

	b := run(t, env, "b", patient, func(r resourcelock.LeaderElectionRecord) {
		if !strings.HasPrefix(r.HolderIdentity, "b_") {
			return
		}
		if err := a.el.Guard.Held(); err == nil {
			v.add(fmt.Errorf("b writes itself into the Lease while a may still write"))
		}
	})
	testenv.Eventually(t, "b to wait in its first read", func() (bool, string) {
		return b.lock.reads.Load() == 1, fmt.Sprintf("%d reads", b.lock.reads.Load())
	})
	if closed(b.started) {
		t.Fatal("b leads while a renews")
	}

	a.kill()
	<-a.done
	testenv.Eventually(t, "b to lead", func() (bool, string) { return closed(b.started), "not leading" })
	if got := b.lock.reads.Load(); got != 1 {
		t.Errorf("b's elector read the Lease %d times before it led, want 1: it waited for its next try", got)
	}
	if got, want := holder(t, env), b.lock.Identity(); got != want {
		t.Errorf("the Lease names %q, want b (%q)", got, want)
	}
	if !errors.Is(a.el.Guard.Held(), ErrNotHeld) {
		t.Errorf("a's guard holds after b took over: %v", a.el.Guard.Held())
	}
	v.check(t)
}

// TestElectorsNeverBothLead freezes the holder (its writes stop before
// they leave, as in a paused process) until the follower took over, then
// lets it go on: at no point may both be allowed to write, and the old
// holder must learn that it lost.
func TestElectorsNeverBothLead(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the test API server")
	}
	env := testenv.Start(t, testenv.Options{})
	var v violations
	var (
		a      *candidate
		frozen = make(chan struct{})
		thaw   = make(chan struct{})
		freeze sync.Once
		froze  atomic.Bool
	)
	// Once thawed, a's renewal goes out with the Lease's old
	// resourceVersion: the API server must refuse it, so a's guard must
	// not hold again.
	a = run(t, env, "a", short, func(resourcelock.LeaderElectionRecord) {
		if froze.Load() {
			freeze.Do(func() { close(frozen) })
			<-thaw
		}
	})
	testenv.Eventually(t, "a to lead", func() (bool, string) { return closed(a.started), "not leading" })
	b := run(t, env, "b", patient, func(r resourcelock.LeaderElectionRecord) {
		if strings.HasPrefix(r.HolderIdentity, "b_") && a.el.Guard.Held() == nil {
			v.add(fmt.Errorf("b writes itself into the Lease while a may still write"))
		}
	})

	froze.Store(true)
	<-frozen
	testenv.Eventually(t, "b to lead", func() (bool, string) { return closed(b.started), "not leading" })
	if closed(a.stopped) {
		t.Error("a stopped leading while frozen")
	}
	if err := a.el.Guard.Held(); !errors.Is(err, ErrNotHeld) {
		t.Errorf("a's guard holds while b leads: %v", err)
	}
	close(thaw)
	testenv.Eventually(t, "a to stop leading", func() (bool, string) { return closed(a.stopped), "still leading" })
	if err := a.el.Guard.Held(); !errors.Is(err, ErrNotHeld) {
		t.Errorf("a's guard holds after it lost: %v", err)
	}
	if err := b.el.Guard.Held(); err != nil {
		t.Errorf("b's guard: %v", err)
	}
	if got, want := holder(t, env), b.lock.Identity(); got != want {
		t.Errorf("the Lease names %q, want b (%q)", got, want)
	}
	v.check(t)
}
