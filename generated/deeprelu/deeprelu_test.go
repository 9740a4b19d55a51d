package deeprelu

import (
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

func random(seed int64, scale float64) (*DeepreluParams, *DeepreluInputs) {
	r := rand.New(rand.NewSource(seed))
	p := new(DeepreluParams)
	gradcheck.Fill(r, p.Flat(), scale)
	in := new(DeepreluInputs)
	gradcheck.Fill(r, in.X[:], 1)
	return p, in
}

// Indexing the stacked parameters by the loop variable, W[l], and the
// gradient's scatter back into dW[l], against central differences on a
// sample of every layer's weights.
func TestGradMatchesFiniteDifferences(t *testing.T) {
	for seed := int64(1); seed <= 2; seed++ {
		p, in := random(seed, 0.4) // He-like scale: activations stay of order 1 over 20 layers
		var ws DeepreluWorkspace
		var g DeepreluParams
		p.LossGrad(&ws, in, &g)
		loss := func() float64 { return p.Forward(&ws, in, nil) }
		idx := gradcheck.Sample(rand.New(rand.NewSource(seed)), DeepreluNumParams, 600)
		for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), idx) {
			t.Errorf("seed %d: %s", seed, bad)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	p, in := random(2, 1)
	var ws DeepreluWorkspace
	var g DeepreluParams
	if a := testing.AllocsPerRun(20, func() { p.LossGrad(&ws, in, &g) }); a != 0 {
		t.Errorf("LossGrad allocates %v times", a)
	}
}
