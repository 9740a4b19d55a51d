package gru

import (
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// sample is the model and input TestModel checks for a seed.
func sample(seed int64) (*GruParams, *GruInputs) {
	return random(seed)
}

// TestModel runs the checks every generated model must pass: finite
// differences, Forward+Backward = LossGrad to the bit, Backward adding into
// g, the overwrite forms, Predict = Forward's outputs, Layout, no
// allocations (gradcheck.CheckModel).
func TestModel(t *testing.T) {
	for seed := int64(1); seed <= 3; seed++ {
		p, in := sample(seed)
		gradcheck.CheckModel[GruParams, GruWorkspace, GruInputs, GruOutputs](t, p, in, gradcheck.Options{Coords: 300, Seed: uint64(seed)})
	}
}

// TestInit checks Init's determinism and the spread of what it draws.
func TestInit(t *testing.T) { gradcheck.CheckInit[GruParams](t) }
