package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// impl is one implementation of the three kernels.
type impl struct {
	name       string
	nt, nn, tn func(m, n, k int, a, b, c []float64, add bool)
}

// impls are the implementations under test; kernels_simd_test.go adds the
// archsimd ones.
var impls = []impl{{"go", gemmNTGo, gemmNNGo, gemmTNGo}}

// naive computes c (+)= op(a)·op(b), where op transposes a if ta and b if
// tb, by the triple loop.
func naive(m, n, k int, a, b, c []float64, add, ta, tb bool) {
	for i := range m {
		for j := range n {
			s := 0.0
			for p := range k {
				x, y := a[i*k+p], b[p*n+j]
				if ta {
					x = a[p*m+i]
				}
				if tb {
					y = b[j*k+p]
				}
				s += x * y
			}
			if add {
				s += c[i*n+j]
			}
			c[i*n+j] = s
		}
	}
}

func random(r *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = r.Float64()*2 - 1
	}
	return s
}

// close reports the first entry where got and want differ by more than
// 1e-12 relative (absolute below 1).
func close(got, want []float64) error {
	for i := range want {
		if !(math.Abs(got[i]-want[i]) <= 1e-12*math.Max(1, math.Abs(want[i]))) {
			return fmt.Errorf("c[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	return nil
}

// shapes are the products that matter and edge cases around the block
// sizes; TestKernels adds random ones.
var shapes = [][3]int{
	// sample-last: mnist over a tile of 32, the recurrent models' steps
	{128, 32, 784}, {10, 32, 128}, {128, 32, 10}, {128, 784, 32}, {10, 128, 32},
	{16, 32, 16}, {16, 32, 4}, {16, 16, 32}, {16, 4, 32}, {16, 8, 16}, {16, 16, 8},
	// around the switches (k 64 for GemmNN's panel and GemmNT's packing) and
	// blocks (2×3 portable, 4 rows × 16 or 8 columns, 8×8 transposes)
	{5, 37, 64}, {6, 23, 65}, {3, 40, 63}, {4, 15, 64}, {4, 16, 63}, {9, 17, 7}, {130, 33, 70},
	{1, 16, 32}, {3, 24, 12}, {7, 47, 33}, {2, 3, 64}, {1, 2, 200}, {3, 1, 100},
	// sample-first (before)
	{32, 128, 784}, {32, 128, 10}, {128, 784, 32}, {10, 128, 32},
	{8, 16, 16}, {32, 16, 16}, {8, 16, 4}, {32, 16, 4}, {16, 16, 8}, {16, 16, 32},
	{1, 1, 1}, {1, 1, 9}, {1, 17, 1}, {5, 1, 3}, {4, 16, 8}, {4, 24, 300}, {7, 31, 600},
}

func TestKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	all := append([][3]int(nil), shapes...)
	for range 300 {
		all = append(all, [3]int{1 + r.IntN(40), 1 + r.IntN(40), 1 + r.IntN(40)})
	}
	for range 20 {
		all = append(all, [3]int{1 + r.IntN(20), 1 + r.IntN(70), 250 + r.IntN(300)})
	}
	for range 60 {
		all = append(all, [3]int{1 + r.IntN(40), 1 + r.IntN(100), 40 + r.IntN(50)})
	}
	for _, s := range all {
		m, n, k := s[0], s[1], s[2]
		a, b, c0 := random(r, m*k), random(r, k*n), random(r, m*n)
		for _, add := range []bool{false, true} {
			for _, kn := range []struct {
				name   string
				ta, tb bool
				f      func(impl) func(m, n, k int, a, b, c []float64, add bool)
			}{
				{"NT", false, true, func(x impl) func(m, n, k int, a, b, c []float64, add bool) { return x.nt }},
				{"NN", false, false, func(x impl) func(m, n, k int, a, b, c []float64, add bool) { return x.nn }},
				{"TN", true, false, func(x impl) func(m, n, k int, a, b, c []float64, add bool) { return x.tn }},
			} {
				want := append([]float64(nil), c0...)
				naive(m, n, k, a, b, want, add, kn.ta, kn.tb)
				for _, x := range impls {
					got := append([]float64(nil), c0...)
					if !add {
						for i := range got {
							got[i] = math.NaN()
						}
					}
					kn.f(x)(m, n, k, a, b, got, add)
					if err := close(got, want); err != nil {
						t.Fatalf("%s %s m=%d n=%d k=%d add=%v: %v", x.name, kn.name, m, n, k, add, err)
					}
				}
			}
		}
	}
}

// TestAgree checks every implementation against the portable one on the
// shapes that matter (TestKernels checks each against the triple loop).
func TestAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		a, b := random(r, m*k), random(r, k*n)
		for _, x := range impls[1:] {
			for f, pair := range [][2]func(m, n, k int, a, b, c []float64, add bool){{impls[0].nt, x.nt}, {impls[0].nn, x.nn}, {impls[0].tn, x.tn}} {
				for _, add := range []bool{false, true} {
					want, got := random(r, m*n), make([]float64, m*n)
					copy(got, want)
					pair[0](m, n, k, a, b, want, add)
					pair[1](m, n, k, a, b, got, add)
					if err := close(got, want); err != nil {
						t.Errorf("%s %s m=%d n=%d k=%d add=%v: %v", x.name, []string{"NT", "NN", "TN"}[f], m, n, k, add, err)
					}
				}
			}
		}
	}
}

// TestDispatch checks that the kernels are the last (best) implementation
// available, and that they allocate nothing.
func TestDispatch(t *testing.T) {
	best := impls[len(impls)-1]
	for _, p := range [][2]any{{GemmNT, best.nt}, {GemmNN, best.nn}, {GemmTN, best.tn}} {
		if reflect.ValueOf(p[0]).Pointer() != reflect.ValueOf(p[1]).Pointer() {
			t.Errorf("a kernel is not %s's", best.name)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range [][3]int{{32, 128, 784}, {128, 784, 32}, {16, 16, 8}} {
		m, n, k := s[0], s[1], s[2]
		a, b, c := random(r, m*k), random(r, n*k), random(r, m*n)
		if got := testing.AllocsPerRun(10, func() {
			GemmNT(m, n, k, a, b, c, false)
			GemmNT(m, n, k, a, b, c, true)
			GemmNN(m, k, n, c, b, a, true)
			GemmNN(m, k, n, c, b, a, false)
			GemmTN(k, n, m, a, c, b, false)
		}); got != 0 {
			t.Errorf("m=%d n=%d k=%d: %v allocations per run, want 0", m, n, k, got)
		}
	}
}
