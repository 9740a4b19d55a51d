package deepres

import (
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// TestBatch checks LossGradBatch and ForwardBatch against LossGrad and
// Forward sample by sample, over whole and partial tiles
// (gradcheck.CheckBatch), with the tile code and with the per-sample code
// (deepresTiled both ways, whichever the batch methods use here).
func TestBatch(t *testing.T) {
	p, _ := sample(1)
	defer func(tiled bool) { deepresTiled = tiled }(deepresTiled)
	deepresTiled = true
	t.Run("tiles", func(t *testing.T) {
		gradcheck.CheckBatch[DeepresParams, DeepresWorkspace, DeepresBatchWorkspace, DeepresInputs, DeepresOutputs](t, p, func(i int) *DeepresInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
	deepresTiled = false
	t.Run("per-sample", func(t *testing.T) {
		gradcheck.CheckBatch[DeepresParams, DeepresWorkspace, DeepresBatchWorkspace, DeepresInputs, DeepresOutputs](t, p, func(i int) *DeepresInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
}
