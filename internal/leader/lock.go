package leader

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/util/uuid"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Election is what a replica needs to take part in the election: the
// lock to give client-go's elector (through controller-runtime), the
// guard its writes move, and the follower to run beside the elector.
type Election struct {
	Lock     resourcelock.Interface
	Guard    *Guard
	Follower *Follower
}

// NewElection returns the election on the Lease namespace/name for this
// replica. The identity is replica (the pod's name, else the host's)
// and a random suffix, so that a restarted replica is a new holder.
func NewElection(cfg *rest.Config, c Config, namespace, name, replica string, log *slog.Logger) (*Election, error) {
	if replica == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("reading host name for the leader identity: %w", err)
		}
		replica = host
	}
	cfg = rest.AddUserAgent(rest.CopyConfig(cfg), "leader-election")
	// The follower's watch lasts minutes: no request timeout.
	watchClient, err := coordinationv1.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating leader election client: %w", err)
	}
	// One hung request must not cost the lease (as controller-runtime).
	cfg.Timeout = max(c.RenewDeadline/2, time.Second)
	core, err := corev1.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating leader election client: %w", err)
	}
	coord, err := coordinationv1.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating leader election client: %w", err)
	}
	l, err := resourcelock.New(resourcelock.LeasesResourceLock, namespace, name, core, coord,
		resourcelock.ResourceLockConfig{Identity: replica + "_" + string(uuid.NewUUID())})
	if err != nil {
		return nil, fmt.Errorf("creating leader election lock: %w", err)
	}
	return newElection(l, c, NewFollower(watchClient, namespace, name, log)), nil
}

// newElection wraps l: the guard sees the writes, the follower holds
// back the reads.
func newElection(l resourcelock.Interface, c Config, f *Follower) *Election {
	g := NewGuard(c.RenewDeadline)
	return &Election{Lock: g.Lock(f.Lock(l)), Guard: g, Follower: f}
}
