package layers

import (
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// sample is the model and input TestModel checks for a seed, with a label
// in its range.
func sample(seed int64) (*LayersParams, *LayersInputs) {
	r := rand.New(rand.NewSource(seed))
	p, in := new(LayersParams), new(LayersInputs)
	gradcheck.Fill(r, p.Flat(), 1)
	gradcheck.Fill(r, in.Flat(), 1)
	in.Label = r.Intn(len(p.B3))
	return p, in
}

// TestModel runs the checks every generated model must pass: finite
// differences, Forward+Backward = LossGrad to the bit, Backward adding into
// g, the overwrite forms, Predict = Forward's outputs, Layout, no
// allocations (gradcheck.CheckModel).
func TestModel(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		p, in := sample(seed)
		gradcheck.CheckModel[LayersParams, LayersWorkspace, LayersInputs, LayersOutputs](t, p, in, gradcheck.Options{Coords: 0, Seed: uint64(seed)})
	}
}

// TestInit checks Init's determinism and the spread of what it draws.
func TestInit(t *testing.T) { gradcheck.CheckInit[LayersParams](t) }
