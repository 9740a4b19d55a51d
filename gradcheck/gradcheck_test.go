package gradcheck_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// recorder is a testing.TB that keeps what a check reports.
type recorder struct {
	testing.TB
	errs, logs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Logf(format string, args ...any) {
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func checkTiny(t *testing.T, p *tinyParams, in *tinyInputs) *recorder {
	r := &recorder{TB: t}
	if p == nil {
		gradcheck.CheckModelRandom[tinyParams, tinyWorkspace, tinyInputs, tinyOutputs](r, gradcheck.Options{Seed: 7})
	} else {
		gradcheck.CheckModel[tinyParams, tinyWorkspace, tinyInputs, tinyOutputs](r, p, in, gradcheck.Options{})
	}
	return r
}

// wantOne checks that r has errors and that the first contains each of
// parts.
func wantError(t *testing.T, r *recorder, parts ...string) {
	t.Helper()
	if len(r.errs) == 0 {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, s := range parts {
		if !strings.Contains(r.errs[0], s) {
			t.Errorf("error %q does not contain %q", r.errs[0], s)
		}
	}
}

func TestCorrectModelPasses(t *testing.T) {
	bug = ""
	r := checkTiny(t, nil, nil)
	if len(r.errs) != 0 {
		t.Errorf("errors for a correct model: %q", r.errs)
	}
	p := &tinyParams{W: [2][2]float64{{1, 2}, {-1, 0.5}}, B: [2]float64{0.1, -0.2}}
	for k := range 2 {
		if r := checkTiny(t, p, &tinyInputs{X: [2]float64{0.3, -0.7}, Y: 0.25, K: k}); len(r.errs) != 0 {
			t.Errorf("k = %d: errors for a correct model: %q", k, r.errs)
		}
	}
	ri := &recorder{TB: t}
	gradcheck.CheckInit[tinyParams](ri)
	if len(ri.errs) != 0 {
		t.Errorf("CheckInit: %q", ri.errs)
	}
}

// Each broken method is reported, naming the parameter and element.
func TestBrokenModelsFail(t *testing.T) {
	defer func() { bug = "" }()
	for _, c := range []struct {
		bug   string
		parts []string
	}{
		{"grad", []string{"finite differences: ", "W[1][0] (Flat()[2]): analytic", "numeric"}},
		{"lossgrad", []string{"LossGrad vs Forward+Backward: b[0] (Flat()[4])"}},
		{"to", []string{"BackwardTo vs Backward into zero: W[1][0] (Flat()[2]) is NaN"}},
		{"alloc", []string{"Forward allocates"}},
	} {
		bug = c.bug
		r := checkTiny(t, nil, nil)
		t.Run(c.bug, func(t *testing.T) {
			wantError(t, r, append(c.parts, "point 0 (seed 7): ")...)
		})
	}
}

// At a kink of relu, a subgradient passes and is logged; a derivative
// outside the one-sided differences fails; a point at kinks mostly fails.
func TestKinks(t *testing.T) {
	defer func() { bug = "" }()
	bug = ""
	// h[0] = 0.5·1 + 0·2 − 0.5 = 0: relu is at its kink along W[0][0],
	// W[0][1] and b[0], three coordinates of six.
	p := &tinyParams{W: [2][2]float64{{0.5, 0}, {-1, 0.5}}, B: [2]float64{-0.5, 0.3}}
	in := &tinyInputs{X: [2]float64{1, 2}, Y: 0.25}
	r := checkTiny(t, p, in)
	if len(r.errs) != 0 {
		t.Errorf("errors at a kink with the subgradient 0: %q", r.errs)
	}
	if len(r.logs) != 1 || !strings.Contains(r.logs[0], "3 of 6 coordinates") || !strings.Contains(r.logs[0], "b[0]") {
		t.Errorf("logs %q, want one naming the 3 coordinates at kinks", r.logs)
	}

	bug = "kink"
	r = checkTiny(t, p, in)
	wantError(t, r, "W[0][0] (Flat()[0]): analytic 2 at a kink, not between the one-sided differences")

	// Zero parameters put both relus on their kinks, and with y = 0 the
	// squared term is flat: all 6 coordinates are at kinks.
	bug = ""
	r = checkTiny(t, &tinyParams{}, &tinyInputs{X: [2]float64{1, 1}})
	wantError(t, r, "coordinates are within", "choose a point away from the kinks")
}

// A kink between Step/10 and Step of the point spoils the central
// difference at Step, and not the one at Step/10.
func TestKinkNearby(t *testing.T) {
	x := []float64{3e-6}
	f := func() float64 { return math.Abs(x[0]) }
	if bad := gradcheck.Compare(f, x, []float64{1}, nil); len(bad) != 0 {
		t.Errorf("abs at 3e-6: %q", bad)
	}
	if bad := gradcheck.Compare(f, x, []float64{0.9}, nil); len(bad) != 1 {
		t.Errorf("abs at 3e-6 with derivative 0.9: %q, want one mismatch", bad)
	}
}

// A smooth function with a wrong derivative and a large second derivative
// is not taken for a kink.
func TestCurvatureIsNoKink(t *testing.T) {
	x := []float64{0.01}
	f := func() float64 { return math.Exp(1000 * x[0]) }
	want := 1000 * math.Exp(10)
	if bad := gradcheck.Compare(f, x, []float64{want}, nil); len(bad) != 0 {
		t.Errorf("right derivative: %q", bad)
	}
	if bad := gradcheck.Compare(f, x, []float64{want * (1 + 1e-4)}, nil); len(bad) != 1 || strings.Contains(bad[0], "kink") {
		t.Errorf("wrong derivative: %q, want one mismatch, no kink", bad)
	}
}

// matFn is a fn of a matrix and a scalar, through View:
// f(a[2, 2], s) = s·log(a[0][0]) + sum(a).
var matFn = gradcheck.Fn{
	Name: "F",
	Args: []gradcheck.Arg{{Name: "a", Dims: []int{2, 2}}, {Name: "s"}},
	Value: func(x []float64) float64 {
		a, s := *gradcheck.View[[2][2]float64](x, 0), x[4]
		return s*math.Log(a[0][0]) + a[0][0] + a[0][1] + a[1][0] + a[1][1]
	},
	Grad: func(x, d []float64) float64 {
		a, s := *gradcheck.View[[2][2]float64](x, 0), x[4]
		da := gradcheck.View[[2][2]float64](d, 0)
		*da = [2][2]float64{{1 + s/a[0][0], 1}, {1, 1}}
		if bug == "grad" {
			da[1][0] = 1.5
		}
		d[4] = math.Log(a[0][0])
		return s*math.Log(a[0][0]) + a[0][0] + a[0][1] + a[1][0] + a[1][1]
	},
}

func TestCheckFn(t *testing.T) {
	defer func() { bug = "" }()
	bug = ""
	r := &recorder{TB: t}
	gradcheck.CheckFnRandom(r, matFn, gradcheck.Options{Points: 5})
	if len(r.errs) != 0 {
		t.Errorf("errors for a correct fn: %q", r.errs)
	}
	bug = "grad"
	gradcheck.CheckFn(r, matFn, []float64{0.5, 1, 2, 3, 4}, gradcheck.Options{})
	wantError(t, r, "F at [0.5 1 2 3 4]: a[1][0]: analytic 1.5, numeric 1")
}

func TestView(t *testing.T) {
	x := []float64{0, 1, 2, 3, 4, 5, 6}
	if got := *gradcheck.View[[2][3]float64](x, 1); got != [2][3]float64{{1, 2, 3}, {4, 5, 6}} {
		t.Errorf("View[[2][3]float64](x, 1) = %v", got)
	}
	gradcheck.View[[2]float64](x, 0)[1] = 10
	if x[1] != 10 {
		t.Errorf("View does not share x's memory")
	}
	if a := testing.AllocsPerRun(10, func() { gradcheck.View[[2][3]float64](x, 1)[0][0]++ }); a != 0 {
		t.Errorf("View allocates %v times", a)
	}
	for _, f := range []func(){
		func() { gradcheck.View[[2][3]float64](x, 2) },
		func() { gradcheck.View[[2]int](x, 0) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("View did not panic")
				}
			}()
			f()
		}()
	}
}

func TestSample(t *testing.T) {
	r := fakeRand{}
	if got := gradcheck.Sample(r, 5, 0); got != nil {
		t.Errorf("Sample(5, 0) = %v, want nil (all)", got)
	}
	if got := gradcheck.Sample(r, 5, 2); fmt.Sprint(got) != "[3 4]" {
		t.Errorf("Sample(5, 2) = %v, want [3 4]", got)
	}
}

// fakeRand's permutation is n−1, ..., 0.
type fakeRand struct{}

func (fakeRand) Perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = n - 1 - i
	}
	return p
}
