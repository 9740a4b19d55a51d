package nested

import (
	"math"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// The loss written out with plain nested loops.
func direct(p *NestedParams, in *NestedInputs) float64 {
	var s float64
	var h [4]float64
	for i := range 3 {
		for k := range h {
			h[k] = math.Tanh(h[k]*p.U + in.X[i][k])
		}
		for j := range 2 {
			var d float64
			for k := range h {
				d += p.W[k] * h[k]
			}
			s += d * p.W[j] * p.U
			for k := range h {
				h[k] = h[k]*0.5 + p.W[k]
			}
		}
	}
	var sum float64
	for _, v := range h {
		sum += v
	}
	return s*s + sum
}

func TestNestedLoops(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for trial := range 5 {
		var p NestedParams
		gradcheck.Fill(r, p.Flat(), 1)
		var in NestedInputs
		for i := range in.X {
			gradcheck.Fill(r, in.X[i][:], 1)
		}
		var ws NestedWorkspace
		if got, want := p.Forward(&ws, &in, nil), direct(&p, &in); math.Abs(got-want) > 1e-12*math.Abs(want) {
			t.Errorf("trial %d: loss %v, direct %v", trial, got, want)
		}
		var g NestedParams
		p.LossGrad(&ws, &in, &g)
		loss := func() float64 { return p.Forward(&ws, &in, nil) }
		for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), nil) {
			t.Errorf("trial %d: %s", trial, bad)
		}
	}
}
