package requeue

import (
	"time"

	"golang.org/x/time/rate"
	"k8s.io/client-go/util/workqueue"
)

// Delays of Limiter.
const (
	// FirstDelay is the wait after a first failure.
	FirstDelay = 5 * time.Millisecond
	// MaxDelay bounds the wait after any number of failures in a row.
	// controller-runtime's default grows to 1,000 s: a reconcile that
	// kept failing while the API server was away for two minutes would
	// then run again only a minute or more after it came back, leaving
	// the status objects stale that long. With MaxDelay, a reconciler
	// catches up within MaxDelay of the API server's return.
	MaxDelay = 10 * time.Second
)

// Limiter returns the rate limiter of a reconciler's queue:
// controller-runtime's default (per item, FirstDelay doubling on every
// failure; overall, 10 a second with bursts of 100) with the per-item
// delay capped at MaxDelay.
func Limiter[T comparable]() workqueue.TypedRateLimiter[T] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[T](FirstDelay, MaxDelay),
		&workqueue.TypedBucketRateLimiter[T]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
	)
}
