package mixed

import (
	"math"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

func direct(p *MixedParams, in *MixedInputs) (float64, [3]float64) {
	M := p.W
	h := in.X
	for range 3 {
		var next [3][3]float64
		for i := range 3 {
			for j := range 3 {
				for k := range 3 {
					next[i][j] += M[i][k] * p.W[k][j]
				}
				next[i][j] *= 0.5
			}
		}
		M = next
		var hn [3]float64
		for i := range 3 {
			z := p.V[i]
			for k := range 3 {
				z += M[i][k] * h[k]
			}
			hn[i] = math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z)))
		}
		h = hn
	}
	var loss float64
	for i := range 3 {
		loss += h[i] * p.V[i]
		for j := range 3 {
			loss += p.W[i][j] * p.W[i][j] * 0.01
		}
	}
	return loss, h
}

// A matrix state, matrix products in the body, and parameters whose
// gradient comes both from inside the loop and from outside it.
func TestMixed(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for trial := range 5 {
		var p MixedParams
		gradcheck.Fill(r, p.Flat(), 1)
		var in MixedInputs
		gradcheck.Fill(r, in.X[:], 1)
		var ws MixedWorkspace
		var out MixedOutputs
		want, wantH := direct(&p, &in)
		if got := p.Forward(&ws, &in, &out); math.Abs(got-want) > 1e-12*math.Max(1, math.Abs(want)) {
			t.Errorf("trial %d: loss %v, direct %v", trial, got, want)
		}
		for i := range wantH {
			if math.Abs(out.H[i]-wantH[i]) > 1e-12 {
				t.Errorf("trial %d: output h %v, direct %v", trial, out.H, wantH)
			}
		}
		var g MixedParams
		p.LossGrad(&ws, &in, &g)
		loss := func() float64 { return p.Forward(&ws, &in, nil) }
		for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), nil) {
			t.Errorf("trial %d: %s", trial, bad)
		}
	}
}
