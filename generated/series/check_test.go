package series

import (
	"math"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// sample is the model and input TestModel checks for a seed, with the
// categories in their range; some repeat, so that rows of E gathered
// twice get both gradients.
func sample(seed int64) (*SeriesParams, *SeriesInputs) {
	r := rand.New(rand.NewSource(seed))
	p, in := new(SeriesParams), new(SeriesInputs)
	gradcheck.Fill(r, p.Flat(), 1)
	gradcheck.Fill(r, in.Flat(), 1)
	for i := range in.Days {
		in.Days[i] = r.Intn(len(p.E))
	}
	return p, in
}

// TestModel runs the checks every generated model must pass: finite
// differences, Forward+Backward = LossGrad to the bit, Backward adding into
// g, the overwrite forms, Predict = Forward's outputs, Layout, no
// allocations (gradcheck.CheckModel).
func TestModel(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		p, in := sample(seed)
		gradcheck.CheckModel[SeriesParams, SeriesWorkspace, SeriesInputs, SeriesOutputs](t, p, in, gradcheck.Options{Coords: 0, Seed: uint64(seed)})
	}
}

// TestInit checks Init's determinism and the spread of what it draws.
func TestInit(t *testing.T) { gradcheck.CheckInit[SeriesParams](t) }

// TestLossByHand computes the loss of series.bp with plain loops, to check
// the offsets and the gather against an independent reading of the model.
func TestLossByHand(t *testing.T) {
	p, in := sample(7)
	var ws SeriesWorkspace
	got := p.Forward(&ws, in, nil)
	var h [32][3]float64
	for s := range h {
		h[s] = p.E[in.Days[s]]
	}
	want := 0.0
	for s := 4; s < 32; s++ {
		y := p.B
		for k := range 4 {
			y += p.W[k] * in.Xs[s-4+k]
		}
		for i := range 3 {
			a := 0.0
			for k := range 4 {
				a += p.A[i][k] * in.Xs[s-4+k]
			}
			m := 0.0
			for k := range 4 {
				m += h[s-4+k][i]
			}
			y += p.V[i] * math.Tanh(a+h[s][i]-h[s-1][i]+m/4)
		}
		want += (y - in.Xs[s]) * (y - in.Xs[s])
	}
	want /= 28
	if math.Abs(got-want) > 1e-12*math.Abs(want) {
		t.Errorf("loss %v, want %v", got, want)
	}
}
