package leader

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// leaseStore is a lock over a record in memory, standing in for the API
// server in unit tests of followingLock.Get.
type leaseStore struct {
	mu    sync.Mutex
	rec   resourcelock.LeaderElectionRecord
	reads int
}

func (s *leaseStore) set(r resourcelock.LeaderElectionRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rec = r
}

func (s *leaseStore) Get(context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	r := s.rec
	raw, err := json.Marshal(r)
	return &r, raw, err
}
func (s *leaseStore) Create(context.Context, resourcelock.LeaderElectionRecord) error {
	return errors.New("not used")
}
func (s *leaseStore) Update(context.Context, resourcelock.LeaderElectionRecord) error {
	return errors.New("not used")
}
func (s *leaseStore) RecordEvent(string) {}
func (s *leaseStore) Identity() string   { return "me" }
func (s *leaseStore) Describe() string   { return "test/lease" }

// renewal is holder's record renewed at now (the holder's clock).
func renewal(holder string, now time.Time) resourcelock.LeaderElectionRecord {
	return resourcelock.LeaderElectionRecord{HolderIdentity: holder, LeaseDurationSeconds: 15, RenewTime: metav1.NewTime(now), AcquireTime: metav1.NewTime(now)}
}

// watched feeds r to the follower as its watch would, at the time now.
func watched(f *Follower, r resourcelock.LeaderElectionRecord) {
	raw, _ := json.Marshal(r)
	f.observe(&r, raw, time.Now())
}

func TestFollowingLockGet(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	type result struct {
		rec   *resourcelock.LeaderElectionRecord
		err   error
		after time.Duration
	}
	// get runs Get in the background, from now.
	get := func(ctx context.Context, l resourcelock.Interface) <-chan result {
		out := make(chan result, 1)
		start := time.Now()
		go func() {
			rec, _, err := l.Get(ctx)
			out <- result{rec, err, time.Since(start)}
		}()
		return out
	}
	// following is a follower whose watch has seen holder's record
	// renewed now, and the API server's copy of that record.
	following := func(holder string) (*leaseStore, *Follower) {
		r := renewal(holder, time.Now())
		store := &leaseStore{rec: r}
		f := NewFollower(nil, "ns", "lease", quiet)
		watched(f, r)
		return store, f
	}

	t.Run("nothing watched: reads at once, as client-go", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store := &leaseStore{rec: renewal("a", time.Now())}
			f := NewFollower(nil, "ns", "lease", quiet)
			r := <-get(t.Context(), f.Lock(store))
			if r.err != nil || r.rec.HolderIdentity != "a" || r.after != 0 {
				t.Errorf("Get() = %+v, want the record of a at once", r)
			}
		})
	})

	t.Run("waits while the holder renews, takes it a lease duration after the last renewal seen", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store := &leaseStore{}
			f := NewFollower(nil, "ns", "lease", quiet)
			res := get(t.Context(), f.Lock(store))
			var last time.Time
			for range 10 {
				r := renewal("a", time.Now())
				store.set(r)
				watched(f, r)
				last = time.Now()
				time.Sleep(2 * time.Second)
			}
			// The holder died right after its last renewal.
			r := <-res
			if r.err != nil || r.rec.HolderIdentity != "" {
				t.Fatalf("Get() = %+v, want the record released", r)
			}
			if took := time.Since(last); took != 15*time.Second {
				t.Errorf("Get() returned %v after the last renewal seen, want 15s", took)
			}
			if store.reads != 1 {
				t.Errorf("%d reads from the API server, want 1", store.reads)
			}
		})
	})

	t.Run("a renewal the watch missed is seen by the read and waited for", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store, f := following("a")
			res := get(t.Context(), f.Lock(store))
			time.Sleep(2 * time.Second)
			// Renewed, but the watch is stalled.
			store.set(renewal("a", time.Now()))
			r := <-res
			if r.err != nil || r.rec.HolderIdentity != "" {
				t.Fatalf("Get() = %+v, want the record released", r)
			}
			// Counted from the read that saw the renewal, 15s after
			// the first record: 30s in all.
			if r.after != 30*time.Second {
				t.Errorf("Get() returned after %v, want 30s", r.after)
			}
			if store.reads != 2 {
				t.Errorf("%d reads from the API server, want 2", store.reads)
			}
		})
	})

	t.Run("released by the holder: read at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store, f := following("a")
			res := get(t.Context(), f.Lock(store))
			time.Sleep(5 * time.Second)
			released := resourcelock.LeaderElectionRecord{LeaseDurationSeconds: 1, RenewTime: metav1.NewTime(time.Now())}
			store.set(released)
			watched(f, released)
			r := <-res
			if r.err != nil || r.rec.HolderIdentity != "" || r.after != 5*time.Second {
				t.Errorf("Get() = %+v, want the released record after 5s", r)
			}
		})
	})

	t.Run("held by self: read at once", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store, f := following("me")
			r := <-get(t.Context(), f.Lock(store))
			if r.err != nil || r.rec.HolderIdentity != "me" || r.after != 0 {
				t.Errorf("Get() = %+v, want own record at once", r)
			}
		})
	})

	t.Run("stops waiting when the elector stops", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store, f := following("a")
			ctx, cancel := context.WithCancel(t.Context())
			res := get(ctx, f.Lock(store))
			time.Sleep(3 * time.Second)
			cancel()
			r := <-res
			if !errors.Is(r.err, context.Canceled) || r.after != 3*time.Second {
				t.Errorf("Get() = %+v, want context.Canceled after 3s", r)
			}
			if store.reads != 0 {
				t.Errorf("%d reads from the API server, want 0", store.reads)
			}
		})
	})

	t.Run("watch stopped: reads go to the API server again", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			store, f := following("a")
			res := get(t.Context(), f.Lock(store))
			time.Sleep(time.Second)
			f.set(seen{}, false)
			r := <-res
			if r.err != nil || r.rec.HolderIdentity != "a" || r.after != time.Second {
				t.Errorf("Get() = %+v, want the record of a after 1s", r)
			}
		})
	})
}
