package noderouter

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// numbers returns number's result over [lo, hi] as key -> number.
func numbers(keys []string, lo, hi uint32) map[string]uint32 {
	slots := make([]slot[struct{}], len(keys))
	for i, k := range keys {
		slots[i].key = k
	}
	out := map[string]uint32{}
	for _, s := range number(slots, lo, hi) {
		out[s.key] = s.seq
	}
	return out
}

// TestNumber checks the stable numbering: a key's number is its hash
// whatever the other keys are, unless it collides; on a collision the
// smaller key keeps the number and the other takes the next free one,
// wrapping around; the order of the input does not matter.
func TestNumber(t *testing.T) {
	const lo, hi = 10, 13 // four numbers: collisions are easy to find
	home := func(k string) uint32 { return lo + fnv32a(k)%(hi-lo+1) }
	// Find keys with known homes.
	byHome := map[uint32][]string{}
	for i := 0; len(byHome[hi]) < 2 || len(byHome[lo]) < 1 || len(byHome[lo+1]) < 1; i++ {
		k := fmt.Sprintf("k%d", i)
		byHome[home(k)] = append(byHome[home(k)], k)
	}
	a, b := byHome[hi][0], byHome[hi][1] // two keys of one home, a the smaller
	if b < a {
		a, b = b, a
	}
	c, d := byHome[lo][0], byHome[lo+1][0]
	tests := []struct {
		name string
		keys []string
		want map[string]uint32
	}{
		{name: "alone", keys: []string{b}, want: map[string]uint32{b: hi}},
		{name: "no collision", keys: []string{d, b}, want: map[string]uint32{b: hi, d: lo + 1}},
		{name: "collision: the smaller key keeps its number, the other wraps", keys: []string{b, a}, want: map[string]uint32{a: hi, b: lo}},
		{name: "the wrapped key probes on", keys: []string{c, b, a}, want: map[string]uint32{a: hi, b: lo + 1, c: lo}},
		{name: "input order does not matter", keys: []string{a, c, b}, want: map[string]uint32{a: hi, b: lo + 1, c: lo}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, numbers(tc.keys, lo, hi)); diff != "" {
				t.Errorf("numbers (-want +got):\n%s", diff)
			}
		})
	}
}
