// Package requeue holds the retry policy of ironlb's reconcilers: how
// long a reconcile that failed waits before it runs again.
package requeue
