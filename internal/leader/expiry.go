package leader

import (
	"bytes"
	"time"
)

// seen is a Lease record as a replica saw it: the record as client-go's
// Lease lock encodes it, and when this replica first saw that encoding,
// by its own clock. Like client-go's elector, a follower never compares
// the holder's renewTime with its own clock: the lease runs out a lease
// duration after the record was first seen here, which is after the
// holder started writing it, whatever the two clocks say.
type seen struct {
	raw      []byte
	holder   string
	duration time.Duration
	at       time.Time
}

// expires returns when the record's lease runs out for this replica.
func (s seen) expires() time.Time {
	return s.at.Add(s.duration)
}

// waitBeforeGet returns how long a replica that is not leading still
// waits before it reads the Lease to try to take it: zero when it reads
// at once, as client-go's elector would, because it knows no record
// (ok false: not watched yet, or no Lease), the record names no holder
// (released) or names self, or the lease has run out.
func waitBeforeGet(s seen, ok bool, self string, now time.Time) time.Duration {
	if !ok || s.holder == "" || s.holder == self {
		return 0
	}
	return max(0, s.expires().Sub(now))
}

// expired reports whether raw, the record just read from the API server
// at now, may be taken over: it is exactly the record first seen at s.at
// (no write since, which would have changed its renewTime), held by
// another replica, and a lease duration has passed since.
func expired(s seen, raw []byte, self string, now time.Time) bool {
	return s.holder != "" && s.holder != self && bytes.Equal(s.raw, raw) && !now.Before(s.expires())
}
