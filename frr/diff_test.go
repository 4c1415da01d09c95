package frr

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// edit is one line of a line diff: op is ' ' (kept), '-' or '+'.
type edit struct {
	op   byte
	line string
}

// lineDiff returns a shortest edit script from a to b (Myers' greedy
// algorithm, O((N+M)D) time), in line order.
func lineDiff(a, b []string) []edit {
	n, m := len(a), len(b)
	off := n + m + 1
	v := make([]int, 2*off+1)
	var trace [][]int // trace[d] is v before step d
	for d := 0; d <= n+m; d++ {
		trace = append(trace, slices.Clone(v))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(a, b, trace, off)
			}
		}
	}
	panic("unreachable")
}

func backtrack(a, b []string, trace [][]int, off int) []edit {
	var out []edit
	x, y := len(a), len(b)
	for d := len(trace) - 1; d > 0; d-- {
		v := trace[d]
		k := x - y
		prevK := k - 1
		if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
			prevK = k + 1
		}
		prevX := v[off+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			out = append(out, edit{' ', a[x-1]})
			x, y = x-1, y-1
		}
		if x == prevX {
			out = append(out, edit{'+', b[y-1]})
			y--
		} else {
			out = append(out, edit{'-', a[x-1]})
			x--
		}
	}
	for x > 0 && y > 0 {
		out = append(out, edit{' ', a[x-1]})
		x, y = x-1, y-1
	}
	slices.Reverse(out)
	return out
}

// changed returns the removed and added lines of a line diff.
func changed(a, b []string) (removed, added []string) {
	for _, e := range lineDiff(a, b) {
		switch e.op {
		case '-':
			removed = append(removed, e.line)
		case '+':
			added = append(added, e.line)
		}
	}
	return removed, added
}

// lineDiffText prints the changed lines of a line diff with their line
// numbers in a (for '-') or b (for '+').
func lineDiffText(a, b []string) string {
	var sb strings.Builder
	i, j := 0, 0
	for _, e := range lineDiff(a, b) {
		switch e.op {
		case ' ':
			i, j = i+1, j+1
		case '-':
			i++
			fmt.Fprintf(&sb, "-%4d %s\n", i, e.line)
		case '+':
			j++
			fmt.Fprintf(&sb, "+%4d %s\n", j, e.line)
		}
	}
	return sb.String()
}

// splitLines splits text into lines without their newlines.
func splitLines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func TestLineDiff(t *testing.T) {
	tests := []struct {
		name       string
		a, b       string
		wantRemove []string
		wantAdd    []string
	}{
		{name: "same", a: "x\ny", b: "x\ny"},
		{name: "added in the middle", a: "a\nb\nd", b: "a\nb\nc\nd", wantAdd: []string{"c"}},
		{name: "removed first", a: "a\nb\nc", b: "b\nc", wantRemove: []string{"a"}},
		{name: "replaced", a: "a\nb\nc", b: "a\nx\nc", wantRemove: []string{"b"}, wantAdd: []string{"x"}},
		{name: "all new", a: "a", b: "b\nc", wantRemove: []string{"a"}, wantAdd: []string{"b", "c"}},
		{name: "repeated lines", a: "!\na\n!\nb\n!", b: "!\na\n!\nn\n!\nb\n!", wantAdd: []string{"n", "!"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gotRemove, gotAdd := changed(splitLines(tc.a), splitLines(tc.b))
			if diff := cmp.Diff(tc.wantRemove, gotRemove); diff != "" {
				t.Errorf("removed (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantAdd, gotAdd); diff != "" {
				t.Errorf("added (-want +got):\n%s", diff)
			}
		})
	}
}
