package deepres

import (
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

func random(seed int64, scale float64) (*DeepresParams, *DeepresInputs) {
	r := rand.New(rand.NewSource(seed))
	p := new(DeepresParams)
	gradcheck.Fill(r, p.Flat(), scale)
	in := new(DeepresInputs)
	gradcheck.Fill(r, in.X[:], 1)
	return p, in
}

// Indexing the stacked parameters by the loop variable, W[l], and the
// gradient's scatter back into dW[l], against central differences on a
// sample of every layer's weights.
func TestGradMatchesFiniteDifferences(t *testing.T) {
	for seed := int64(1); seed <= 2; seed++ {
		p, in := random(seed, 1)
		var ws DeepresWorkspace
		var g DeepresParams
		p.LossGrad(&ws, in, &g)
		loss := func() float64 { return p.Forward(&ws, in, nil) }
		idx := gradcheck.Sample(rand.New(rand.NewSource(seed)), DeepresNumParams, 600)
		for _, bad := range gradcheck.Compare(loss, p.Flat(), g.Flat(), idx) {
			t.Errorf("seed %d: %s", seed, bad)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	p, in := random(2, 1)
	var ws DeepresWorkspace
	var g DeepresParams
	if a := testing.AllocsPerRun(20, func() { p.LossGrad(&ws, in, &g) }); a != 0 {
		t.Errorf("LossGrad allocates %v times", a)
	}
}
