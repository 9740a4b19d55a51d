package deep

import (
	"math"
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

func random(seed int64, scale float64) (*DeepParams, *DeepInputs) {
	r := rand.New(rand.NewSource(seed))
	p := new(DeepParams)
	gradcheck.Fill(r, p.Flat(), scale)
	in := new(DeepInputs)
	gradcheck.Fill(r, in.X[:], 1)
	return p, in
}

// Indexing the stacked parameters by the loop variable, W[l], and the
// gradient's scatter back into dW[l], against central differences on a
// sample of every layer's weights.
func TestGradMatchesFiniteDifferences(t *testing.T) {
	for seed := int64(1); seed <= 2; seed++ {
		p, in := random(seed, 1)
		var ws DeepWorkspace
		var g DeepParams
		p.LossGrad(&ws, in, &g)
		loss := func() float64 { return p.Forward(&ws, in, nil) }
		idx := gradcheck.Sample(rand.New(rand.NewSource(seed)), DeepNumParams, 600)
		for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), idx) {
			t.Errorf("seed %d: %s", seed, bad)
		}
	}
}

// The gradient reaching early layers of a sigmoid stack shrinks roughly
// geometrically (σ' ≤ 1/4): the vanishing gradient of the notes.
func TestGradientVanishesTowardTheInput(t *testing.T) {
	p, in := random(3, 0.3)
	var ws DeepWorkspace
	var g DeepParams
	p.LossGrad(&ws, in, &g)
	norm := func(l int) float64 {
		var s float64
		for _, row := range g.W[l] {
			for _, v := range row {
				s += v * v
			}
		}
		return math.Sqrt(s)
	}
	first, last := norm(0), norm(19)
	if !(first < last*1e-6) {
		t.Errorf("|dW[0]| = %g, |dW[19]| = %g: expected the first layer's gradient to vanish", first, last)
	}
}

func TestNoAllocs(t *testing.T) {
	p, in := random(2, 1)
	var ws DeepWorkspace
	var g DeepParams
	if a := testing.AllocsPerRun(20, func() { p.LossGrad(&ws, in, &g) }); a != 0 {
		t.Errorf("LossGrad allocates %v times", a)
	}
}
