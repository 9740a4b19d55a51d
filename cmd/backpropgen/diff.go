package main

import (
	"fmt"
	"strings"
)

// unifiedDiff returns the differences between old and new as a unified
// diff with 3 lines of context, headed as gofmt -d heads its diffs, or ""
// if they are equal.
func unifiedDiff(oldName string, old []byte, newName string, new []byte) string {
	a, b := splitLines(string(old)), splitLines(string(new))
	ops := diffLines(a, b)
	var out strings.Builder
	// aAt[i] and bAt[i]: the lines of a and of b before ops[i].
	aAt, bAt := make([]int, len(ops)+1), make([]int, len(ops)+1)
	for i, op := range ops {
		aAt[i+1], bAt[i+1] = aAt[i], bAt[i]
		if op.kind != '+' {
			aAt[i+1]++
		}
		if op.kind != '-' {
			bAt[i+1]++
		}
	}
	const context = 3
	for i := 0; i < len(ops); {
		for i < len(ops) && ops[i].kind == ' ' {
			i++
		}
		if i == len(ops) {
			break
		}
		start, end := max(i-context, 0), i
		for { // take in changes no more than 2*context equal lines apart
			for end < len(ops) && ops[end].kind != ' ' {
				end++
			}
			j := end
			for j < len(ops) && ops[j].kind == ' ' {
				j++
			}
			if j == len(ops) || j-end > 2*context {
				break
			}
			end = j
		}
		stop := min(end+context, len(ops))
		if out.Len() == 0 {
			fmt.Fprintf(&out, "diff %s %s\n--- %s\n+++ %s\n", oldName, newName, oldName, newName)
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aAt[start], aAt[stop]), hunkRange(bAt[start], bAt[stop]))
		for _, op := range ops[start:stop] {
			out.WriteByte(op.kind)
			out.WriteString(op.line)
			if !strings.HasSuffix(op.line, "\n") {
				out.WriteString("\n\\ No newline at end of file\n")
			}
		}
		i = stop
	}
	return out.String()
}

// hunkRange formats the lines from (0-based) to end of a hunk as GNU diff
// does: "3,4" for four lines from the third, "3" for one line, and the
// line before and 0 for none.
func hunkRange(from, end int) string {
	switch n := end - from; n {
	case 0:
		return fmt.Sprintf("%d,0", from)
	case 1:
		return fmt.Sprint(from + 1)
	default:
		return fmt.Sprintf("%d,%d", from+1, n)
	}
}

// splitLines splits s after each newline; the last line may have none.
func splitLines(s string) []string {
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

type diffOp struct {
	kind byte // ' ' kept, '-' deleted, '+' inserted
	line string
}

// maxEdits bounds the work of diffLines: a formatted file rarely differs
// from its source in more than a few hundred lines.
const maxEdits = 500

// diffLines returns a shortest edit script from a to b (Myers' algorithm)
// after their common prefix and suffix, or if that needs more than
// maxEdits edits, one that deletes the middle of a and inserts b's.
func diffLines(a, b []string) []diffOp {
	var ops []diffOp
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		ops = append(ops, diffOp{' ', a[pre]})
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	mid, ok := myers(ma, mb)
	if !ok {
		mid = mid[:0]
		for _, l := range ma {
			mid = append(mid, diffOp{'-', l})
		}
		for _, l := range mb {
			mid = append(mid, diffOp{'+', l})
		}
	}
	ops = append(ops, mid...)
	for _, l := range a[len(a)-suf:] {
		ops = append(ops, diffOp{' ', l})
	}
	return ops
}

// myers returns a shortest edit script from a to b, or false if it has
// more than maxEdits edits. v[k+off] is the furthest x reached on
// diagonal k = x - y; trace keeps v as it was before each round d.
func myers(a, b []string) ([]diffOp, bool) {
	n, m := len(a), len(b)
	off := maxEdits + 1
	v := make([]int, 2*off+1)
	var trace [][]int
	for d := 0; d <= maxEdits; d++ {
		trace = append(trace, append([]int(nil), v[off-d-1:off+d+2]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || k != d && v[k-1+off] < v[k+1+off] {
				x = v[k+1+off] // down: insert b[y]
			} else {
				x = v[k-1+off] + 1 // right: delete a[x]
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[k+off] = x
			if x >= n && y >= m {
				return backtrack(a, b, trace), true
			}
		}
	}
	return nil, false
}

// backtrack follows trace from the end of a and b back to their start.
func backtrack(a, b []string, trace [][]int) []diffOp {
	var rev []diffOp
	x, y := len(a), len(b)
	for d := len(trace) - 1; d >= 0; d-- {
		v := trace[d] // v[k+d+1] is the x of diagonal k before round d
		at := func(k int) int { return v[k+d+1] }
		k := x - y
		prevK := k - 1
		if k == -d || k != d && at(k-1) < at(k+1) {
			prevK = k + 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x, y = x-1, y-1
			rev = append(rev, diffOp{' ', a[x]})
		}
		if d > 0 {
			if x == prevX {
				y--
				rev = append(rev, diffOp{'+', b[y]})
			} else {
				x--
				rev = append(rev, diffOp{'-', a[x]})
			}
		}
		x, y = prevX, prevY
	}
	ops := make([]diffOp, len(rev))
	for i, op := range rev {
		ops[len(rev)-1-i] = op
	}
	return ops
}
