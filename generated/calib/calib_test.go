package calib

import (
	"math"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

func data(r *rand.Rand) *CalibInputs {
	in := new(CalibInputs)
	for i := range in.T {
		in.T[i] = float64(i) * 0.4
		in.Obs[i] = 2*math.Exp(-0.3*in.T[i])*math.Cos(1.5*in.T[i]+0.2) + 0.05*r.NormFloat64()
	}
	return in
}

func TestGradMatchesFiniteDifferences(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	in := data(r)
	for trial := range 5 {
		p := CalibParams{Amp: 1 + r.Float64(), Decay: r.Float64(), Freq: 1 + r.Float64(), Phase: r.Float64()}
		var ws CalibWorkspace
		var g CalibParams
		p.LossGrad(&ws, in, &g)
		loss := func() float64 { return p.Forward(&ws, in, nil) }
		for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), nil) {
			t.Errorf("trial %d: %s", trial, bad)
		}
		// Forward followed by Backward gives what LossGrad gives.
		var g2 CalibParams
		p.Forward(&ws, in, nil)
		p.Backward(&ws, in, &g2)
		if g2 != g {
			t.Errorf("trial %d: Forward+Backward %+v, LossGrad %+v", trial, g2, g)
		}
	}
}

// The model's output is the fn it calls, evaluated directly.
func TestOutputIsTheCalledFn(t *testing.T) {
	in := data(rand.New(rand.NewSource(2)))
	p := CalibParams{Amp: 2, Decay: 0.3, Freq: 1.5, Phase: 0.2}
	var ws CalibWorkspace
	var out CalibOutputs
	p.Forward(&ws, in, &out)
	if want := Oscillator(2, 0.3, 1.5, 0.2, in.T); out.Fit != want {
		t.Errorf("fit %v, Oscillator %v", out.Fit, want)
	}
}

// Gradient descent with the generated gradient and Step fits the curve.
func TestStepFits(t *testing.T) {
	in := data(rand.New(rand.NewSource(3)))
	p := CalibParams{Amp: 1, Decay: 0.1, Freq: 1.2, Phase: 0}
	var ws CalibWorkspace
	first := p.Forward(&ws, in, nil)
	var last float64
	for range 2000 {
		var g CalibParams
		last = p.LossGrad(&ws, in, &g)
		p.Step(&g, 0.05)
	}
	if !(last < first/10) {
		t.Errorf("loss went from %v to %v", first, last)
	}
}

func TestNoAllocs(t *testing.T) {
	in := data(rand.New(rand.NewSource(4)))
	p := CalibParams{Amp: 1, Decay: 0.1, Freq: 1.2}
	var ws CalibWorkspace
	var g CalibParams
	if a := testing.AllocsPerRun(100, func() { p.LossGrad(&ws, in, &g) }); a != 0 {
		t.Errorf("LossGrad allocates %v times", a)
	}
}
