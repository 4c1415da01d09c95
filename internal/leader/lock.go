package leader

import (
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/util/uuid"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// NewLock returns the Lease lock namespace/name for this replica, and the
// guard its renewals move. The identity is name (the pod's, else the
// host's) and a random suffix, so that a restarted replica is a new
// holder.
func NewLock(cfg *rest.Config, c Config, namespace, name, replica string) (resourcelock.Interface, *Guard, error) {
	if replica == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, nil, fmt.Errorf("reading host name for the leader identity: %w", err)
		}
		replica = host
	}
	cfg = rest.AddUserAgent(rest.CopyConfig(cfg), "leader-election")
	// One hung request must not cost the lease (as controller-runtime).
	cfg.Timeout = max(c.RenewDeadline/2, time.Second)
	core, err := corev1.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("creating leader election client: %w", err)
	}
	coord, err := coordinationv1.NewForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("creating leader election client: %w", err)
	}
	l, err := resourcelock.New(resourcelock.LeasesResourceLock, namespace, name, core, coord,
		resourcelock.ResourceLockConfig{Identity: replica + "_" + string(uuid.NewUUID())})
	if err != nil {
		return nil, nil, fmt.Errorf("creating leader election lock: %w", err)
	}
	g := NewGuard(c.RenewDeadline)
	return g.Lock(l), g, nil
}
