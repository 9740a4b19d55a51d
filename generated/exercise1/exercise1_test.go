package exercise1

import (
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// The worked example of the backprop notes: at (x, y, z) = (−2, 5, −4),
// f = (x+y)·z = −12, ∂f/∂x = ∂f/∂y = z = −4 and ∂f/∂z = x+y = 3.
func TestWorkedExample(t *testing.T) {
	f, dx, dy, dz := FGrad(-2, 5, -4)
	if f != -12 || dx != -4 || dy != -4 || dz != 3 {
		t.Errorf("FGrad(-2, 5, -4) = %v, %v, %v, %v; want -12, -4, -4, 3", f, dx, dy, dz)
	}
	if v := F(-2, 5, -4); v != -12 {
		t.Errorf("F(-2, 5, -4) = %v, want -12", v)
	}
}

func TestGradMatchesFiniteDifferencesAndAnalytic(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for range 20 {
		x := make([]float64, 3)
		gradcheck.Fill(r, x, 10)
		f, dx, dy, dz := FGrad(x[0], x[1], x[2])
		if want := F(x[0], x[1], x[2]); f != want {
			t.Errorf("FGrad value %v != F %v", f, want)
		}
		if dx != x[2] || dy != x[2] || dz != x[0]+x[1] {
			t.Errorf("at %v: grad (%v, %v, %v), want (z, z, x+y)", x, dx, dy, dz)
		}
		eval := func() float64 { return F(x[0], x[1], x[2]) }
		for _, bad := range gradcheck.Compare(eval, x, []float64{dx, dy, dz}, nil) {
			t.Errorf("at %v: %s", x, bad)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	if a := testing.AllocsPerRun(100, func() { sink, _, _, _ = FGrad(1, 2, 3) }); a != 0 {
		t.Errorf("FGrad allocates %v times per call", a)
	}
}

// sink keeps results alive, so the calls measured are not optimized away.
var sink float64

// TestFnCheck runs the checks every generated fn must pass
// (gradcheck.CheckFn).
func TestFnCheck(t *testing.T) {
	f := gradcheck.Fn{
		Name:  "F",
		Args:  []gradcheck.Arg{{Name: "x"}, {Name: "y"}, {Name: "z"}},
		Value: func(x []float64) float64 { return F(x[0], x[1], x[2]) },
		Grad: func(x, d []float64) (f float64) {
			f, d[0], d[1], d[2] = FGrad(x[0], x[1], x[2])
			return f
		},
	}
	gradcheck.CheckFn(t, f, []float64{-2, 5, -4}, gradcheck.Options{})
	gradcheck.CheckFn(t, f, []float64{0.3, -7, 2.5}, gradcheck.Options{})
}
