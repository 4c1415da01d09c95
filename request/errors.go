package request

import (
	"fmt"
	"strconv"
)

// Error says which field or annotation of a Service is invalid and why.
type Error struct {
	Field  string
	Reason string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
}

func quote(s string) string { return strconv.Quote(s) }
