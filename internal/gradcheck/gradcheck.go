// Package gradcheck compares gradients with central finite differences. It
// is used by the tests of generated code.
package gradcheck

import (
	"fmt"
	"math"
	"math/rand"
)

// Step is the finite-difference step. Central differences have error
// O(Step²) from truncation and O(ε/Step) from rounding; 1e-5 balances the
// two near 1e-10 relative error for smooth functions of moderate size.
const Step = 1e-5

// Central returns (f(x+h·e_i) - f(x-h·e_i)) / 2h for coordinate i of x,
// perturbing x[i] in place and restoring it.
func Central(f func() float64, x []float64, i int) float64 {
	old := x[i]
	x[i] = old + Step
	plus := f()
	x[i] = old - Step
	minus := f()
	x[i] = old
	return (plus - minus) / (2 * Step)
}

// RelErr is |a-b| / max(|a|, |b|, floor): relative error where the
// derivative is not tiny, absolute error scaled by floor where it is.
func RelErr(a, b, floor float64) float64 {
	return math.Abs(a-b) / math.Max(math.Max(math.Abs(a), math.Abs(b)), floor)
}

// Floor is the magnitude under which a derivative counts as tiny.
const Floor = 1e-2

// Tolerance is the largest relative error accepted.
const Tolerance = 1e-6

// Compare checks grad, the analytic gradient of f at x, against central
// differences at the coordinates in idx (all if idx is nil) and returns a
// description of each mismatch.
func Compare(f func() float64, x, grad []float64, idx []int) []string {
	if idx == nil {
		idx = make([]int, len(x))
		for i := range idx {
			idx[i] = i
		}
	}
	var bad []string
	for _, i := range idx {
		num := Central(f, x, i)
		if e := RelErr(grad[i], num, Floor); !(e < Tolerance) {
			bad = append(bad, fmt.Sprintf("coordinate %d: analytic %.12g, numeric %.12g, relative error %.3g", i, grad[i], num, e))
		}
	}
	return bad
}

// Sample returns k distinct coordinates of n, chosen by r, in increasing
// order (all of them if k >= n).
func Sample(r *rand.Rand, n, k int) []int {
	if k >= n {
		return nil
	}
	perm := r.Perm(n)[:k]
	out := make([]int, 0, k)
	seen := make(map[int]bool, k)
	for _, p := range perm {
		seen[p] = true
	}
	for i := 0; i < n; i++ {
		if seen[i] {
			out = append(out, i)
		}
	}
	return out
}

// Fill sets every element of x to a uniform value in [-scale, scale).
func Fill(r *rand.Rand, x []float64, scale float64) {
	for i := range x {
		x[i] = (2*r.Float64() - 1) * scale
	}
}
