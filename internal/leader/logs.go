package leader

import (
	"context"
	"log/slog"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// createRaceMsg is client-go's error when this replica's Create of the
// Lease fails; with AlreadyExists, another replica created it first.
const createRaceMsg = "Error initially creating lease lock"

// QuietCreateRace wraps the handler of the election's logger: client-go
// logs at error level that the Lease it tried to create already exists,
// which is how the election goes when the replicas start together (both
// find no Lease, one creates it, the other follows it). That one record
// is logged at info level; any other error of the election stays an
// error.
func QuietCreateRace(h slog.Handler) slog.Handler { return quietHandler{h} }

type quietHandler struct{ slog.Handler }

func (q quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelError && r.Message == createRaceMsg && lostCreateRace(r) {
		lowered := slog.NewRecord(r.Time, slog.LevelInfo, r.Message, r.PC)
		r.Attrs(func(a slog.Attr) bool { lowered.AddAttrs(a); return true })
		r = lowered
	}
	return q.Handler.Handle(ctx, r)
}

func (q quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{q.Handler.WithAttrs(attrs)}
}

func (q quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{q.Handler.WithGroup(name)}
}

// lostCreateRace reports whether the record's error is AlreadyExists.
func lostCreateRace(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && apierrors.IsAlreadyExists(err) {
			found = true
			return false
		}
		return true
	})
	return found
}
