package deeprelu

import (
	"testing"

	"github.com/backpropgen/backpropgen/gradcheck"
)

// TestBatch checks LossGradBatch and ForwardBatch against LossGrad and
// Forward sample by sample, over whole and partial tiles
// (gradcheck.CheckBatch), with the tile code and with the per-sample code
// (deepreluTiled both ways, whichever the batch methods use here).
func TestBatch(t *testing.T) {
	p, _ := sample(1)
	defer func(tiled bool) { deepreluTiled = tiled }(deepreluTiled)
	deepreluTiled = true
	t.Run("tiles", func(t *testing.T) {
		gradcheck.CheckBatch[DeepreluParams, DeepreluWorkspace, DeepreluBatchWorkspace, DeepreluInputs, DeepreluOutputs](t, p, func(i int) *DeepreluInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
	deepreluTiled = false
	t.Run("per-sample", func(t *testing.T) {
		gradcheck.CheckBatch[DeepreluParams, DeepreluWorkspace, DeepreluBatchWorkspace, DeepreluInputs, DeepreluOutputs](t, p, func(i int) *DeepreluInputs {
			_, in := sample(int64(i) + 1)
			return in
		})
	})
}
