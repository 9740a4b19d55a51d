package blackscholes

import (
	"math"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// d1 and the normal density, written out here independently of the model.
func d1(S, K, T, r, sigma float64) float64 {
	return (math.Log(S/K) + (r+sigma*sigma/2)*T) / (sigma * math.Sqrt(T))
}

func phi(x float64) float64 { return math.Exp(-x*x/2) / math.Sqrt(2*math.Pi) }

func Phi(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// The textbook case S = K = 100, T = 1, r = 5%, σ = 20% prices at 10.4506.
func TestKnownPrice(t *testing.T) {
	if got := Call(100, 100, 1, 0.05, 0.2); math.Abs(got-10.450583572185565) > 1e-9 {
		t.Errorf("Call(100, 100, 1, 0.05, 0.2) = %.12f, want 10.450583572185565", got)
	}
}

type point struct{ S, K, T, r, sigma float64 }

func points() []point {
	pts := []point{{100, 100, 1, 0.05, 0.2}, {50, 60, 0.5, 0.01, 0.4}, {120, 90, 2, 0.03, 0.15}}
	rng := rand.New(rand.NewSource(2))
	for range 10 {
		pts = append(pts, point{50 + 100*rng.Float64(), 50 + 100*rng.Float64(), 0.1 + 3*rng.Float64(), 0.1 * rng.Float64(), 0.05 + 0.5*rng.Float64()})
	}
	return pts
}

// Delta is Φ(d1) and vega is S·φ(d1)·√T: closed forms the symbolic
// derivative must reproduce.
func TestGreeksMatchClosedForms(t *testing.T) {
	for _, p := range points() {
		price, dS, _, _, _, dsigma := CallGrad(p.S, p.K, p.T, p.r, p.sigma)
		if want := Call(p.S, p.K, p.T, p.r, p.sigma); price != want {
			t.Errorf("%+v: CallGrad value %v, Call %v", p, price, want)
		}
		d := d1(p.S, p.K, p.T, p.r, p.sigma)
		if e := gradcheck.RelErr(dS, Phi(d), 1e-12); e > 1e-12 {
			t.Errorf("%+v: delta %v, want Φ(d1) = %v", p, dS, Phi(d))
		}
		vega := p.S * phi(d) * math.Sqrt(p.T)
		if e := gradcheck.RelErr(dsigma, vega, 1e-12); e > 1e-10 {
			t.Errorf("%+v: vega %v, want S·φ(d1)·√T = %v", p, dsigma, vega)
		}
	}
}

func TestGradMatchesFiniteDifferences(t *testing.T) {
	for _, p := range points() {
		x := []float64{p.S, p.K, p.T, p.r, p.sigma}
		_, dS, dK, dT, dr, dsigma := CallGrad(x[0], x[1], x[2], x[3], x[4])
		eval := func() float64 { return Call(x[0], x[1], x[2], x[3], x[4]) }
		for _, bad := range gradcheck.Compare(eval, x, []float64{dS, dK, dT, dr, dsigma}, nil) {
			t.Errorf("%+v: %s", p, bad)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	if a := testing.AllocsPerRun(100, func() { sink, _, _, _, _, _ = CallGrad(100, 100, 1, 0.05, 0.2) }); a != 0 {
		t.Errorf("CallGrad allocates %v times per call", a)
	}
}

// sink keeps results alive, so the calls measured are not optimized away.
var sink float64

// TestFnCheck runs the checks every generated fn must pass
// (gradcheck.CheckFn).
func TestFnCheck(t *testing.T) {
	f := gradcheck.Fn{
		Name:  "Call",
		Args:  []gradcheck.Arg{{Name: "S"}, {Name: "K"}, {Name: "T"}, {Name: "r"}, {Name: "sigma"}},
		Value: func(x []float64) float64 { return Call(x[0], x[1], x[2], x[3], x[4]) },
		Grad: func(x, d []float64) (v float64) {
			v, d[0], d[1], d[2], d[3], d[4] = CallGrad(x[0], x[1], x[2], x[3], x[4])
			return v
		},
	}
	for _, p := range points() {
		gradcheck.CheckFn(t, f, []float64{p.S, p.K, p.T, p.r, p.sigma}, gradcheck.Options{})
	}
}
