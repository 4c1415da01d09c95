package controller

import (
	"sync"

	"github.com/ironlb/ironlb/config"
	"github.com/ironlb/ironlb/controller/assign"
)

// state is what the reconcilers share: the model in force and the
// assignments made under it. Every access holds mu.
type state struct {
	mu       sync.Mutex
	model    *config.Model
	assigner *assign.Assigner
	// waiting holds the Services that could not get IPs because the pools
	// were full; a release retries them.
	waiting map[string]struct{}
	// early holds the Services reconciled before the first model was in
	// force. The config reconciler queues the Services it listed, but a
	// Service created after that list and reconciled before the model
	// was in force would otherwise wait for its next change.
	early map[string]struct{}
}

func newState() *state {
	return &state{waiting: map[string]struct{}{}, early: map[string]struct{}{}}
}
