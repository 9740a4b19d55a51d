package attention

import (
	"math/rand"
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// sample is the model and input TestModel checks for a seed, with labels
// in its range.
func sample(seed int64) (*AttentionParams, *AttentionInputs) {
	r := rand.New(rand.NewSource(seed))
	p, in := new(AttentionParams), new(AttentionInputs)
	gradcheck.Fill(r, p.Flat(), 1)
	gradcheck.Fill(r, in.Flat(), 1)
	for i := range in.Labels {
		in.Labels[i] = r.Intn(len(p.B))
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
		gradcheck.CheckModel[AttentionParams, AttentionWorkspace, AttentionInputs, AttentionOutputs](t, p, in, gradcheck.Options{Coords: 0, Seed: uint64(seed)})
	}
}

// TestInit checks Init's determinism and the spread of what it draws.
func TestInit(t *testing.T) { gradcheck.CheckInit[AttentionParams](t) }
