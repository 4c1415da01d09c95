package apply

import (
	"fmt"
	"time"
)

// Path is the way a config was applied.
type Path string

const (
	// PathNone: nothing to do, the desired config was already applied.
	PathNone Path = "none"
	// PathFast: the delta was sent through vtysh.
	PathFast Path = "fast"
	// PathFull: the whole config went through frr-reload.py.
	PathFull Path = "full"
)

// Stage is the step of an apply that failed.
type Stage string

const (
	// StageDiff: the desired config could not be used (e.g. empty).
	StageDiff Stage = "diff"
	// StageVtysh: vtysh refused a command of the delta.
	StageVtysh Stage = "vtysh"
	// StageVerify: the running config did not show the delta.
	StageVerify Stage = "verify"
	// StageReload: frr-reload.py failed.
	StageReload Stage = "reload"
)

// Failure tells which stage failed and what FRR said. Message never holds
// a password.
type Failure struct {
	Stage   Stage  `json:"stage"`
	Message string `json:"message"`
}

// Result describes one apply.
type Result struct {
	// Path is the path that produced the final state.
	Path Path `json:"path"`
	// Reason tells why the full path ran: "first apply", "previous apply
	// failed", "fast path failed", "resync".
	Reason string `json:"reason,omitempty"`
	// Commands counts the delta's commands on the fast path.
	Commands int `json:"commands,omitempty"`
	// Duration is the wall time of the whole apply.
	Duration time.Duration `json:"duration"`
	// FastFailure is set when the fast path failed and the full path ran
	// after it.
	FastFailure *Failure `json:"fastFailure,omitempty"`
	// Failure is set when the apply failed; Apply then also returns it as
	// an *Error.
	Failure *Failure `json:"failure,omitempty"`
	// RolledBack tells that, after both paths failed, the last config
	// that had been applied was reloaded, so FRR runs it and not a part
	// of the failed delta. The next apply may then take the fast path.
	RolledBack bool `json:"rolledBack,omitempty"`
}

// Error is the error of a failed apply. Callers branch on Stage.
type Error struct {
	Failure
}

func (e *Error) Error() string {
	return fmt.Sprintf("applying frr config: %s failed: %s", e.Stage, e.Message)
}

// maxMessage bounds the FRR output kept in a Failure.
const maxMessage = 4096

func newFailure(stage Stage, msg string) *Failure {
	msg = Redact(msg)
	if len(msg) > maxMessage {
		msg = msg[:maxMessage] + "..."
	}
	return &Failure{Stage: stage, Message: msg}
}
