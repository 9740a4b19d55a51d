package swap

import (
	"math"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// direct is the loss written out in plain Go.
func direct(p *SwapParams, in *SwapInputs) float64 {
	a := p.W
	var b [3]float64
	for k := range b {
		b[k] = p.W[k] * 0.5
	}
	var s float64
	for t := range 4 {
		tmp := a
		for k := range a {
			a[k] = b[k]*p.U + in.X[t][k]
		}
		b = tmp
		for k := range a {
			s += a[k]*b[k] + a[k]*p.W[k]
		}
	}
	var sum float64
	for _, v := range a {
		sum += v
	}
	return s + sum*0.1
}

// Carried values that trade places (a swap through a temporary) and a
// state read after its update in the same step.
func TestSwap(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for trial := range 5 {
		var p SwapParams
		gradcheck.Fill(r, p.Flat(), 1)
		var in SwapInputs
		for i := range in.X {
			gradcheck.Fill(r, in.X[i][:], 1)
		}
		var ws SwapWorkspace
		if got, want := p.Forward(&ws, &in, nil), direct(&p, &in); math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("trial %d: loss %v, direct %v", trial, got, want)
		}
		var g SwapParams
		p.LossGrad(&ws, &in, &g)
		loss := func() float64 { return p.Forward(&ws, &in, nil) }
		for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), nil) {
			t.Errorf("trial %d: %s", trial, bad)
		}
	}
}
