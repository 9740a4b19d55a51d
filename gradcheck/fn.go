package gradcheck

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"unsafe"
)

// Fn is a generated fn (NAME and NAMEGrad) seen through its arguments
// flattened into one slice x, each array argument in row-major order.
// For fn f(x, y, z) of exercise1.bp:
//
//	gradcheck.Fn{
//		Name:  "F",
//		Args:  []gradcheck.Arg{{Name: "x"}, {Name: "y"}, {Name: "z"}},
//		Value: func(x []float64) float64 { return exercise1.F(x[0], x[1], x[2]) },
//		Grad: func(x, d []float64) (v float64) {
//			v, d[0], d[1], d[2] = exercise1.FGrad(x[0], x[1], x[2])
//			return v
//		},
//	}
//
// View turns part of x into an array argument, and part of d into the
// array a gradient is stored in.
type Fn struct {
	Name string
	// Args names the arguments and gives their shapes, in order; it names
	// the coordinates in messages, and CheckFnRandom draws as many numbers
	// as they hold. CheckFn accepts nil, and then names them x[i].
	Args []Arg
	// Value returns the fn's value at x.
	Value func(x []float64) float64
	// Grad returns the fn's value at x, computed by its gradient function,
	// and stores the partial derivatives in d, which has x's length.
	Grad func(x, d []float64) float64
}

// Arg is an argument of a fn: its name, and its dimensions (none for a
// scalar).
type Arg struct {
	Name string
	Dims []int
}

// size is how many numbers the arguments hold.
func size(args []Arg) int {
	n := 0
	for _, a := range args {
		m := 1
		for _, d := range a.Dims {
			m *= d
		}
		n += m
	}
	return n
}

// coordName returns a function naming coordinate i of x by args.
func (f Fn) coordName() func(int) string {
	return func(i int) string {
		off := 0
		for _, a := range f.Args {
			n := 1
			for _, d := range a.Dims {
				n *= d
			}
			if i >= off+n {
				off += n
				continue
			}
			s, rest := a.Name, i-off
			for j := range a.Dims {
				stride := n
				for _, d := range a.Dims[:j+1] {
					stride /= d
				}
				s += fmt.Sprintf("[%d]", rest/stride)
				rest %= stride
			}
			return s
		}
		return fmt.Sprintf("x[%d]", i)
	}
}

// CheckFn checks a generated fn at x: Grad's value is Value's, to the bit;
// Grad's partial derivatives agree with finite differences of Value (kinks
// as the package documentation says; not with Options.NoFD); neither
// allocates. A failure names the argument and element (by Args) and gives
// both values. x is left as it was. Of opt, only NoFD matters.
func CheckFn(t testing.TB, f Fn, x []float64, opt Options) {
	t.Helper()
	if f.Args != nil && size(f.Args) != len(x) {
		t.Errorf("%s: Args hold %d numbers, x has %d", f.Name, size(f.Args), len(x))
		return
	}
	at := fmt.Sprint(x)
	d := make([]float64, len(x))
	v := f.Value(x)
	if gv := f.Grad(x, d); !sameBits(gv, v) {
		t.Errorf("%s at %s: the gradient function's value %v, the value function's %v", f.Name, at, gv, v)
	}
	if !opt.NoFD {
		compare(func() float64 { return f.Value(x) }, x, d, nil, f.coordName()).report(t, fmt.Sprintf("%s at %s", f.Name, at))
	}
	if a := testing.AllocsPerRun(5, func() { f.Value(x) }); a != 0 {
		t.Errorf("%s allocates %v times per call", f.Name, a)
	}
	if a := testing.AllocsPerRun(5, func() { f.Grad(x, d) }); a != 0 {
		t.Errorf("%sGrad allocates %v times per call", f.Name, a)
	}
}

// CheckFnRandom runs CheckFn at Options.Points random points (3 by
// default) drawn from Options.Seed, as many numbers as Args hold. Each is
// drawn uniformly from [−1, 1], or failing that from [0.1, 1.1] (for fns of
// positive arguments such as log, sqrt and pow): a point where the value
// or a derivative is not finite is drawn again, 20 times from each range.
func CheckFnRandom(t testing.TB, f Fn, opt Options) {
	t.Helper()
	points := opt.Points
	if points == 0 {
		points = 3
	}
	n := size(f.Args)
	for k := range points {
		seed := opt.Seed + uint64(k)
		x, ok := drawFn(f, n, seed)
		if !ok {
			t.Errorf("%s: not finite at 40 random points (seed %d): check it with CheckFn at a point where it is defined", f.Name, seed)
			continue
		}
		CheckFn(t, f, x, opt)
	}
}

func drawFn(f Fn, n int, seed uint64) ([]float64, bool) {
	r := rand.New(rand.NewPCG(seed, 3))
	x, d := make([]float64, n), make([]float64, n)
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	for try := range 40 {
		Fill(r, x, 1)
		if try >= 20 {
			for i := range x {
				x[i] = 0.6 + x[i]/2
			}
		}
		ok := finite(f.Value(x)) && finite(f.Grad(x, d))
		for _, e := range d {
			ok = ok && finite(e)
		}
		if ok {
			return x, true
		}
	}
	return nil, false
}

// View returns x[off:] seen as a *A, A an array of float64 of any rank
// ([4]float64, [2][3]float64), sharing x's memory: the glue between a
// fn's flat Fn.Value and Fn.Grad and its array arguments and results. It
// panics if A is not such an array or x is too short.
func View[A any](x []float64, off int) *A {
	n := int(unsafe.Sizeof(*new(A)) / 8)
	t := reflect.TypeFor[A]()
	for t.Kind() == reflect.Array {
		t = t.Elem()
	}
	if t.Kind() != reflect.Float64 {
		panic(fmt.Sprintf("gradcheck.View: %v is not an array of float64", reflect.TypeFor[A]()))
	}
	if n == 0 {
		return new(A)
	}
	return (*A)(unsafe.Pointer(&x[off:][:n][0]))
}
