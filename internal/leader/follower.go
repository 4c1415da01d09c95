package leader

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Follower watches the election's Lease so that a replica that does not
// lead tries to take the lease the moment it runs out, instead of at
// client-go's next poll. client-go's elector reads the Lease 1 to 2.2
// retry periods apart (with its jitter), counts the lease duration from
// the read at which it first saw the holder's last renewal, and takes
// over at its first read after that: up to 4.4 retry periods after the
// lease ran out. The follower counts from the moment its watch delivered
// the renewal, and keeps the elector's read waiting (see Lock) until
// then.
//
// The decision stays client-go's and the API server's: the elector still
// writes the Lease with the resourceVersion it read, so a renewal that
// came in between fails the take-over with a conflict.
type Follower struct {
	client    coordinationclient.LeasesGetter
	namespace string
	name      string
	log       *slog.Logger

	mu sync.Mutex
	// cur is the record last seen; ok is false while none is known
	// (not watching, or no Lease).
	cur seen
	ok  bool
	// changed is closed, and replaced, when cur or ok changes.
	changed chan struct{}
}

// NewFollower returns a follower of the Lease namespace/name. Its client
// must have no request timeout: a watch lasts minutes.
func NewFollower(client coordinationclient.LeasesGetter, namespace, name string, log *slog.Logger) *Follower {
	return &Follower{client: client, namespace: namespace, name: name, log: log, changed: make(chan struct{})}
}

// Run watches the Lease until ctx ends. Until its first list, and after
// it returns, Lock's reads go straight to the API server, as client-go's.
func (f *Follower) Run(ctx context.Context) error {
	leases := f.client.Leases(f.namespace)
	byName := fields.OneTermEqualSelector("metadata.name", f.name).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = byName
			return leases.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = byName
			return leases.Watch(ctx, o)
		},
	}
	_, informer := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw,
		ObjectType:    &coordinationv1.Lease{},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { f.saw(o, time.Now()) },
			UpdateFunc: func(_, o any) { f.saw(o, time.Now()) },
			DeleteFunc: func(any) { f.set(seen{}, false) },
		},
	})
	informer.RunWithContext(ctx)
	f.set(seen{}, false)
	return nil
}

// saw records the Lease o, seen at now.
func (f *Follower) saw(o any, now time.Time) {
	l, isLease := o.(*coordinationv1.Lease)
	if !isLease || l.Name != f.name {
		return
	}
	rec := resourcelock.LeaseSpecToLeaderElectionRecord(&l.Spec)
	raw, err := json.Marshal(*rec)
	if err != nil {
		// A record that cannot be encoded is not compared: reads go
		// to the API server.
		f.set(seen{}, false)
		return
	}
	f.observe(rec, raw, now)
}

// observe makes rec (encoded as raw) the record seen, at now unless it
// is the one already seen.
func (f *Follower) observe(rec *resourcelock.LeaderElectionRecord, raw []byte, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ok && string(f.cur.raw) == string(raw) {
		return
	}
	f.cur = seen{raw: raw, holder: rec.HolderIdentity, duration: time.Duration(rec.LeaseDurationSeconds) * time.Second, at: now}
	f.ok = true
	f.notify()
}

func (f *Follower) set(s seen, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cur, f.ok = s, ok
	f.notify()
}

// notify wakes the reads waiting for a change; f.mu is held.
func (f *Follower) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// current returns the record seen, whether there is one, and a channel
// closed at the next change.
func (f *Follower) current() (seen, bool, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur, f.ok, f.changed
}

// Lock wraps l, the election's lock, so that its reads wait while the
// Lease is held by another replica and has not run out (see Follower).
func (f *Follower) Lock(l resourcelock.Interface) resourcelock.Interface {
	return &followingLock{Interface: l, f: f}
}

// followingLock is a resource lock whose reads wait for the lease held by
// another replica to run out.
type followingLock struct {
	resourcelock.Interface
	f *Follower
}

// Get returns the Lease's record once there is a reason to try to take
// it: at once when the follower knows no record, the record names no
// holder or this replica; else when the lease has run out. A record
// read then that is still the one seen a lease duration ago is returned
// as released (no holder), which client-go's elector takes; the lock
// keeps the resourceVersion it read, so the update that takes it fails
// if the holder renewed meanwhile.
func (l *followingLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	self := l.Identity()
	for {
		s, ok, changed := l.f.current()
		if d := waitBeforeGet(s, ok, self, time.Now()); d > 0 {
			timer := time.NewTimer(d)
			select {
			case <-ctx.Done():
				timer.Stop()
				return nil, nil, fmt.Errorf("waiting for the lease of %s to run out: %w", s.holder, ctx.Err())
			case <-changed:
				timer.Stop()
			case <-timer.C:
			}
			continue
		}
		rec, raw, err := l.Interface.Get(ctx)
		if err != nil || !ok || rec.HolderIdentity == "" || rec.HolderIdentity == self {
			return rec, raw, err
		}
		now := time.Now()
		if expired(s, raw, self, now) {
			l.f.log.Info("leader lease ran out", "holder", s.holder, "lastRenewalSeen", now.Sub(s.at).Round(time.Millisecond))
			free := *rec
			free.HolderIdentity = ""
			freeRaw, err := json.Marshal(free)
			if err != nil {
				return nil, nil, fmt.Errorf("encoding the expired lease record: %w", err)
			}
			return &free, freeRaw, nil
		}
		// The read is newer than the watch: it counts as seen now.
		l.f.observe(rec, raw, now)
	}
}
