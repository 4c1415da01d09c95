package leader

import (
	"errors"
	"fmt"
	"time"
)

// Config is the timing of the leader election. The defaults are those of
// Kubernetes' own controllers and of controller-runtime.
type Config struct {
	// LeaseDuration is how long the other replicas wait after the last
	// renewal they saw before they take the lease over. The Lease stores
	// it in whole seconds.
	LeaseDuration time.Duration
	// RenewDeadline is how long the leader keeps trying to renew before
	// it gives up and exits. It is also how long after its last renewal
	// the leader still writes (see Guard).
	RenewDeadline time.Duration
	// RetryPeriod is the time between two tries to acquire or renew.
	RetryPeriod time.Duration
}

// Default election timing.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// jitter is client-go's leaderelection.JitterFactor: its elector waits
// between 1 and 1+jitter retry periods between two tries to acquire, and
// requires the renew deadline to be longer than jitter retry periods.
const jitter = 1.2

// Validate checks the timing as client-go's elector will, and that the
// leader stops writing before anyone else may take the lease.
func (c Config) Validate() error {
	var errs []error
	if c.LeaseDuration < time.Second || c.LeaseDuration%time.Second != 0 {
		errs = append(errs, fmt.Errorf("lease duration %v must be a whole number of seconds, at least 1s (the Lease stores seconds)", c.LeaseDuration))
	}
	if c.RetryPeriod <= 0 {
		errs = append(errs, fmt.Errorf("retry period %v must be positive", c.RetryPeriod))
	}
	if c.RenewDeadline >= c.LeaseDuration {
		errs = append(errs, fmt.Errorf("renew deadline %v must be shorter than the lease duration %v", c.RenewDeadline, c.LeaseDuration))
	}
	if float64(c.RenewDeadline) <= jitter*float64(c.RetryPeriod) {
		errs = append(errs, fmt.Errorf("renew deadline %v must be longer than %v times the retry period %v", c.RenewDeadline, jitter, c.RetryPeriod))
	}
	if len(errs) > 0 {
		return fmt.Errorf("leader election: %w", errors.Join(errs...))
	}
	return nil
}
